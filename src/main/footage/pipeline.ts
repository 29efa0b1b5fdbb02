// One video through the footage pipeline: sample frames (FFmpeg) → detect people (the detector in the
// encoder process) → track (ByteTrack) → keep the best crops of each track. Everything it uses is passed
// in, and what it finds goes out through callbacks, so a job can store it (and a test can check it)
// without this module knowing about either. Decoding the next frames overlaps detection of the current
// ones: FFmpeg runs in its own process, the detector in the encoder process.
import { sampleFrames, type SampledFrame, type SampleOptions, type VideoTools } from '../media/video';
import type { Detection } from '../ml/detector/spec';
import { CropKeeper, type CropCandidate } from './best-crops';
import type { ByteTracker, FinishedTrack } from './tracker';

/** What the pipeline needs of a detector (PersonDetector is one). */
export interface FrameDetector {
  detect(frames: readonly { rgb: Uint8Array; width: number; height: number }[]): Promise<Detection[][]>;
}

export interface FrameResult {
  /** The tracker's frame number: the sample index, counted on from firstIndex. */
  index: number;
  time: number;
  width: number;
  height: number;
  detections: Detection[];
  /** Per detection: its track, or null. */
  trackOf: (number | null)[];
}

export interface TrackResult extends FinishedTrack {
  crops: CropCandidate[];
}

/** Wall-clock milliseconds spent waiting on each stage (decode and detect overlap; their sum can exceed the total). */
export interface StageTimes {
  decode: number;
  detect: number;
  track: number;
  crop: number;
  /** The caller's callbacks (storing crops, writing files). */
  output: number;
  total: number;
}

export interface ProcessOptions {
  tools: VideoTools;
  path: string;
  detector: FrameDetector;
  tracker: ByteTracker;
  keeper?: CropKeeper;
  sample?: Omit<SampleOptions, 'signal'>;
  /** Frames per detector call. */
  batch?: number;
  /**
   * The tracker's frame number of the first sample (a run resumed after `n` samples passes `n`, so the lost
   * buffer counts on). Default 0.
   */
  firstIndex?: number;
  /**
   * Whether this run reaches the end of the video: then every track ends with it. A run over a stretch
   * (`sample.end`, or one a job will resume) passes false, and the tracker and keeper carry on next time.
   * Default true.
   */
  endOfVideo?: boolean;
  signal?: AbortSignal;
  /**
   * Checkpoints in stream: before the first frame at or past each `from + k·every` seconds (k ≥ 1), the
   * pipeline stops and awaits `commit` with that boundary (the last one crossed, when a gap crosses several)
   * and the tracker's frame number of that frame. At that moment every frame before the boundary has been
   * tracked, every track ended so far has gone out through onTrack, and the tracker and keeper hold the
   * state of all frames before it and nothing after: a run started again with `sample.start` = `seconds`,
   * `firstIndex` = `nextIndex` and their snapshots reads on exactly as this one does. FFmpeg is not
   * restarted; it waits on its pipe while the commit runs.
   */
  checkpoint?: {
    every: number;
    from: number;
    commit: (at: { seconds: number; nextIndex: number }) => void | Promise<void>;
  };
  onFrame?: (f: FrameResult, frame: SampledFrame) => void | Promise<void>;
  /** A track ended (or the video did): its observations and kept crops. */
  onTrack?: (t: TrackResult) => void | Promise<void>;
}

export interface ProcessSummary {
  frames: number;
  /** The firstIndex of the run that carries on from here. */
  nextIndex: number;
  /** Time of the last frame processed (seconds from the video's start), or null. */
  lastTime: number | null;
  tracks: number;
  times: StageTimes;
}

/** Runs one video to its end (or `sample.end`), ending every track at the end. */
export async function processVideo(o: ProcessOptions): Promise<ProcessSummary> {
  const keeper = o.keeper ?? new CropKeeper();
  const batch = Math.max(1, o.batch ?? 4);
  const times: StageTimes = { decode: 0, detect: 0, track: 0, crop: 0, output: 0, total: 0 };
  const started = performance.now();
  const frames = sampleFrames(o.tools, o.path, { ...o.sample, ...(o.signal ? { signal: o.signal } : {}) });
  let index = o.firstIndex ?? 0;
  const firstIndex = index;
  let tracks = 0;
  let lastTime: number | null = null;
  const cp = o.checkpoint;
  if (cp && !(cp.every > 0)) throw new RangeError(`checkpoint.every must be > 0, got ${cp.every}`);
  let boundary = cp ? cp.from + cp.every : Infinity;
  // The same tolerance as the sampler's start: a read resumed at `boundary` keeps frames at ≥ boundary − 0.5 ms.
  const SLACK = 5e-4;

  const readBatch = async (): Promise<SampledFrame[]> => {
    const out: SampledFrame[] = [];
    while (out.length < batch) {
      const r = await frames.next();
      if (r.done) break;
      out.push(r.value);
    }
    return out;
  };
  const emit = async (ended: FinishedTrack[], dropped: number[]): Promise<void> => {
    const t0 = performance.now();
    for (const id of dropped) keeper.drop(id);
    const done = ended.map((t) => ({ ...t, crops: keeper.finish(t.id) }));
    times.crop += performance.now() - t0;
    tracks += done.length;
    const t1 = performance.now();
    for (const t of done) await o.onTrack?.(t);
    times.output += performance.now() - t1;
  };

  try {
    const t = performance.now();
    let current = await readBatch();
    times.decode += performance.now() - t;
    while (current.length > 0) {
      const t0 = performance.now();
      const detecting = o.detector.detect(current);
      // Read the next frames while the detector works on these (only the wait left after it counts as decode).
      const next = readBatch();
      next.catch(() => undefined);
      const found = await detecting;
      times.detect += performance.now() - t0;
      for (const [k, frame] of current.entries()) {
        const dets = found[k]!;
        if (cp && frame.timeSeconds >= boundary - SLACK) {
          const steps = Math.floor((frame.timeSeconds + SLACK - cp.from) / cp.every + 1e-9);
          const at = Math.max(boundary, cp.from + steps * cp.every);
          const t5 = performance.now();
          await cp.commit({ seconds: at, nextIndex: index });
          times.output += performance.now() - t5;
          boundary = at + cp.every;
        }
        const t1 = performance.now();
        const u = o.tracker.update(index, frame.timeSeconds, dets);
        times.track += performance.now() - t1;
        const t2 = performance.now();
        u.trackOf.forEach((id, j) => {
          if (id !== null) keeper.offer(id, frame, frame.timeSeconds, dets[j]!, dets[j]!.score);
        });
        times.crop += performance.now() - t2;
        const t3 = performance.now();
        await o.onFrame?.(
          {
            index,
            time: frame.timeSeconds,
            width: frame.width,
            height: frame.height,
            detections: dets,
            trackOf: u.trackOf,
          },
          frame,
        );
        times.output += performance.now() - t3;
        await emit(u.ended, u.dropped);
        lastTime = frame.timeSeconds;
        index++;
      }
      const t4 = performance.now();
      current = await next;
      times.decode += performance.now() - t4;
    }
    if (o.endOfVideo ?? true) {
      const end = o.tracker.finish();
      await emit(end.ended, end.dropped);
    }
  } finally {
    await frames.return(undefined);
    times.total = performance.now() - started;
  }
  return { frames: index - firstIndex, nextIndex: index, lastTime, tracks, times };
}
