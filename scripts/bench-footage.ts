// `npm run bench:footage`: seconds of video processed per wall-clock second (the real-time factor) by the
// footage pipeline — FFmpeg sampling at 2 frames per second → person detector (ONNX Runtime, CPU, in the
// encoder process) → ByteTrack → best crops written as JPEG — on synthetic footage at 720p and 1080p, with
// the split of time by stage. Two detectors: the toy detector (what the tests use), and a stand-in of a real
// one's size (YOLOv8n's graph, 8.7 GFLOPs at 640, random weights: its FLOPs are counted and printed), so the
// cost of a real detector is known. Also the decode-only rate (sampling with nothing after it).
// Goal (issue 9): ≥ 10× real time for one 720p camera with the toy detector. Also the footage job itself
// (toy detector, the default 10 s checkpoints taken in stream by one FFmpeg per video, crops written to
// the workspace and committed with the tracker snapshot), printed beside the pipeline's figure with the
// load, so the cost of resumability is known. The job's figure includes its start-up (probe, the detector's
// file check and the encoder process with its session), which the pipeline run does before its clock
// starts; that one-off is measured and printed too. FFmpeg's binaries are inspected once per process (as
// in the app, which runs many jobs), here before the clocks start.
//   --seconds N     video length per resolution (default 20)
//   --sizes LIST    e.g. 720,1080 (default both)
//   --no-stand-in   skip the YOLOv8n-sized detector (the slow part)
//   --rounds N      toy pipeline and job runs, alternated; medians reported (default 3)
// Footage is generated once into bench-results/ and reused. Figures go to bench-results/footage.json.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ByteTracker, CropKeeper, processVideo, type StageTimes } from '../src/main/footage';
import {
  chosenVideoTools,
  describeVideoTools,
  locateVideoTools,
  probeVideo,
  sampleFrames,
  type VideoTools,
} from '../src/main/media/video';
import { loadDetectorFolder, PersonDetector, type DetectorFolder } from '../src/main/ml/detector';
import { generateFootage, FOOTAGE_TRUTH_FILE } from '../src/main/synth/footage';
import { writeStandInDetectorFolder } from '../src/main/synth/stand-in-detector';
import { writeToyDetectorFolder } from '../src/main/synth/toy-detector';
import { openRegisteredDetector, registerDetector } from '../src/main/footage/detectors';
import { startFootage } from '../src/main/jobs/footage';
import { openWorkspace } from '../src/main/workspace';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    sizes: { type: 'string' },
    'no-stand-in': { type: 'boolean' },
    rounds: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds ?? 20);
/** The toy pipeline and the job run this many times, alternately; the median of each is reported. */
const ROUNDS = Math.max(1, Number(values.rounds ?? 3));
const SIZES = (values.sizes ?? '720,1080').split(',').map(Number);
const WIDTH: Record<number, number> = { 360: 640, 720: 1280, 1080: 1920 };

const r2 = (v: number): number => Math.round(v * 100) / 100;

interface Run {
  resolution: string;
  detector: string;
  videoSeconds: number;
  sampledFrames: number;
  wallSeconds: number;
  realTimeFactor: number;
  /** Milliseconds per sampled frame spent waiting on each stage (decode overlaps detection). */
  msPerFrame: Record<keyof StageTimes | 'write', number>;
  tracks: number;
  cropsWritten: number;
  /** Seconds to start the encoder process with the detector and run its first call (before the clock). */
  openSeconds: number;
}

async function footage(tools: VideoTools, height: number): Promise<string> {
  const dir = resolve(ROOT, 'bench-results', `footage-${height}p-${SECONDS}s`);
  if (!existsSync(join(dir, FOOTAGE_TRUTH_FILE))) {
    console.log(`generating ${SECONDS} s of synthetic ${height}p footage in ${dir} …`);
    await generateFootage({
      seed: 1,
      outDir: dir,
      tools,
      cameras: 1,
      durationSeconds: SECONDS,
      width: WIDTH[height]!,
      height,
      overwrite: true,
    });
  }
  return join(dir, 'cam01', 'cam01_20261204_081500.mp4');
}

async function decodeOnly(tools: VideoTools, file: string): Promise<{ seconds: number; frames: number }> {
  const t0 = performance.now();
  let frames = 0;
  for await (const _ of sampleFrames(tools, file, { fps: 2 })) frames++;
  return { seconds: (performance.now() - t0) / 1000, frames };
}

async function run(tools: VideoTools, file: string, height: number, folder: DetectorFolder): Promise<Run> {
  const opened = performance.now();
  const detector = await PersonDetector.open({ modelPath: folder.modelPath, providers: 'cpu' });
  detector.bind(folder.spec);
  const out = mkdtempSync(join(tmpdir(), 'ctgi-bench-footage-'));
  let write = 0;
  let crops = 0;
  try {
    // Warm-up: the first run of a session allocates.
    await detector.detect([{ rgb: new Uint8Array(64 * 64 * 3), width: 64, height: 64 }]);
    const openSeconds = (performance.now() - opened) / 1000;
    const t0 = performance.now();
    const s = await processVideo({
      tools,
      path: file,
      detector,
      tracker: new ByteTracker(),
      keeper: new CropKeeper(),
      sample: { fps: 2 },
      onTrack: async (t) => {
        const w0 = performance.now();
        for (const [k, c] of t.crops.entries()) {
          const jpeg = await sharp(c.rgb, { raw: { width: c.width, height: c.height, channels: 3 } })
            .jpeg({ quality: 90 })
            .toBuffer();
          await writeFile(join(out, `${t.id}-${k}.jpg`), jpeg);
          crops++;
        }
        write += performance.now() - w0;
      },
    });
    const wall = (performance.now() - t0) / 1000;
    const per = (ms: number): number => r2(ms / Math.max(1, s.frames));
    return {
      resolution: `${WIDTH[height]}x${height}`,
      detector: folder.manifest.name,
      videoSeconds: SECONDS,
      sampledFrames: s.frames,
      wallSeconds: r2(wall),
      realTimeFactor: r2(SECONDS / wall),
      msPerFrame: {
        decode: per(s.times.decode),
        detect: per(s.times.detect),
        track: per(s.times.track),
        crop: per(s.times.crop),
        output: per(s.times.output - write),
        write: per(write),
        total: per(s.times.total),
      },
      tracks: s.tracks,
      cropsWritten: crops,
      openSeconds: r2(openSeconds),
    };
  } finally {
    await detector.close();
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * The toy pipeline read in 10 s stretches, FFmpeg started again (with a seek) for each, the tracker carried
 * over: what the footage job did before its checkpoints were taken in stream. Crops are not written.
 */
async function restartedRun(tools: VideoTools, file: string, folder: DetectorFolder): Promise<number> {
  const detector = await PersonDetector.open({ modelPath: folder.modelPath, providers: 'cpu' });
  detector.bind(folder.spec);
  try {
    await detector.detect([{ rgb: new Uint8Array(64 * 64 * 3), width: 64, height: 64 }]);
    const t0 = performance.now();
    const tracker = new ByteTracker();
    const keeper = new CropKeeper();
    let index = 0;
    for (let start = 0; start < SECONDS; start += 10) {
      const last = start + 10 >= SECONDS;
      const s = await processVideo({
        tools,
        path: file,
        detector,
        tracker,
        keeper,
        sample: { fps: 2, start, ...(last ? {} : { end: start + 10 }) },
        firstIndex: index,
        endOfVideo: last,
      });
      index = s.nextIndex;
    }
    return r2(SECONDS / ((performance.now() - t0) / 1000));
  } finally {
    await detector.close();
  }
}

interface JobRun {
  resolution: string;
  checkpointSeconds: number;
  videoSeconds: number;
  wallSeconds: number;
  realTimeFactor: number;
  tracks: number;
  crops: number;
  /** What the job does once before its first frame, timed apart: find FFmpeg, probe, open the detector. */
  startupSeconds: number;
  /** Seconds of video per second between the job's first and last commit (no start-up); null: one commit. */
  inStreamFactor: number | null;
  /** Every round's figure (the rest is the median round's). */
  rounds?: number[];
}

/** The footage job end to end on the folder of one resolution, in a fresh workspace. */
async function jobRun(file: string, height: number, toyDir: string): Promise<JobRun> {
  const scratch = mkdtempSync(join(tmpdir(), 'ctgi-bench-footage-job-'));
  const ws = openWorkspace(join(scratch, 'ws.sqlite'));
  try {
    await registerDetector(ws.db, toyDir);
    const folder = resolve(file, '..', '..');
    const s0 = performance.now();
    const tools = await chosenVideoTools();
    await probeVideo(tools, file);
    const { detector } = await openRegisteredDetector(ws.db, 1, { batchSize: 4 });
    await detector.close();
    const startupSeconds = (performance.now() - s0) / 1000;
    // Each commit moves `done` (seconds of video): the rate between the first and the last is the job's
    // own pace in stream, with no start-up in it.
    const commits: { at: number; done: number }[] = [];
    const off = ws.bus.on('jobs:progress', (j) => {
      if (j.kind === 'footage' && j.done > (commits.at(-1)?.done ?? 0))
        commits.push({ at: performance.now(), done: j.done });
    });
    const t0 = performance.now();
    const { job } = await startFootage(ws, { folder, detector: 1, fps: 2, checkpointSeconds: 10 });
    await ws.jobs.idle();
    off();
    const wall = (performance.now() - t0) / 1000;
    const a = commits[0];
    const b = commits.at(-1);
    const inStream = a && b && b !== a ? (b.done - a.done) / ((b.at - a.at) / 1000) : null;
    const final = ws.jobs.get(job.id);
    if (final.status !== 'done')
      throw new Error(`the footage job ended ${final.status}: ${final.error ?? ''}`);
    const n = (sql: string): number => (ws.db.prepare(sql).get() as { n: number }).n;
    return {
      resolution: `${WIDTH[height]}x${height}`,
      checkpointSeconds: 10,
      videoSeconds: SECONDS,
      wallSeconds: r2(wall),
      realTimeFactor: r2(SECONDS / wall),
      tracks: n('SELECT count(*) AS n FROM tracks'),
      crops: n('SELECT count(*) AS n FROM crops'),
      startupSeconds: r2(startupSeconds),
      inStreamFactor: inStream === null ? null : r2(inStream),
    };
  } finally {
    await ws.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const loadAtStart = Number(loadavg()[0]?.toFixed(1) ?? 0);
  const tools = await locateVideoTools();
  const cache = resolve(ROOT, 'bench-results');
  mkdirSync(cache, { recursive: true });
  const toy = await loadDetectorFolder((await writeToyDetectorFolder(join(cache, 'toy-detector'))).dir);
  let standIn: DetectorFolder | null = null;
  let standInModel: { flops: number; parameters: number } | null = null;
  if (!values['no-stand-in']) {
    const w = await writeStandInDetectorFolder(join(cache, 'yolov8n-stand-in'));
    standInModel = { flops: w.model.flops, parameters: w.model.parameters };
    standIn = await loadDetectorFolder(w.dir);
    console.log(
      `stand-in detector: YOLOv8n's graph at 640×640, ${(w.model.flops / 1e9).toFixed(2)} GFLOPs (2 × multiply-accumulates of its convolutions), ${w.model.parameters.toLocaleString('en')} parameters`,
    );
  }
  const runs: Run[] = [];
  const jobs: JobRun[] = [];
  const restarted: { resolution: string; realTimeFactor: number; rounds: number[] }[] = [];
  const decode: { resolution: string; realTimeFactor: number; sampledFrames: number }[] = [];
  for (const h of SIZES) {
    const file = await footage(tools, h);
    const d = await decodeOnly(tools, file);
    decode.push({
      resolution: `${WIDTH[h]}x${h}`,
      realTimeFactor: r2(SECONDS / d.seconds),
      sampledFrames: d.frames,
    });
    // Alternately, so that the load of a shared machine weighs on both alike; the median run of each.
    const pipelineRounds: Run[] = [];
    const jobRounds: JobRun[] = [];
    const restartedRounds: number[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      pipelineRounds.push(await run(tools, file, h, toy));
      jobRounds.push(await jobRun(file, h, toy.dir));
      restartedRounds.push(await restartedRun(tools, file, toy));
    }
    restarted.push({
      resolution: `${WIDTH[h]}x${h}`,
      realTimeFactor: [...restartedRounds].sort((a, b) => a - b)[restartedRounds.length >> 1]!,
      rounds: restartedRounds,
    });
    const median = <T extends { wallSeconds: number }>(v: T[]): T =>
      [...v].sort((a, b) => a.wallSeconds - b.wallSeconds)[v.length >> 1]!;
    runs.push(median(pipelineRounds));
    jobs.push({ ...median(jobRounds), rounds: jobRounds.map((j) => j.realTimeFactor) });
    console.log(
      `${WIDTH[h]}x${h} rounds (× real time): pipeline ${pipelineRounds.map((r) => r.realTimeFactor).join(', ')}; job ${jobRounds.map((j) => j.realTimeFactor).join(', ')} (between its first and last commit ${jobRounds.map((j) => j.inStreamFactor).join(', ')}); restarted every 10 s ${restartedRounds.join(', ')}`,
    );
    if (standIn) runs.push(await run(tools, file, h, standIn));
  }
  const result = {
    date: new Date().toISOString(),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    loadAverageAtStart: loadAtStart,
    loadAverage: Number(loadavg()[0]?.toFixed(1) ?? 0),
    ffmpeg: describeVideoTools(tools),
    onnxruntimeNode: ort.env.versions.node ?? ort.env.versions.common,
    sampling: '2 frames per second of video (first frame of each 0.5 s), RGB24 over a pipe',
    standIn: standInModel && {
      model: "YOLOv8n's graph (yolov8n.yaml), random weights, input 640×640",
      gflops: r2(standInModel.flops / 1e9),
      parameters: standInModel.parameters,
    },
    decodeOnly: decode,
    runs,
    job: jobs,
    restartedEvery10s: restarted,
  };
  console.table(
    Object.fromEntries(
      runs.map((r) => [
        `${r.resolution} ${r.detector.slice(0, 28)}`,
        {
          '× real time': r.realTimeFactor,
          'decode ms/f': r.msPerFrame.decode,
          'detect ms/f': r.msPerFrame.detect,
          'track ms/f': r.msPerFrame.track,
          'crop ms/f': r.msPerFrame.crop,
          'write ms/f': r.msPerFrame.write,
        },
      ]),
    ),
  );
  for (const j of jobs) {
    const p = runs.find((r) => r.resolution === j.resolution && r.detector === toy.manifest.name)!;
    const steady = SECONDS / Math.max(1e-3, j.wallSeconds - j.startupSeconds);
    console.log(
      `${j.resolution}, toy detector, median of ${ROUNDS}: pipeline ${p.realTimeFactor}× real time; footage job (${j.checkpointSeconds} s checkpoints in stream, ` +
        `crops to the workspace) ${j.realTimeFactor}× real time, ${r2(steady)}× without its one-off start-up, ${j.inStreamFactor}× between its first and last commit ` +
        `(find FFmpeg, probe, encoder process + detector session: ${j.startupSeconds} s, timed apart) (${j.tracks} tracks, ${j.crops} crops); ` +
        `the pipeline restarted every 10 s (FFmpeg seek + start-up per stretch, as the job did before) ` +
        `${restarted.find((r) => r.resolution === j.resolution)?.realTimeFactor}×; load average ${loadAtStart} at the start, ${result.loadAverage} at the end`,
    );
  }
  console.log(
    `decode only (2 fps sampled): ${decode.map((d) => `${d.resolution} ${d.realTimeFactor}× real time`).join(', ')}; ` +
      `load average ${result.loadAverage} on ${result.cpu} (figures on a shared machine are lower bounds)`,
  );
  writeFileSync(join(cache, 'footage.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
