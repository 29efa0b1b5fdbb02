// The footage pipeline measured on the synthetic footage world: FFmpeg sampling at 2 fps → the toy person
// detector (a real ONNX model, in the encoder process) → ByteTrack → best crops, against ground truth.
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ByteTracker,
  cameraOf,
  CropKeeper,
  compilePattern,
  matchFileName,
  processVideo,
  recordingStart,
  type EvalFrame,
  type TrackResult,
} from '../../src/main/footage';
import { iou } from '../../src/main/ml/detector';
import { loadDetectorFolder, PersonDetector, type DetectorFolder } from '../../src/main/ml/detector';
import { locateVideoTools, nextSampleTime, probeVideo, type VideoTools } from '../../src/main/media/video';
import {
  evalFrame,
  footageFigures,
  FOOTAGE_TRUTH_FILE,
  generateFootage,
  type FootageTruth,
} from '../../src/main/synth/footage';
import {
  TOY_DETECTOR_FILE,
  TOY_DETECTOR_NAME,
  writeToyDetectorFolder,
} from '../../src/main/synth/toy-detector';

let dir: string;
let tools: VideoTools;
let truth: FootageTruth;
let folder: DetectorFolder;
const perCamera: { camera: string; frames: EvalFrame[]; tracks: TrackResult[] }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctgi-footage-'));
  tools = await locateVideoTools();
  truth = await generateFootage({ seed: 1, outDir: path.join(dir, 'footage'), tools, durationSeconds: 16 });
  folder = await loadDetectorFolder((await writeToyDetectorFolder(path.join(dir, 'toy-detector'))).dir);
  const detector = await PersonDetector.open({ modelPath: folder.modelPath, providers: 'cpu' });
  detector.bind(folder.spec);
  try {
    for (const cam of truth.cameras) {
      const frames: EvalFrame[] = [];
      const tracks: TrackResult[] = [];
      await processVideo({
        tools,
        path: path.join(dir, 'footage', cam.file),
        detector,
        tracker: new ByteTracker(),
        sample: { fps: 2 },
        onFrame: (f) => void frames.push(evalFrame(truth, cam, f)),
        onTrack: (t) => void tracks.push(t),
      });
      perCamera.push({ camera: cam.name, frames, tracks });
    }
  } finally {
    await detector.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the footage pipeline on synthetic footage (toy detector, real ONNX Runtime, 2 fps)', () => {
  it('writes the toy detector as a YOLOv8-contract folder that validates, with the same bytes every time', async () => {
    expect(folder.manifest).toMatchObject({
      name: TOY_DETECTOR_NAME,
      contract: 'yolov8',
      inputSize: [384, 640],
    });
    expect(folder.spec.io).toEqual({ contract: 'yolov8', input: 'images', output: 'output0' });
    const again = await writeToyDetectorFolder(path.join(dir, 'again'));
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(sha(again.model)).toBe(sha(path.join(dir, 'toy-detector', TOY_DETECTOR_FILE)));
  });

  it('detects people at IoU 0.5 with precision and recall ≥ 0.95', () => {
    const fig = footageFigures(perCamera);
    const frames = perCamera.reduce((n, c) => n + c.frames.length, 0);
    expect(frames).toBe(3 * 32);
    expect(fig.detection.truePositives).toBeGreaterThan(100);
    expect(fig.detection.precision).toBeGreaterThanOrEqual(0.95);
    expect(fig.detection.recall).toBeGreaterThanOrEqual(0.95);
    expect(fig.detection.meanIou).toBeGreaterThan(0.85);
  });

  it('tracks each person as one track: purity and IDF1 ≥ 0.9 against the true identities', () => {
    const fig = footageFigures(perCamera);
    expect(fig.purity).toBeGreaterThanOrEqual(0.9);
    expect(fig.idf1).toBeGreaterThanOrEqual(0.9);
    for (const c of fig.cameras) expect(c.tracking.tracks).toBeLessThanOrEqual(c.tracking.identities + 1);
  });

  it('keeps up to 3 crops per track, each of the track’s true identity, spread over its time', () => {
    const fig = footageFigures(perCamera);
    let kept = 0;
    for (const [k, c] of perCamera.entries()) {
      const cam = truth.cameras[k]!;
      const identity = fig.cameras[k]!.tracking.trackIdentity;
      for (const t of c.tracks) {
        const id = identity.get(t.id);
        if (id === undefined) continue;
        expect(t.crops.length).toBeGreaterThan(0);
        expect(t.crops.length).toBeLessThanOrEqual(3);
        for (const crop of t.crops) {
          kept++;
          const frame = Math.round(crop.time * truth.fps);
          const mine = cam.boxes.find((b) => b.frame === frame && b.personId === id);
          expect(mine, `track ${t.id} crop at ${crop.time}s`).toBeDefined();
          expect(
            iou(crop.box.x1, crop.box.y1, crop.box.x2, crop.box.y2, ...mine!.box),
          ).toBeGreaterThanOrEqual(0.5);
          expect(crop.rgb.length).toBe(crop.width * crop.height * 3);
        }
        const times = t.crops.map((x) => x.time);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }
    }
    expect(kept).toBeGreaterThanOrEqual(3 * truth.cameras.length);
  });

  it('reads each recording’s camera and wall-clock start from its name, as the truth says', async () => {
    const saved = JSON.parse(
      readFileSync(path.join(dir, 'footage', FOOTAGE_TRUTH_FILE), 'utf8'),
    ) as FootageTruth;
    const pattern = compilePattern(saved.pattern);
    for (const cam of saved.cameras) {
      const file = path.join(dir, 'footage', cam.file);
      const m = matchFileName(pattern, path.basename(file));
      expect(cameraOf(path.join(dir, 'footage'), file, m).name).toBe(cam.name);
      const info = await probeVideo(tools, file);
      expect(info.durationSeconds).toBeCloseTo(16, 1);
      const start = recordingStart({ match: m, creationTime: info.creationTime, offset: 0 });
      expect(start).toMatchObject({ source: 'file-name', epochMs: Date.parse(`${cam.startLocal}Z`) });
      // The container says the same (the world writes both).
      expect(recordingStart({ creationTime: info.creationTime, offset: 0 })!.epochMs).toBe(start!.epochMs);
    }
  });

  it('stopped mid-video and resumed from a snapshot, gives the same tracks and crops as one uninterrupted run', async () => {
    const cam = truth.cameras[0]!;
    const file = path.join(dir, 'footage', cam.file);
    const detector = await PersonDetector.open({ modelPath: folder.modelPath, providers: 'cpu' });
    detector.bind(folder.spec);
    const summary = (tracks: TrackResult[]) =>
      tracks.map((t) => ({
        id: t.id,
        times: t.observations.map((o) => o.time),
        crops: t.crops.map((c) => [c.time, createHash('sha256').update(c.rgb).digest('hex')]),
      }));
    try {
      const straight: TrackResult[] = [];
      await processVideo({
        tools,
        path: file,
        detector,
        tracker: new ByteTracker(),
        onTrack: (t) => void straight.push(t),
      });
      // Stop after 7 s (a walker is in the middle of the picture), keep only plain data, carry on.
      const resumed: TrackResult[] = [];
      const tracker = new ByteTracker();
      const keeper = new CropKeeper();
      const first = await processVideo({
        tools,
        path: file,
        detector,
        tracker,
        keeper,
        sample: { end: 7 },
        endOfVideo: false,
        onTrack: (t) => void resumed.push(t),
      });
      expect(tracker.active().length).toBeGreaterThan(0);
      const saved = serialize({ tracker: tracker.snapshot(), keeper: keeper.snapshot() });
      const back = deserialize(saved) as {
        tracker: ReturnType<ByteTracker['snapshot']>;
        keeper: ReturnType<CropKeeper['snapshot']>;
      };
      await processVideo({
        tools,
        path: file,
        detector,
        tracker: ByteTracker.restore(back.tracker),
        keeper: CropKeeper.restore(back.keeper),
        sample: { start: nextSampleTime(first.lastTime!) },
        firstIndex: first.nextIndex,
        onTrack: (t) => void resumed.push(t),
      });
      expect(straight.length).toBeGreaterThan(1);
      expect(summary(resumed)).toEqual(summary(straight));
    } finally {
      await detector.close();
    }
  });

  it('takes checkpoints in stream (one read): a run resumed from any of them ends as the uninterrupted run', async () => {
    const cam = truth.cameras[1]!;
    const file = path.join(dir, 'footage', cam.file);
    const detector = await PersonDetector.open({ modelPath: folder.modelPath, providers: 'cpu' });
    detector.bind(folder.spec);
    const summary = (tracks: TrackResult[]) =>
      tracks.map((t) => ({
        id: t.id,
        times: t.observations.map((o) => o.time),
        crops: t.crops.map((c) => [c.time, createHash('sha256').update(c.rgb).digest('hex')]),
      }));
    try {
      const straight: TrackResult[] = [];
      const tracker = new ByteTracker();
      const keeper = new CropKeeper();
      const saved: { seconds: number; nextIndex: number; before: number; state: Buffer; frames: number }[] =
        [];
      let frames = 0;
      await processVideo({
        tools,
        path: file,
        detector,
        tracker,
        keeper,
        checkpoint: {
          from: 0,
          every: 2.5,
          commit: (at) =>
            void saved.push({
              ...at,
              before: straight.length,
              frames,
              state: serialize({ tracker: tracker.snapshot(), keeper: keeper.snapshot() }),
            }),
        },
        onFrame: () => void frames++,
        onTrack: (t) => void straight.push(t),
      });
      // Every 2.5 s of video, before the first frame at or past it: 5 frames (2 per second) apart.
      expect(saved.map((c) => c.seconds)).toEqual(
        Array.from({ length: saved.length }, (_, k) => 2.5 * (k + 1)),
      );
      expect(saved.length).toBeGreaterThanOrEqual(3);
      for (const c of saved) expect(c.nextIndex).toBe(c.frames);
      expect(straight.length).toBeGreaterThan(1);
      for (const c of saved) {
        const back = deserialize(c.state) as {
          tracker: ReturnType<ByteTracker['snapshot']>;
          keeper: ReturnType<CropKeeper['snapshot']>;
        };
        const resumed = straight.slice(0, c.before);
        await processVideo({
          tools,
          path: file,
          detector,
          tracker: ByteTracker.restore(back.tracker),
          keeper: CropKeeper.restore(back.keeper),
          sample: { start: c.seconds },
          firstIndex: c.nextIndex,
          onTrack: (t) => void resumed.push(t),
        });
        expect(summary(resumed), `resumed at ${c.seconds} s`).toEqual(summary(straight));
      }
    } finally {
      await detector.close();
    }
  });
});
