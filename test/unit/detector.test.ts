import { describe, expect, it } from 'vitest';
import {
  decodeRtdetr,
  decodeYolov8,
  decodeYolox,
  geometry,
  nms,
  toFrame,
  writeInputTensor,
  type Preprocess,
} from '../../src/main/ml/detector';

const RAW: Preprocess = {
  resize: 'letterbox',
  center: true,
  padValue: 114,
  channels: 'rgb',
  scale: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
};

describe('letterbox', () => {
  it('fits a 16:9 frame into 640×640 centred as Ultralytics does, and maps boxes back', () => {
    const g = geometry(1280, 720, 640, 640, RAW);
    expect(g).toMatchObject({ sx: 0.5, sy: 0.5, left: 0, top: 140, width: 640, height: 360 });
    expect(toFrame(g, 100, 140, 200, 500)).toEqual([200, 0, 400, 720]);
    // Clipped to the frame.
    expect(toFrame(g, -10, 100, 700, 520)).toEqual([0, 0, 1280, 720]);
    // YOLOX puts the picture at the top left; RT-DETR stretches.
    expect(geometry(1280, 720, 640, 640, { resize: 'letterbox', center: false })).toMatchObject({
      top: 0,
      left: 0,
    });
    const s = geometry(1280, 720, 640, 640, { resize: 'stretch', center: false });
    expect(toFrame(s, 64, 64, 128, 128)).toEqual([128, 72, 256, 144]);
  });

  it('resizes like OpenCV INTER_LINEAR and normalises into NCHW in the model’s channel order', () => {
    // A 2×1 frame, red 0 → 100, into a 4×4 input: the picture is 4×2 at top 1, rows 0 and 3 are padding.
    const rgb = Uint8Array.of(0, 10, 200, 100, 20, 200);
    const g = geometry(2, 1, 4, 4, RAW);
    expect(g).toMatchObject({ width: 4, height: 2, top: 1, left: 0 });
    const out = new Float32Array(2 * 3 * 16).fill(-1);
    writeInputTensor(rgb, g, RAW, out, 1);
    expect(out.subarray(0, 48).every((v) => v === -1)).toBe(true); // image 0 untouched
    const red = out.subarray(48, 64);
    expect([...red.subarray(0, 4)]).toEqual([114, 114, 114, 114]);
    // cv2.resize([[0, 100]], (4, 1), INTER_LINEAR) = [0, 25, 75, 100]
    expect([...red.subarray(4, 8)]).toEqual([0, 25, 75, 100]);
    expect([...red.subarray(8, 12)]).toEqual([0, 25, 75, 100]);
    expect([...out.subarray(64 + 4, 64 + 8)]).toEqual([10, 13, 18, 20]); // green, rounded like OpenCV's uint8
    const bgr = new Float32Array(3 * 16);
    writeInputTensor(
      rgb,
      g,
      { ...RAW, channels: 'bgr', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      bgr,
      0,
    );
    expect(bgr[4]).toBeCloseTo((200 / 255 - 0.5) / 0.5, 6); // channel 0 is blue now
    expect(bgr[32 + 7]).toBeCloseTo((100 / 255 - 0.5) / 0.5, 6);
  });
});

describe('decoders and NMS', () => {
  it('YOLOv8: reads [4+C, N] (or transposed) and keeps the person boxes above the threshold', () => {
    const N = 3;
    const raw = Float32Array.of(
      ...[10, 50, 90], // cx
      ...[10, 50, 90], // cy
      ...[4, 8, 10], // w
      ...[6, 8, 10], // h
      ...[0.9, 0.2, 0.5], // person
      ...[0.1, 0.99, 0.1], // other
    );
    const b = decodeYolov8(raw, 6, N, { classes: [0], scoreThreshold: 0.25 });
    expect(b).toEqual({
      x1: [8, 85],
      y1: [7, 85],
      x2: [12, 95],
      y2: [13, 95],
      score: [0.9, 0.5].map((x) => Math.fround(x)),
      cls: [0, 0],
    });
    const t = new Float32Array(18);
    for (let c = 0; c < 6; c++) for (let i = 0; i < N; i++) t[i * 6 + c] = raw[c * N + i]!;
    expect(decodeYolov8(t, 6, N, { classes: [0], scoreThreshold: 0.25 }, true)).toEqual(b);
  });

  it('YOLOX: decodes grid offsets and log sizes per stride, score = objectness × class', () => {
    // 16×16 input, strides 8 and 16: 4 + 1 rows.
    const rows = 5;
    const raw = new Float32Array(rows * 6);
    raw.set([0.5, 0.5, Math.log(2), 0, 0.8, 0.5], 3 * 6); // stride 8, cell (1, 1)
    raw.set([0, 0, 0, 0, 0.9, 0.9], 4 * 6); // stride 16, cell (0, 0)
    const b = decodeYolox(raw, rows, 6, {
      classes: [0],
      scoreThreshold: 0.3,
      decoded: false,
      strides: [8, 16],
      inputSize: [16, 16],
    });
    const r = (v: number[]) => v.map((x) => Math.round(x * 1e4) / 1e4);
    expect(r(b.x1)).toEqual([4, -8]);
    expect(r(b.y1)).toEqual([8, -8]);
    expect(r(b.x2)).toEqual([20, 8]);
    expect(r(b.y2)).toEqual([16, 8]);
    expect(b.score.map((s) => Number(s.toFixed(4)))).toEqual([0.4, 0.81]);
    const decoded = decodeYolox(Float32Array.of(50, 40, 20, 10, 1, 1), 1, 6, {
      classes: [0],
      scoreThreshold: 0.3,
      decoded: true,
      strides: [8],
      inputSize: [16, 16],
    });
    expect([decoded.x1[0], decoded.y1[0], decoded.x2[0], decoded.y2[0]]).toEqual([40, 35, 60, 45]);
  });

  it('RT-DETR: keeps queries of the person label above the threshold', () => {
    const b = decodeRtdetr(
      [1n, 3n, 1n],
      Float32Array.of(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5),
      Float32Array.of(0.9, 0.9, 0.1),
      {
        classes: [1],
        scoreThreshold: 0.5,
      },
    );
    expect(b.x2).toEqual([1]);
  });

  it('NMS suppresses overlaps within a class, never across classes, best first, at most max', () => {
    const b = {
      x1: [0, 1, 0, 50, 0],
      y1: [0, 1, 0, 50, 0],
      x2: [10, 11, 10, 60, 10],
      y2: [10, 11, 10, 60, 10],
      score: [0.8, 0.9, 0.7, 0.5, 0.6],
      cls: [0, 0, 1, 0, 0],
    };
    const kept = nms(b, 0.5, 10);
    expect(kept.score).toEqual([0.9, 0.7, 0.5]);
    expect(kept.cls).toEqual([0, 1, 0]);
    expect(nms(b, 0.5, 2).score).toEqual([0.9, 0.7]);
  });
});
