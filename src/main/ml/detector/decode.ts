// Output decoders for the detector contracts (see spec.ts), and class-wise non-maximum suppression. Each
// decoder reads one image's slice of the raw outputs and returns the person boxes above the threshold, in
// model-input pixels.

/** Candidates as parallel arrays: corners, score, class. */
export interface Boxes {
  x1: number[];
  y1: number[];
  x2: number[];
  y2: number[];
  score: number[];
  cls: number[];
}

export const emptyBoxes = (): Boxes => ({ x1: [], y1: [], x2: [], y2: [], score: [], cls: [] });

function push(b: Boxes, cx: number, cy: number, w: number, h: number, score: number, cls: number): void {
  b.x1.push(cx - w / 2);
  b.y1.push(cy - h / 2);
  b.x2.push(cx + w / 2);
  b.y2.push(cy + h / 2);
  b.score.push(score);
  b.cls.push(cls);
}

export interface DecodeOptions {
  /** Class indices to keep (the person class). */
  classes: readonly number[];
  scoreThreshold: number;
}

/**
 * YOLOv8/YOLO11: one image's output [4+C, N] (channels first, as Ultralytics exports), or [N, 4+C] when
 * `transposed`. Rows 0–3 are cx, cy, w, h in input pixels, rows 4… the class scores (already sigmoid).
 * A box is kept for each wanted class whose own score clears the threshold.
 */
export function decodeYolov8(
  data: Float32Array,
  channels: number,
  anchors: number,
  opts: DecodeOptions,
  transposed = false,
): Boxes {
  const out = emptyBoxes();
  const at = transposed
    ? (c: number, i: number) => data[i * channels + c]!
    : (c: number, i: number) => data[c * anchors + i]!;
  for (const cls of opts.classes) {
    if (4 + cls >= channels) continue;
    for (let i = 0; i < anchors; i++) {
      const s = at(4 + cls, i);
      if (s >= opts.scoreThreshold) push(out, at(0, i), at(1, i), at(2, i), at(3, i), s, cls);
    }
  }
  return out;
}

/**
 * YOLOX: one image's output [N, 5+C]: cx, cy, w, h, objectness, class scores (sigmoid). When the export
 * left the boxes undecoded, rows run over strides (8, 16, 32), then grid rows, then grid columns, with
 * cx = (raw + column) · stride and w = exp(raw) · stride.
 */
export function decodeYolox(
  data: Float32Array,
  rows: number,
  width: number,
  opts: DecodeOptions & { decoded: boolean; strides: readonly number[]; inputSize: [number, number] },
): Boxes {
  const out = emptyBoxes();
  const grid: { gx: Int32Array; gy: Int32Array; s: Float32Array } | null = opts.decoded
    ? null
    : (() => {
        const gx = new Int32Array(rows);
        const gy = new Int32Array(rows);
        const s = new Float32Array(rows);
        let k = 0;
        for (const stride of opts.strides) {
          const hs = Math.floor(opts.inputSize[0] / stride);
          const ws = Math.floor(opts.inputSize[1] / stride);
          for (let y = 0; y < hs; y++)
            for (let x = 0; x < ws && k < rows; x++, k++) {
              gx[k] = x;
              gy[k] = y;
              s[k] = stride;
            }
        }
        return { gx, gy, s };
      })();
  for (let i = 0; i < rows; i++) {
    const o = i * width;
    const obj = data[o + 4]!;
    if (obj < opts.scoreThreshold) continue; // score = obj × cls ≤ obj
    for (const cls of opts.classes) {
      if (5 + cls >= width) continue;
      const score = obj * data[o + 5 + cls]!;
      if (score < opts.scoreThreshold) continue;
      let cx = data[o]!;
      let cy = data[o + 1]!;
      let w = data[o + 2]!;
      let h = data[o + 3]!;
      if (grid) {
        const s = grid.s[i]!;
        cx = (cx + grid.gx[i]!) * s;
        cy = (cy + grid.gy[i]!) * s;
        w = Math.exp(w) * s;
        h = Math.exp(h) * s;
      }
      push(out, cx, cy, w, h, score, cls);
    }
  }
  return out;
}

/** RT-DETR deploy outputs for one image: labels [Q], boxes [Q, 4] (x1, y1, x2, y2), scores [Q]. */
export function decodeRtdetr(
  labels: ArrayLike<number | bigint>,
  boxes: Float32Array,
  scores: Float32Array,
  opts: DecodeOptions,
): Boxes {
  const out = emptyBoxes();
  for (let q = 0; q < scores.length; q++) {
    const cls = Number(labels[q]);
    if (!opts.classes.includes(cls) || scores[q]! < opts.scoreThreshold) continue;
    out.x1.push(boxes[q * 4]!);
    out.y1.push(boxes[q * 4 + 1]!);
    out.x2.push(boxes[q * 4 + 2]!);
    out.y2.push(boxes[q * 4 + 3]!);
    out.score.push(scores[q]!);
    out.cls.push(cls);
  }
  return out;
}

export const iou = (
  ax1: number,
  ay1: number,
  ax2: number,
  ay2: number,
  bx1: number,
  by1: number,
  bx2: number,
  by2: number,
): number => {
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
};

/**
 * Greedy non-maximum suppression per class (boxes of different classes never suppress each other), best
 * score first; keeps at most `max` boxes. Before it, only the `preTopK` best candidates are considered
 * (Ultralytics caps at 30 000; a bound that keeps the quadratic step short on a noisy frame).
 */
export function nms(b: Boxes, iouThreshold: number, max: number, preTopK = 3000): Boxes {
  const order = b.score
    .map((_, i) => i)
    .sort((i, j) => b.score[j]! - b.score[i]! || i - j)
    .slice(0, preTopK);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= max) break;
    let ok = true;
    for (const k of kept) {
      if (b.cls[k] !== b.cls[i]) continue;
      if (
        iou(b.x1[i]!, b.y1[i]!, b.x2[i]!, b.y2[i]!, b.x1[k]!, b.y1[k]!, b.x2[k]!, b.y2[k]!) > iouThreshold
      ) {
        ok = false;
        break;
      }
    }
    if (ok) kept.push(i);
  }
  const out = emptyBoxes();
  for (const i of kept) {
    out.x1.push(b.x1[i]!);
    out.y1.push(b.y1[i]!);
    out.x2.push(b.x2[i]!);
    out.y2.push(b.y2[i]!);
    out.score.push(b.score[i]!);
    out.cls.push(b.cls[i]!);
  }
  return out;
}
