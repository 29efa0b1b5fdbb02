// Runs a detector session on frames: letterbox into batches, InferenceSession.run, decode, NMS, and boxes
// back in frame pixels. It runs in the encoder process (encoder-worker.ts), beside the CLIP sessions.
import * as ort from 'onnxruntime-node';
import { decodeRtdetr, decodeYolov8, decodeYolox, nms, type Boxes } from './decode';
import { toFrame, writeNormalised, type Geometry } from './letterbox';
import type { Detection, DetectorRunSpec } from './spec';

/** A decoded frame: packed 8-bit RGB. */
export interface FrameInput {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** A frame already letterboxed to the model's input size (letterboxRgb), and how it was fitted. */
export interface LetterboxedFrame {
  rgb: Uint8Array;
  geometry: Geometry;
}

/** Below this size (frame pixels) a clipped box is a sliver at the frame's edge, not a person. */
const MIN_SIDE = 2;

function floats(t: ort.Tensor | undefined, name: string): Float32Array {
  if (!t) throw new Error(`the model has no output "${name}"`);
  if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, expected float32`);
  return t.data as Float32Array;
}

function decodeOne(spec: DetectorRunSpec, out: ort.InferenceSession.OnnxValueMapType, i: number): Boxes {
  const classes = [spec.personClass];
  const opts = { classes, scoreThreshold: spec.scoreThreshold };
  const io = spec.io;
  switch (io.contract) {
    case 'yolov8': {
      const t = out[io.output] as ort.Tensor;
      const [, a, b] = t.dims as number[];
      // Ultralytics writes [1, 4+C, N] with N (thousands) > 4+C; some tools transpose it.
      const transposed = a! > b!;
      const channels = transposed ? b! : a!;
      if (4 + spec.personClass >= channels)
        throw new Error(
          `personClass ${spec.personClass}, but the output [${t.dims.join(', ')}] has ${channels - 4} classes`,
        );
      const per = a! * b!;
      const data = floats(t, io.output).subarray(i * per, (i + 1) * per);
      const boxes = transposed
        ? decodeYolov8(data, b!, a!, opts, true)
        : decodeYolov8(data, a!, b!, opts, false);
      return nms(boxes, spec.nmsIou, spec.maxDetections);
    }
    case 'yolox': {
      const t = out[io.output] as ort.Tensor;
      const [, rows, width] = t.dims as number[];
      if (5 + spec.personClass >= width!)
        throw new Error(
          `personClass ${spec.personClass}, but the output [${t.dims.join(', ')}] has ${width! - 5} classes`,
        );
      const per = rows! * width!;
      const data = floats(t, io.output).subarray(i * per, (i + 1) * per);
      const boxes = decodeYolox(data, rows!, width!, {
        ...opts,
        decoded: io.decoded,
        strides: io.strides,
        inputSize: spec.inputSize,
      });
      return nms(boxes, spec.nmsIou, spec.maxDetections);
    }
    case 'rtdetr': {
      const scores = out[io.scores] as ort.Tensor;
      const q = (scores.dims as number[])[1]!;
      const labels = (out[io.labels] as ort.Tensor).data as ArrayLike<number | bigint>;
      const boxes = floats(out[io.boxes] as ort.Tensor, io.boxes).subarray(i * q * 4, (i + 1) * q * 4);
      const sel = Array.prototype.slice.call(labels, i * q, (i + 1) * q) as (number | bigint)[];
      // A set prediction: one query per object, no NMS (DETR's point); cap the count all the same.
      const d = decodeRtdetr(sel, boxes, floats(scores, io.scores).subarray(i * q, (i + 1) * q), opts);
      return nms(d, 1, spec.maxDetections);
    }
  }
}

function toDetections(b: Boxes, g: Geometry): Detection[] {
  const out: Detection[] = [];
  for (let k = 0; k < b.score.length; k++) {
    const [x1, y1, x2, y2] = toFrame(g, b.x1[k]!, b.y1[k]!, b.x2[k]!, b.y2[k]!);
    if (x2 - x1 < MIN_SIDE || y2 - y1 < MIN_SIDE) continue;
    out.push({ x1, y1, x2, y2, score: b.score[k]! });
  }
  return out;
}

/**
 * Detects people in letterboxed frames, `batchSize` per run (1 at a time when the model's batch axis is
 * fixed at 1); boxes come back in each frame's own pixels.
 */
export async function detectFrames(
  session: ort.InferenceSession,
  spec: DetectorRunSpec,
  frames: readonly LetterboxedFrame[],
  batchSize: number,
): Promise<Detection[][]> {
  const [H, W] = spec.inputSize;
  const per = 3 * H * W;
  const step = spec.fixedBatch ?? Math.max(1, batchSize);
  const results: Detection[][] = [];
  for (let start = 0; start < frames.length; start += step) {
    const chunk = frames.slice(start, start + step);
    const n = spec.fixedBatch ?? chunk.length;
    const pixels = new Float32Array(n * per);
    chunk.forEach((f, i) => writeNormalised(f.rgb, W, H, spec.preprocess, pixels, i));
    const geoms = chunk.map((f) => f.geometry);
    const feeds: Record<string, ort.Tensor> = {
      [spec.io.input]: new ort.Tensor('float32', pixels, [n, 3, H, W]),
    };
    if (spec.io.contract === 'rtdetr' && spec.io.sizes) {
      // Boxes come back scaled to these sizes: give the input's own, and map them back like any other.
      const sizes = Array.from({ length: n }, () => [W, H]).flat();
      feeds[spec.io.sizes] =
        spec.io.sizesType === 'float32'
          ? new ort.Tensor('float32', Float32Array.from(sizes), [n, 2])
          : spec.io.sizesType === 'int32'
            ? new ort.Tensor('int32', Int32Array.from(sizes), [n, 2])
            : new ort.Tensor('int64', BigInt64Array.from(sizes, BigInt), [n, 2]);
    }
    const out = await session.run(feeds);
    chunk.forEach((_, i) => results.push(toDetections(decodeOne(spec, out, i), geoms[i]!)));
  }
  return results;
}
