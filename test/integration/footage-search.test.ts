// End to end on the synthetic footage world: the footage job imports the videos (toy detector), the embed
// job embeds the crops (toy CLIP), and a description of a person finds that person's track at R@1 about as
// well as it finds their crop in the crop world of the same people (`npm run eval:toy-clip`'s measure),
// with the camera and the time right; camera and time filters narrow the search. Synthetic figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextSearchResult } from '#shared/search/types';
import { asDatasetId, asImageId, asModelId, type DatasetId, type ModelId } from '#shared/ids';
import { cropRect, DEFAULT_CROP_OPTIONS } from '../../src/main/footage';
import { registerDetector } from '../../src/main/footage/detectors';
import { startEmbed } from '../../src/main/jobs/embed';
import { startFootage } from '../../src/main/jobs/footage';
import { iou } from '../../src/main/ml/detector';
import { registerModel, resolveModelRow } from '../../src/main/ml/models';
import { encodeTexts } from '../../src/main/ml/encoder-pool';
import { getEmbedding } from '../../src/main/db/repos/embeddings';
import { locateVideoTools } from '../../src/main/media/video';
import { searchText, withFootage } from '../../src/main/search/text-search';
import type { MtiSearch } from '#shared/mti/types';
import { FOOTAGE_PATTERN, generateFootage, type FootageTruth } from '../../src/main/synth/footage';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { attributeQuery, evaluateRetrieval, type QuerySet } from '../../src/main/synth/toy-clip/evaluate';
import { writeToyDetectorFolder } from '../../src/main/synth/toy-detector';
import { generateWorld } from '../../src/main/synth/world';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import { createHandlers, dispatch } from '../../src/main/api/handlers';
import { startOracle } from '../../src/main/synth/oracle/server';
import { mediaResponse } from '../../src/main/media/serve';
import sharp from 'sharp';
import { describeOnBothBackends } from '../fixtures/backends';
import { loadFromWorkspace, type VectorRow, type VectorStore } from '../../src/main/vectors';

const SEED = 1;
const SETS = ['top only', 'bottom only', 'shoes only', 'top + bottom'] as const satisfies readonly QuerySet[];

let dir: string;
let truth: FootageTruth;
let ws: Workspace;
let modelId: ModelId;
let datasetId: DatasetId;
let clipDir: string;
/** Each track's true identity (the person most of its crops show), by track id. */
const trackPerson = new Map<number, number>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-footage-search-'));
  truth = await generateFootage({
    seed: SEED,
    outDir: join(dir, 'videos'),
    tools: await locateVideoTools(),
    durationSeconds: 16,
  });
  ws = openWorkspace(join(dir, 'ws.sqlite'));
  await registerDetector(ws.db, (await writeToyDetectorFolder(join(dir, 'toy-detector'))).dir);
  clipDir = (await writeToyClipFolder(join(dir, 'toy-clip'))).dir;
  modelId = asModelId((await registerModel(ws.db, clipDir)).id);
  const started = await startFootage(ws, {
    folder: join(dir, 'videos'),
    detector: 'toy-detector',
    cameraPattern: FOOTAGE_PATTERN,
    utcOffsetMinutes: 0,
    fps: 2,
    checkpointSeconds: 10,
  });
  await ws.jobs.idle();
  expect(ws.jobs.get(started.job.id).status).toBe('done');
  datasetId = started.datasetId;
  const embed = startEmbed(ws, { modelId, datasetId: asDatasetId(datasetId) });
  await ws.jobs.idle();
  expect(ws.jobs.get(embed.job.id).status).toBe('done');

  // Ground truth per crop: the person whose true box at that frame overlaps the crop's box.
  const crops = ws.db
    .prepare(
      `SELECT k.track_id, k.frame_time, k.x1, k.y1, k.x2, k.y2, c.name AS camera
       FROM crops k JOIN tracks t ON t.id = k.track_id JOIN cameras c ON c.id = t.camera_id`,
    )
    .all() as {
    track_id: number;
    frame_time: number;
    x1: number;
    y1: number;
    x2: number;
    y2: number;
    camera: string;
  }[];
  const votes = new Map<number, Map<number, number>>();
  for (const k of crops) {
    const cam = truth.cameras.find((c) => c.name === k.camera)!;
    const frame = Math.round(k.frame_time * truth.fps);
    const who = cam.boxes.find((b) => b.frame === frame && iou(k.x1, k.y1, k.x2, k.y2, ...b.box) >= 0.5);
    if (!who) continue;
    const v = votes.get(k.track_id) ?? new Map<number, number>();
    v.set(who.personId, (v.get(who.personId) ?? 0) + 1);
    votes.set(k.track_id, v);
  }
  for (const [track, v] of votes) trackPerson.set(track, [...v.entries()].sort((a, b) => b[1] - a[1])[0]![0]);
}, 300_000);
afterAll(async () => {
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

const search = (
  query: string,
  extra: Partial<Parameters<typeof searchText>[1]> = {},
): Promise<TextSearchResult> => searchText(ws, { modelId, query, k: 50, datasetId, ...extra });

/** The query's text vector, as the search makes it. */
const queryVector = async (query: string): Promise<Float32Array> =>
  (await encodeTexts(await ws.services.encoders.get(resolveModelRow(ws.db, modelId)), [query])).vectors[0]!;

/** People seen by the cameras whose track kept at least one crop. */
const seenPeople = (): FootageTruth['people'] =>
  truth.people.filter((p) => [...trackPerson.values()].includes(p.personId));

describe('footage search end to end (synthetic footage, toy detector, toy CLIP)', () => {
  it('finds the described person’s track at R@1 about as well as the crop world of the same people does', async () => {
    const people = seenPeople();
    expect(people.length).toBeGreaterThanOrEqual(6);
    // The crop world of the same people: identity i is the same person in both worlds (same seed).
    const worldDir = join(dir, 'world');
    await generateWorld({
      outDir: worldDir,
      identities: Math.max(...truth.people.map((p) => p.personId)) + 1,
      views: 3,
      seed: SEED,
      splits: { train: 0, val: 0, test: 1 },
    });
    const cropWorld = await evaluateRetrieval({ worldDir, modelDir: clipDir, sets: SETS, providers: 'cpu' });
    const lines: string[] = [];
    const figures: { set: string; footageR1: number; cropR1: number }[] = [];
    for (const set of SETS) {
      let hits = 0;
      for (const p of people) {
        const r = await search(attributeQuery(set, p.attributes));
        const top = r.tracks[0];
        expect(top, `${set}: ${p.personId}`).toBeDefined();
        if (trackPerson.get(top!.trackId) === p.personId) hits++;
        else if (process.env.FOOTAGE_DEBUG)
          console.info(
            set,
            p.personId,
            JSON.stringify(p.attributes),
            'top track person',
            trackPerson.get(top!.trackId),
            'right rank',
            r.tracks.findIndex((t) => trackPerson.get(t.trackId) === p.personId),
            r.tracks
              .slice(0, 4)
              .map((t) => `${t.camera}:${trackPerson.get(t.trackId)}:${t.score.toFixed(3)}`)
              .join(' '),
          );
      }
      const footageR1 = (100 * hits) / people.length;
      const crop = cropWorld.rows.find((row) => row.set === set)!;
      lines.push(
        `${set.padEnd(13)} footage tracks R@1 ${footageR1.toFixed(1)}  crop world R@1 ${crop.r1.toFixed(1)}`,
      );
      figures.push({ set, footageR1, cropR1: crop.r1 });
    }
    const table = `synthetic figures, ${people.length} people seen by ${truth.cameras.length} cameras:\n${lines.join('\n')}`;
    console.info(table);
    // "As well as the crop world": within 15 points of it on the same people (or better): 7 people here, so
    // one person is 14.3 points. Measured at seed 1: top 71.4 vs 70.0, bottom 57.1 vs 70.0, shoes 57.1 vs
    // 70.0 (28.6 while crops were cut with 5 % margins, which put the toy CLIP's shoe rows below the feet;
    // over seeds 1–5, `npm run eval:footage-search`: shoes 63.9 vs 66.7). Top + bottom is printed, not held
    // (57.1 vs 90.0): both garments must read right, and for people carrying a bag they often do not — the
    // detector's box takes the bag in, so the body sits off the crop's centre, where the crop world keeps
    // it (the eval script measures both).
    for (const f of figures) expect(f.footageR1, table).toBeGreaterThanOrEqual(f.cropR1 - 15);
  });

  it('embeds two views of every kept crop beside it (only their vectors: no library images)', () => {
    const count = (sql: string): number => ws.db.prepare(sql).pluck().get() as number;
    const crops = count('SELECT count(*) FROM crops');
    expect(crops).toBeGreaterThan(0);
    expect(count(`SELECT count(*) FROM crop_view_embeddings WHERE model_id = ${Number(modelId)}`)).toBe(
      2 * crops,
    );
    expect(count(`SELECT count(*) FROM images WHERE dataset_id = ${Number(datasetId)}`)).toBe(crops);
  });

  it('loads a vector store from the workspace in pages: every row, views too, with no statement open between pages', async () => {
    const got: VectorRow[] = [];
    let writes = 0;
    // A store whose writes also write to the workspace's connection, which fails ("busy") while a statement
    // of the load is still open: LanceDB awaits between pages, so the load must not hold one.
    const store = {
      dim: resolveModelRow(ws.db, modelId).embedding_dim,
      count: () => Promise.resolve(got.length),
      upsert: (rows: readonly VectorRow[]) => {
        ws.db.prepare('CREATE TEMP TABLE IF NOT EXISTS load_probe (x)').run();
        writes++;
        got.push(...rows);
        return Promise.resolve();
      },
      finish: () => Promise.resolve(),
    } as unknown as VectorStore;
    expect(await loadFromWorkspace(ws.db, modelId, store, 7)).toBe(got.length);
    const count = (table: string): number =>
      ws.db.prepare(`SELECT count(*) FROM ${table} WHERE model_id = ?`).pluck().get(modelId) as number;
    expect(got.length).toBe(count('embeddings') + count('crop_view_embeddings'));
    expect(writes).toBeGreaterThan(2);
    // Image id order, each image's own vector (view 0) before its views.
    const keys = got.map((r) => [r.imageId, r.view]);
    expect(keys).toEqual([...keys].sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!));
    expect(new Set(got.filter((r) => r.view > 0).map((r) => r.camera)).size).toBe(truth.cameras.length);
  });

  it('ranks a crop by the best of its own and its views’ vectors, in every mode and for a short list as a long one', async () => {
    let raised = 0;
    for (const p of seenPeople())
      for (const set of SETS) {
        const q = attributeQuery(set, p.attributes);
        const v = await queryVector(q);
        // k = 50 holds every crop here; each crop's score is at least its own vector's.
        const all = (await search(q, { mode: 'exact' })).results.map((h) => [h.image.id, h.score] as const);
        for (const [id, score] of all) {
          const own = getEmbedding(ws.db, modelId, asImageId(id))!.reduce((a, x, j) => a + x * v[j]!, 0);
          expect(score, q).toBeGreaterThanOrEqual(own - 1e-6);
          if (score > own + 1e-6) raised++;
        }
        // A crop outside the top 3 by its own vector comes in when one of its views beats them.
        const few = (await search(q, { mode: 'exact', k: 3 })).results.map((h) => [h.image.id, h.score]);
        expect(few, q).toEqual(all.slice(0, 3));
        // sqlite-vec's exact scan (no cache) scores each crop by the same best-of-rows rule (in float32, so
        // near ties may swap: the scores in rank order and the crops are compared, not their exact order).
        const viaSqlite = (await search(q, { mode: 'sqlite' })).results;
        expect(new Set(viaSqlite.map((h) => h.image.id)), q).toEqual(new Set(all.map(([id]) => id)));
        viaSqlite.forEach((h, i) => expect(h.score, q).toBeCloseTo(all[i]![1], 5));
        const best = new Map(all);
        for (const h of viaSqlite) expect(h.score, q).toBeCloseTo(best.get(h.image.id)!, 5);
      }
    expect(raised).toBeGreaterThan(0);
  });

  it('gives each hit its camera and wall-clock time, as the truth says, and groups hits by track', async () => {
    const p = seenPeople()[0]!;
    const r = await search(attributeQuery('top + bottom', p.attributes));
    expect(r.results.length).toBeGreaterThan(3);
    for (const h of r.results) {
      const f = h.footage!;
      expect(f, `image ${h.image.id}`).toBeDefined();
      expect(h.image.personId).toBe(
        `${f.camera}/v${f.videoId}/t${(ws.db.prepare('SELECT tracker_id FROM tracks WHERE id = ?').get(f.trackId) as { tracker_id: number }).tracker_id}`,
      );
      const cam = truth.cameras.find((c) => c.name === f.camera)!;
      // The wall clock: the recording's start from its name (UTC here) plus the frame's time.
      expect(f.timeMs).toBe(Date.parse(`${cam.startLocal}Z`) + Math.round(f.frameTime * 1000));
      const frame = Math.round(f.frameTime * truth.fps);
      const person = trackPerson.get(f.trackId);
      if (person === undefined) continue;
      const box = cam.boxes.find((b) => b.frame === frame && b.personId === person);
      expect(box, `track ${f.trackId} at ${f.frameTime}`).toBeDefined();
      expect(iou(...f.box, ...box!.box)).toBeGreaterThanOrEqual(0.5);
    }
    // Groups: one per track, in the order of each track's best hit, covering every hit once.
    const ranks = r.tracks.flatMap((t) => t.ranks).sort((a, b) => a - b);
    expect(ranks).toEqual(r.results.map((h) => h.rank));
    expect(r.tracks.map((t) => t.rank)).toEqual([...r.tracks.map((t) => t.rank)].sort((a, b) => a - b));
    expect(new Set(r.tracks.map((t) => t.trackId)).size).toBe(r.tracks.length);
    for (const t of r.tracks) expect(t.firstMs! <= t.lastMs!).toBe(true);
  });

  it('opens a hit on its whole frame (the media route) where its box shows the crop, and steps through its track', async () => {
    const p = seenPeople()[0]!;
    const r = await search(attributeQuery('top only', p.attributes));
    const hit = r.results[0]!;
    const { origin, track } = await createHandlers(ws)['footage:origin']({ imageId: hit.image.id });
    expect(origin).toEqual(hit.footage);
    expect(track.length).toBeGreaterThanOrEqual(1);
    expect(track.map((t) => t.frameTime)).toEqual([...track.map((t) => t.frameTime)].sort((a, b) => a - b));
    expect(new Set(track.map((t) => t.trackId))).toEqual(new Set([origin.trackId]));
    expect(track.some((t) => t.imageId === hit.image.id)).toBe(true);

    const frame = await mediaResponse(ws, hit.image.id, 'frame');
    expect(frame.status).toBe(200);
    expect(frame.headers['content-type']).toBe('image/jpeg');
    const decoded = await sharp(frame.body).raw().toBuffer({ resolveWithObject: true });
    expect([decoded.info.width, decoded.info.height]).toEqual([truth.width, truth.height]);
    expect([origin.frameWidth, origin.frameHeight]).toEqual([truth.width, truth.height]);
    // The box's pixels in the frame are the crop's (both JPEG: close, not equal).
    const [x1, y1, x2, y2] = origin.box.map(Math.round) as [number, number, number, number];
    const w = x2 - x1;
    const h = y2 - y1;
    const inFrame = await sharp(frame.body)
      .extract({ left: x1, top: y1, width: w, height: h })
      .raw()
      .toBuffer();
    const full = await mediaResponse(ws, hit.image.id, 'full');
    const crop = sharp(full.body);
    const meta = await crop.metadata();
    // The crop is the box framed as the crop keeper frames it (margin, then widened to its aspect): cut
    // the same box out of it.
    const rect = cropRect(
      { x1: origin.box[0], y1: origin.box[1], x2: origin.box[2], y2: origin.box[3] },
      DEFAULT_CROP_OPTIONS.margin,
      DEFAULT_CROP_OPTIONS.aspect ?? null,
    );
    expect([meta.width, meta.height]).toEqual([rect.width, rect.height]);
    const mx = x1 - rect.x;
    const my = y1 - rect.y;
    const inCrop = await crop
      .extract({
        left: mx,
        top: my,
        width: Math.min(w, meta.width! - mx),
        height: Math.min(h, meta.height! - my),
      })
      .resize(w, h)
      .raw()
      .toBuffer();
    let diff = 0;
    for (let i = 0; i < inFrame.length; i++) diff += Math.abs(inFrame[i]! - inCrop[i]!);
    expect(diff / inFrame.length).toBeLessThan(12);
    // Another place in the frame is not the crop.
    const elsewhere = await sharp(frame.body)
      .extract({ left: x1 < truth.width / 2 ? truth.width - w - 1 : 0, top: y1, width: w, height: h })
      .raw()
      .toBuffer();
    let other = 0;
    for (let i = 0; i < elsewhere.length; i++) other += Math.abs(elsewhere[i]! - inCrop[i]!);
    expect(other / elsewhere.length).toBeGreaterThan(diff / inFrame.length + 10);

    const notCrop = await mediaResponse(ws, 999_999, 'frame');
    expect(notCrop.status).toBe(404);
  });

  it('gives MTI’s re-ranked rows the same camera, time, box and track grouping as the plain ranking', async () => {
    const p = seenPeople()[1]!;
    const q = attributeQuery('bottom only', p.attributes);
    const r = await search(q);
    // An MTI search as stored (no footage in its rows): its rows in the plain ranking's order.
    const stored: MtiSearch = {
      id: 1,
      modelId,
      modelName: 'toy',
      datasetId: null,
      query: q,
      vqaEndpoint: null,
      aggregatorEndpoint: null,
      transcript: {} as MtiSearch['transcript'],
      refined: null,
      results: r.results.map((h) => ({
        rank: h.rank,
        image: h.image,
        base: h.score,
        refined: null,
        fused: h.score,
        anchor: false,
        baseRank: h.rank,
      })),
      status: 'done',
      createdAt: 0,
      updatedAt: 0,
    };
    const shown = withFootage(ws.db, stored);
    expect(shown.results.map((x) => x.footage)).toEqual(r.results.map((h) => h.footage));
    expect(shown.tracks).toEqual(r.tracks);
    expect(shown.tracks!.length).toBeGreaterThan(1);
  });
});

describe('MTI over footage, scoped by camera and time', () => {
  it('ranks and asks the MLLM about only the chosen camera’s crops, and keeps that scope when reopened', async () => {
    const oracle = await startOracle({ seed: 3 }); // no world: it answers from the crops' pixels
    try {
      const handlers = createHandlers(ws);
      const saved = await dispatch(handlers, 'endpoints:save', {
        name: 'footage-oracle',
        baseUrl: oracle.url,
        model: 'oracle-vl',
      });
      expect(saved.ok, JSON.stringify(saved)).toBe(true);
      const cam = truth.cameras[1]!;
      const q = attributeQuery('top only', seenPeople()[0]!.attributes);
      const started = await dispatch(handlers, 'mti:start', {
        modelId,
        query: q,
        datasetId,
        cameras: [cam.name],
        vqaEndpoint: 'footage-oracle',
        aggregatorEndpoint: 'footage-oracle',
        params: { rounds: 1 },
        results: 50,
      });
      expect(started.ok, JSON.stringify(started)).toBe(true);
      const s = (started as { ok: true; value: MtiSearch }).value;
      const cropsOfCam = ws.db
        .prepare(
          `SELECT count(*) FROM crops k JOIN tracks t ON t.id = k.track_id JOIN cameras c ON c.id = t.camera_id
             WHERE c.name = ?`,
        )
        .pluck()
        .get(cam.name) as number;
      expect(s.results.length).toBe(Math.min(50, cropsOfCam));
      expect(new Set(s.results.map((r) => r.footage!.camera))).toEqual(new Set([cam.name]));
      // MTI scores the crops as the search does: each by the best of its own and its views' vectors.
      const plain = new Map(
        (await search(q, { cameras: [cam.name], mode: 'exact' })).results.map((h) => [h.image.id, h.score]),
      );
      for (const r of s.results) expect(r.base).toBeCloseTo(plain.get(r.image.id)!, 5);
      const anchor = s.transcript.rounds[0]?.anchor;
      if (anchor)
        expect(s.results.find((r) => r.image.id === anchor.imageId)?.footage?.camera).toBe(cam.name);
      expect(s.transcript.footage).toEqual({ cameras: [cam.name] });
      // Another round after the session is gone (a restart): the search still ranks that camera only.
      ws.mti.delete(s.id);
      const more = await dispatch(handlers, 'mti:step', { id: s.id, action: { kind: 'next-round' } });
      expect(more.ok, JSON.stringify(more)).toBe(true);
      const m = (more as { ok: true; value: MtiSearch }).value;
      expect(new Set(m.results.map((r) => r.footage!.camera))).toEqual(new Set([cam.name]));
      // A scope nothing was seen in is refused with what to do.
      const none = await dispatch(handlers, 'mti:start', {
        modelId,
        query: q,
        fromMs: Date.parse('2020-01-01T00:00:00Z'),
        toMs: Date.parse('2020-01-02T00:00:00Z'),
        vqaEndpoint: 'footage-oracle',
        aggregatorEndpoint: 'footage-oracle',
      });
      expect(none.ok).toBe(false);
      expect(JSON.stringify(none)).toMatch(
        /No footage crop from 2020-01-01.*Widen the camera or time filter/,
      );
    } finally {
      await oracle.close();
    }
  });
});

describeOnBothBackends('footage search filters', { timeout: 120_000 }, (_backend, record) => {
  it('filters by camera and by time range', async () => {
    const p = seenPeople()[0]!;
    const q = attributeQuery('top only', p.attributes);
    const cam = truth.cameras[1]!;
    const only = await search(q, { cameras: [cam.name] });
    expect(only.results.length).toBeGreaterThan(0);
    expect(new Set(only.results.map((h) => h.footage!.camera))).toEqual(new Set([cam.name]));
    const start = Date.parse(`${cam.startLocal}Z`);
    const window = await search(q, { fromMs: start + 4000, toMs: start + 8000 });
    expect(window.results.length).toBeGreaterThan(0);
    for (const h of window.results) {
      expect(h.footage!.timeMs!).toBeGreaterThanOrEqual(start + 4000);
      expect(h.footage!.timeMs!).toBeLessThanOrEqual(start + 8000);
    }
    const none = await search(q, {
      fromMs: Date.parse('2020-01-01T00:00:00Z'),
      toMs: Date.parse('2020-01-02T00:00:00Z'),
    });
    expect(none.results).toEqual([]);
    // The same filtered rankings, exact, on both backends (LanceDB filters inside its search).
    const ranked = async (extra: Partial<Parameters<typeof searchText>[1]>): Promise<unknown[]> =>
      (await search(q, { ...extra, mode: 'exact' })).results.map((h) => [h.image.id, h.score]);
    record('one camera', await ranked({ cameras: [cam.name] }));
    record('a time window', await ranked({ fromMs: start + 4000, toMs: start + 8000 }));
    record('no filter', await ranked({}));
  });
});
