import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadDetectorFolder, PersonDetector, type DetectorFolder } from '../../src/main/ml/detector';
import { writeStandInDetectorFolder } from '../../src/main/synth/stand-in-detector';
import { writeToyDetectorFolder } from '../../src/main/synth/toy-detector';
import { rtdetrModel, writeDetectorFolder, yolov8Model, yoloxModel } from '../fixtures/detectors';

const made: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'ctgi-detector-'));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
let open: PersonDetector | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

/** A 128×64 frame: letterboxed into 64×64 at scale 0.5 (centred: 16 rows of padding above). */
const frame = { rgb: new Uint8Array(128 * 64 * 3).fill(90), width: 128, height: 64 };

async function run(f: DetectorFolder, frames = [frame]) {
  open = await PersonDetector.open({ modelPath: f.modelPath, providers: 'cpu' });
  open.bind(f.spec);
  return open.detect(frames);
}
const round = (d: { x1: number; y1: number; x2: number; y2: number; score: number }) => ({
  box: [d.x1, d.y1, d.x2, d.y2].map((v) => Math.round(v * 100) / 100),
  score: Math.round(d.score * 1000) / 1000,
});

describe('person detectors in the encoder process', () => {
  it('YOLOv8: decodes [1, 4+C, N], drops other classes and duplicates, maps boxes to frame pixels', async () => {
    const dir = writeDetectorFolder(path.join(scratch(), 'y8'), yolov8Model(), {
      name: 'tiny-yolov8',
      contract: 'yolov8',
      inputSize: [64, 64],
      personClass: 0,
    });
    const f = await loadDetectorFolder(dir);
    expect(f.spec.io).toEqual({ contract: 'yolov8', input: 'images', output: 'output0' });
    expect(f.spec.fixedBatch).toBe(1);
    expect(f.notes.join(' ')).toMatch(/fixed batch size of 1/);
    const [dets] = await run(f, [frame, frame]).then((r) => {
      expect(r).toHaveLength(2);
      return r;
    });
    // Input box (22, 24)–(42, 40) → frame ((22 − 0)/0.5, (24 − 16)/0.5) … = (44, 16)–(84, 48).
    expect(dets!.map(round)).toEqual([
      { box: [44, 16, 84, 48], score: 0.9 },
      { box: [12, 60, 28, 64], score: 0.3 },
    ]);
  });

  it('YOLOX: decodes undecoded grid outputs (the exporter default), objectness × class', async () => {
    const dir = writeDetectorFolder(path.join(scratch(), 'yx'), yoloxModel(), {
      name: 'tiny-yolox',
      file: 'yolox_tiny.onnx',
      contract: 'yolox',
      inputSize: [64, 64],
      personClass: 0,
    });
    const f = await loadDetectorFolder(dir);
    expect(f.spec.io).toMatchObject({ contract: 'yolox', decoded: false, strides: [8, 16, 32] });
    expect(f.spec.preprocess).toMatchObject({ center: false, channels: 'bgr', scale: 1 });
    const [dets] = await run(f);
    // Top-left letterbox, scale 0.5: input (20, 24)–(36, 48) → frame (40, 48)–(72, 96) → clipped to 64 rows.
    expect(dets!.map(round)).toEqual([
      { box: [40, 48, 72, 64], score: 0.72 },
      { box: [48, 0, 112, 64], score: 0.3 },
    ]);
  });

  it('RT-DETR: feeds orig_target_sizes, keeps the person label (COCO id 1), no NMS needed', async () => {
    const dir = writeDetectorFolder(path.join(scratch(), 'rt'), rtdetrModel(), {
      name: 'tiny-rtdetr',
      contract: 'rtdetr',
      inputSize: [64, 64],
      personClass: 1,
    });
    const f = await loadDetectorFolder(dir);
    expect(f.spec.io).toMatchObject({ contract: 'rtdetr', sizes: 'orig_target_sizes', sizesType: 'int64' });
    const [dets] = await run(f);
    // Stretched: x × 2, y × 1. (0.25, 0.25, 0.5, 0.75) of 64 → (16, 16, 32, 48) → (32, 16, 64, 48).
    expect(dets!.map(round)).toEqual([
      { box: [32, 16, 64, 48], score: 0.9 },
      { box: [96, 32, 128, 64], score: 0.5 },
    ]);
  });

  it('lists every problem of a folder at once', async () => {
    const dir = path.join(scratch(), 'bad');
    writeDetectorFolder(dir, yolov8Model(), {
      name: '',
      contract: 'yolo',
      inputSize: [64],
      personClass: -1,
      preprocess: { resize: 'crop' },
    });
    await expect(loadDetectorFolder(dir)).rejects.toThrow(
      /cannot be used:\n- ctgi-detector.json: "name".*\n- ctgi-detector.json: "contract".*\n- ctgi-detector.json: "inputSize".*\n- ctgi-detector.json: "personClass".*\n- ctgi-detector.json: "preprocess.resize"/,
    );
    const missing = path.join(scratch(), 'missing');
    writeDetectorFolder(missing, yolov8Model(), {
      name: 'x',
      file: 'y.onnx',
      contract: 'yolov8',
      inputSize: [64, 64],
      personClass: 0,
    });
    rmSync(path.join(missing, 'y.onnx'));
    await expect(loadDetectorFolder(missing)).rejects.toThrow(
      /y\.onnx \(named by ctgi-detector.json "file"\) is not in the folder/,
    );
    await expect(loadDetectorFolder(path.join(scratch(), 'nothing-here'))).rejects.toThrow(/is not a folder/);
  });

  it('checks the graph against the contract: input size, class count, YOLOX rows, RT-DETR outputs', async () => {
    const y8 = writeDetectorFolder(path.join(scratch(), 'y8'), yolov8Model(), {
      name: 'x',
      contract: 'yolov8',
      inputSize: [640, 640],
      personClass: 2,
      classes: 3,
    });
    await expect(loadDetectorFolder(y8)).rejects.toThrow(
      /takes 64×64 images but ctgi-detector.json says inputSize \[640, 640\].*\n- .*personClass 2 but the output \[1, 6, 8\] has 2 classes.*\n- .*has 2 classes but ctgi-detector.json says 3/s,
    );
    const yx = writeDetectorFolder(path.join(scratch(), 'yx'), yoloxModel(), {
      name: 'x',
      contract: 'yolox',
      inputSize: [64, 64],
      personClass: 0,
      yolox: { strides: [8, 16] },
    });
    await expect(loadDetectorFolder(yx)).rejects.toThrow(
      /84 rows, but undecoded YOLOX outputs at strides 8\/16 on 64×64 have 80/,
    );
    const rt = writeDetectorFolder(path.join(scratch(), 'rt'), yolov8Model(), {
      name: 'x',
      contract: 'rtdetr',
      inputSize: [64, 64],
      personClass: 0,
    });
    await expect(loadDetectorFolder(rt)).rejects.toThrow(
      /should have outputs "labels", "boxes" and "scores"/,
    );
    const junk = path.join(scratch(), 'junk');
    writeDetectorFolder(junk, new Uint8Array(10), {
      name: 'x',
      contract: 'yolov8',
      inputSize: [64, 64],
      personClass: 0,
    });
    writeFileSync(path.join(junk, 'model.onnx'), 'not a model');
    await expect(loadDetectorFolder(junk)).rejects.toThrow(/ONNX Runtime cannot open model\.onnx/);
  });

  it('a native crash fails the detector’s calls, not this process', async () => {
    const dir = writeDetectorFolder(path.join(scratch(), 'y8'), yolov8Model(), {
      name: 'tiny-yolov8',
      contract: 'yolov8',
      inputSize: [64, 64],
      personClass: 0,
    });
    const f = await loadDetectorFolder(dir);
    open = await PersonDetector.open({ modelPath: f.modelPath, providers: 'cpu' });
    open.bind(f.spec);
    const pending = open.detect(Array.from({ length: 20 }, () => frame));
    open.simulateCrash();
    await expect(pending).rejects.toThrow(
      /person detector crashed: the encoder process stopped unexpectedly \(signal SIGABRT\)/,
    );
    expect(open.alive).toBe(false);
  });

  it('runs a model with a dynamic batch axis in batches, with the same boxes as one frame at a time', async () => {
    const f = await loadDetectorFolder((await writeToyDetectorFolder(path.join(scratch(), 'toy'))).dir);
    expect(f.spec.fixedBatch).toBeNull();
    // A grey-green scene colour with two dark blocks: people to the toy detector.
    const scene = (shift: number) => {
      const rgb = new Uint8Array(320 * 180 * 3);
      for (let i = 0; i < 320 * 180; i++) rgb.set([60, 150, 150], i * 3);
      for (let y = 40; y < 140; y++)
        for (const x0 of [60 + shift, 200 - shift])
          for (let x = x0; x < x0 + 30; x++) rgb.set([200, 30, 35], (y * 320 + x) * 3);
      return { rgb, width: 320, height: 180 };
    };
    const frames = [scene(0), scene(10), scene(20)];
    open = await PersonDetector.open({ modelPath: f.modelPath, providers: 'cpu', batchSize: 3 });
    open.bind(f.spec);
    const batched = await open.detect(frames);
    const single = [];
    for (const fr of frames) single.push(...(await open.detect([fr])));
    expect(batched.map((d) => d.length)).toEqual([2, 2, 2]);
    expect(batched.map((d) => d.map(round))).toEqual(single.map((d) => d.map(round)));
    expect(
      batched[1]!
        .map(round)
        .map((d) => d.box)
        .sort((a, b) => a[0]! - b[0]!),
    ).toEqual([
      [70, 40, 100, 140],
      [190, 40, 220, 140],
    ]);
  });

  it('a YOLOv8n-sized stand-in (8.7 GFLOPs at 640, random weights) validates as a YOLOv8 folder and finds nothing', async () => {
    const w = await writeStandInDetectorFolder(path.join(scratch(), 'stand-in'));
    // Ultralytics quotes 8.7 GFLOPs and 3,151,904 parameters for yolov8n at 640.
    expect(w.model.flops / 1e9).toBeCloseTo(8.74, 2);
    expect(w.model.parameters).toBeGreaterThan(3_100_000);
    const f = await loadDetectorFolder(w.dir);
    expect(f.spec).toMatchObject({ inputSize: [640, 640], fixedBatch: 1, personClass: 0 });
    const [dets] = await run(f, [frame]);
    expect(dets).toEqual([]);
  });
});
