// `npm run eval:footage-search`: footage search against the crop world, per kind of description, on the
// synthetic footage world (synthetic figures). For each seed: render 3 cameras × 16 s, run the footage job
// (toy detector) and the embed job (toy CLIP) through the workspace as a user would, then ask for each
// person seen "a person with black shoes" (and the other kinds) and count a hit when the first track is
// theirs (R@1 over tracks); the crop world of the same people (`npm run eval:toy-clip`'s measure) is
// evaluated beside it. Also why the two differ, from the kept crops themselves: where the person's true box
// lands in the crop (the crop world's people reach from about 0.025 to 0.98 of the picture's height, the
// rows the toy CLIP reads are fixed fractions of it), and how often the toy CLIP's recipe
// (layout.readColours, on the crop resized to its 384×128) reads each garment's colour right, split by
// whether the person carries a bag (a bag widens the detector's box to one side, so the body is off the
// crop's centre, where the crop world always has it).
//   --seeds LIST        default 1,2,3,4,5
//   --seconds N         video length per camera (default 16, as the test)
//   --legacy-framing    crops cut as before (the box + 5 % each side, its own aspect), to compare
//   --json              print the figures as JSON too
// The footage figures are the search's as shipped: each crop ranks by the best of its own vector and its two
// views' (src/main/footage/views.ts). The same searches are then run again in the same workspace with the
// views' vectors deleted, so one run shows what the views add ("without views").
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { asDatasetId, asModelId } from '#shared/ids';
import { cropRect, DEFAULT_CROP_OPTIONS } from '../src/main/footage';
import { registerDetector } from '../src/main/footage/detectors';
import { startEmbed } from '../src/main/jobs/embed';
import { startFootage } from '../src/main/jobs/footage';
import { iou } from '../src/main/ml/detector';
import { registerModel } from '../src/main/ml/models';
import { locateVideoTools } from '../src/main/media/video';
import { searchText } from '../src/main/search/text-search';
import { FOOTAGE_PATTERN, generateFootage } from '../src/main/synth/footage';
import { readColours } from '../src/main/synth/layout';
import { writeToyClipFolder } from '../src/main/synth/toy-clip';
import { attributeQuery, evaluateRetrieval, type QuerySet } from '../src/main/synth/toy-clip/evaluate';
import { writeToyDetectorFolder } from '../src/main/synth/toy-detector';
import { renderPerson } from '../src/main/synth/render';
import { generateWorld, planWorld } from '../src/main/synth/world';
import { openWorkspace } from '../src/main/workspace';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3,4,5' },
    seconds: { type: 'string', default: '16' },
    'legacy-framing': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const SEEDS = values.seeds.split(',').map(Number);
const SECONDS = Number(values.seconds);
const SETS = ['top only', 'bottom only', 'shoes only', 'top + bottom'] as const satisfies readonly QuerySet[];
if (values['legacy-framing']) Object.assign(DEFAULT_CROP_OPTIONS, { margin: 0.05, aspect: null });

interface Tally {
  hits: number;
  queries: number;
}
const footage = new Map<string, Tally>();
/** The same searches with the crops' views deleted. */
const withoutViews = new Map<string, Tally>();
let viewCount = 0;
/** The detector's box w/h of the kept crops, by bag or none. */
const aspects = new Map<string, number[]>();
const crops = new Map<string, Tally>();
const reading = new Map<string, { top: number; bottom: number; shoes: number; n: number }>();
const feet: number[] = [];
const heads: number[] = [];
/** The true box's centre across the crop (0.5: centred), by bag or none; footage and crop world. */
const centres = new Map<string, number[]>();
const push = (k: string, v: number): void => void centres.set(k, [...(centres.get(k) ?? []), v]);
const worldFeet: number[] = [];
const worldHeads: number[] = [];
const add = (m: Map<string, Tally>, k: string, hits: number, queries: number): void => {
  const t = m.get(k) ?? { hits: 0, queries: 0 };
  t.hits += hits;
  t.queries += queries;
  m.set(k, t);
};

const loadAtStart = loadavg()[0]!;
const tools = await locateVideoTools();
for (const seed of SEEDS) {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-eval-footage-search-'));
  const ws = openWorkspace(join(dir, 'ws.sqlite'));
  try {
    process.stderr.write(`seed ${seed}: rendering, footage job, embedding …\n`);
    const truth = await generateFootage({
      seed,
      outDir: join(dir, 'videos'),
      tools,
      durationSeconds: SECONDS,
    });
    await registerDetector(ws.db, (await writeToyDetectorFolder(join(dir, 'toy-detector'))).dir);
    const clipDir = (await writeToyClipFolder(join(dir, 'toy-clip'))).dir;
    const modelId = asModelId((await registerModel(ws.db, clipDir)).id);
    const started = await startFootage(ws, {
      folder: join(dir, 'videos'),
      detector: 'toy-detector',
      cameraPattern: FOOTAGE_PATTERN,
      utcOffsetMinutes: 0,
      fps: 2,
      checkpointSeconds: 10,
    });
    await ws.jobs.idle();
    if (ws.jobs.get(started.job.id).status !== 'done')
      throw new Error(`seed ${seed}: the footage job failed`);
    startEmbed(ws, { modelId, datasetId: asDatasetId(started.datasetId) });
    await ws.jobs.idle();

    // Each kept crop's true person (its box over the truth box at that frame), and each track's by vote.
    const rows = ws.db
      .prepare(
        `SELECT k.track_id, k.frame_time, k.x1, k.y1, k.x2, k.y2, c.name AS camera, i.rel_path
         FROM crops k JOIN tracks t ON t.id = k.track_id JOIN cameras c ON c.id = t.camera_id
         JOIN images i ON i.id = k.image_id`,
      )
      .all() as {
      track_id: number;
      frame_time: number;
      x1: number;
      y1: number;
      x2: number;
      y2: number;
      camera: string;
      rel_path: string;
    }[];
    const votes = new Map<number, Map<number, number>>();
    for (const k of rows) {
      const cam = truth.cameras.find((c) => c.name === k.camera)!;
      const frame = Math.round(k.frame_time * truth.fps);
      const who = cam.boxes.find((b) => b.frame === frame && iou(k.x1, k.y1, k.x2, k.y2, ...b.box) >= 0.5);
      if (!who) continue;
      const v = votes.get(k.track_id) ?? new Map<number, number>();
      v.set(who.personId, (v.get(who.personId) ?? 0) + 1);
      votes.set(k.track_id, v);
      // Where the true person lies in the crop, and what the toy CLIP's recipe reads from it.
      const rect = cropRect(
        { x1: k.x1, y1: k.y1, x2: k.x2, y2: k.y2 },
        DEFAULT_CROP_OPTIONS.margin,
        DEFAULT_CROP_OPTIONS.aspect ?? null,
      );
      const y0 = values['legacy-framing'] ? Math.max(0, rect.y) : rect.y;
      const { data, info } = await sharp(await readFile(join(ws.mediaDir, k.rel_path)))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      heads.push((who.box[1] - y0) / info.height);
      const x0 = values['legacy-framing'] ? Math.max(0, rect.x) : rect.x;
      const bagged = truth.people.find((p) => p.personId === who.personId)!.attributes.bag.type !== 'none';
      push(`footage ${bagged ? 'with a bag' : 'no bag'}`, ((who.box[0] + who.box[2]) / 2 - x0) / info.width);
      aspects.set(bagged ? 'with a bag' : 'no bag', [
        ...(aspects.get(bagged ? 'with a bag' : 'no bag') ?? []),
        (k.x2 - k.x1) / (k.y2 - k.y1),
      ]);
      feet.push((who.box[3] - y0) / info.height);
      const resized = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
        .resize(128, 384, { fit: 'fill' })
        .raw()
        .toBuffer();
      const read = readColours(resized, 128, 384, 3);
      const a = truth.people.find((p) => p.personId === who.personId)!.attributes;
      const key = a.bag.type === 'none' ? 'no bag' : 'with a bag';
      const r = reading.get(key) ?? { top: 0, bottom: 0, shoes: 0, n: 0 };
      r.n++;
      if (read.top === a.top.colour) r.top++;
      if (read.bottom === a.bottom.colour) r.bottom++;
      if (read.shoes === a.shoes.colour) r.shoes++;
      reading.set(key, r);
    }
    const trackPerson = new Map<number, number>();
    for (const [track, v] of votes)
      trackPerson.set(track, [...v.entries()].sort((x, y) => y[1] - x[1])[0]![0]);
    const seen = truth.people.filter((p) => [...trackPerson.values()].includes(p.personId));

    const worldDir = join(dir, 'world');
    await generateWorld({
      outDir: worldDir,
      identities: Math.max(...truth.people.map((p) => p.personId)) + 1,
      views: 3,
      seed,
      splits: { train: 0, val: 0, test: 1 },
    });
    // The crop world's framing, from its renderer's own label map (the person's pixels).
    const plan = planWorld({
      identities: Math.max(...truth.people.map((p) => p.personId)) + 1,
      views: 3,
      seed,
      splits: { train: 0, val: 0, test: 1 },
    });
    const byId = new Map(plan.identities.map((p) => [p.personId, p]));
    for (const img of plan.images) {
      const person = byId.get(img.personId)!;
      const { labels } = renderPerson(
        { ...img.scene, attributes: person.attributes, skin: person.skin },
        plan.size,
      );
      const { width: W, height: H } = plan.size;
      let [bx1, by1, bx2, by2] = [W, H, 0, 0];
      for (let i = 0; i < labels.length; i++) {
        if (!labels[i]) continue;
        const x = i % W;
        const y = Math.floor(i / W);
        bx1 = Math.min(bx1, x);
        by1 = Math.min(by1, y);
        bx2 = Math.max(bx2, x + 1);
        by2 = Math.max(by2, y + 1);
      }
      worldHeads.push(by1 / H);
      worldFeet.push(by2 / H);
      push(
        `crop world ${person.attributes.bag.type === 'none' ? 'no bag' : 'with a bag'}`,
        (bx1 + bx2) / 2 / W,
      );
    }
    const world = await evaluateRetrieval({ worldDir, modelDir: clipDir, sets: SETS, providers: 'cpu' });
    /** R@1 over tracks of the seen people for one kind of description, through the search. */
    const trackR1 = async (set: (typeof SETS)[number]): Promise<number> => {
      let hits = 0;
      for (const p of seen) {
        const r = await searchText(ws, {
          modelId,
          query: attributeQuery(set, p.attributes),
          k: 50,
          datasetId: started.datasetId,
        });
        if (trackPerson.get(r.tracks[0]?.trackId ?? -1) === p.personId) hits++;
      }
      return hits;
    };
    for (const set of SETS) {
      add(footage, set, await trackR1(set), seen.length);
      const row = world.rows.find((x) => x.set === set)!;
      add(crops, set, (row.r1 / 100) * row.queries, row.queries);
    }
    viewCount += ws.db.prepare('DELETE FROM crop_view_embeddings').run().changes;
    for (const set of SETS) add(withoutViews, set, await trackR1(set), seen.length);
  } finally {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (t: Tally | undefined): number => (t && t.queries ? (100 * t.hits) / t.queries : 0);
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
const framing = values['legacy-framing']
  ? 'legacy framing (box + 5 % each side, its own aspect)'
  : `framing: box + ${DEFAULT_CROP_OPTIONS.margin * 100} % each side, widened to ${DEFAULT_CROP_OPTIONS.aspect?.toFixed(3)} (w/h)`;
const people = footage.get(SETS[0])?.queries ?? 0;
console.log(
  `footage search vs the crop world, R@1 (synthetic; seeds ${SEEDS.join(',')}, 3 cameras × ${SECONDS} s each, ` +
    `${people} person queries on footage; ${framing}):`,
);
for (const set of SETS)
  console.log(
    `  ${set.padEnd(13)} footage tracks ${pct(footage.get(set)).toFixed(1).padStart(5)}   crop world ${pct(crops.get(set)).toFixed(1).padStart(5)}` +
      `   footage without the crops' views ${pct(withoutViews.get(set)).toFixed(1).padStart(5)}`,
  );
console.log(
  `  (${viewCount} view vectors: two per kept crop, 1:3 windows on the left and right half of its box)`,
);
console.log(
  `kept crops: the true person's top at ${mean(heads).toFixed(3)}, feet at ${mean(feet).toFixed(3)} of the crop's height ` +
    `(the crop world: ${mean(worldHeads).toFixed(3)} and ${mean(worldFeet).toFixed(3)}; the toy CLIP reads shoes at 0.945–0.968)`,
);
const spread = (v: number[]): string => {
  const m = mean(v);
  return `${m.toFixed(3)} (mean |off centre| ${mean(v.map((x) => Math.abs(x - 0.5))).toFixed(3)})`;
};
for (const [k, v] of [...centres.entries()].sort())
  console.log(`  the person's whole box (bag included) centred across the picture at x = ${spread(v)}: ${k}`);
for (const [k, v] of [...aspects.entries()].sort())
  console.log(
    `  the detector's box w/h of kept crops, ${k.padEnd(10)}: mean ${mean(v).toFixed(3)}, ` +
      `${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)} (the crop's 1:3 is 0.333)`,
  );
for (const [k, r] of [...reading.entries()].sort())
  console.log(
    `  colours read right from kept crops, ${k.padEnd(10)} (${r.n} crops): top ${((100 * r.top) / r.n).toFixed(1)} %, ` +
      `bottom ${((100 * r.bottom) / r.n).toFixed(1)} %, shoes ${((100 * r.shoes) / r.n).toFixed(1)} %`,
  );
console.log(`load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
if (values.json)
  console.log(
    JSON.stringify(
      {
        seeds: SEEDS,
        framing,
        r1: Object.fromEntries(
          SETS.map((s) => [
            s,
            {
              footage: pct(footage.get(s)),
              cropWorld: pct(crops.get(s)),
              withoutViews: pct(withoutViews.get(s)),
            },
          ]),
        ),
        reading: Object.fromEntries(reading),
      },
      null,
      2,
    ),
  );
