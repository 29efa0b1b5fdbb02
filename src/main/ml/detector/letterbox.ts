// Detector preprocessing: fit a frame into the model's input (letterbox: scale to fit, keep the aspect,
// pad; or stretch), normalise into NCHW float32, and map boxes back to frame pixels.
//
// The resize is OpenCV's INTER_LINEAR (half-pixel centres, two taps, no antialiasing), which is what
// Ultralytics' and YOLOX's letterbox call, so a user's detector sees the picture it was trained on.
import type { Preprocess } from './spec';

export interface Geometry {
  /** Model input size. */
  inputWidth: number;
  inputHeight: number;
  /** The frame's size. */
  frameWidth: number;
  frameHeight: number;
  /** Frame → input scale per axis (equal for letterbox). */
  sx: number;
  sy: number;
  /** The resized picture inside the input. */
  left: number;
  top: number;
  width: number;
  height: number;
}

export function geometry(
  frameWidth: number,
  frameHeight: number,
  inputWidth: number,
  inputHeight: number,
  p: Pick<Preprocess, 'resize' | 'center'>,
): Geometry {
  if (p.resize === 'stretch') {
    return {
      inputWidth,
      inputHeight,
      frameWidth,
      frameHeight,
      sx: inputWidth / frameWidth,
      sy: inputHeight / frameHeight,
      left: 0,
      top: 0,
      width: inputWidth,
      height: inputHeight,
    };
  }
  const r = Math.min(inputWidth / frameWidth, inputHeight / frameHeight);
  const width = Math.round(frameWidth * r);
  const height = Math.round(frameHeight * r);
  // Ultralytics: left = round(dw/2 − 0.1), top = round(dh/2 − 0.1).
  const left = p.center ? Math.max(0, Math.round((inputWidth - width) / 2 - 0.1)) : 0;
  const top = p.center ? Math.max(0, Math.round((inputHeight - height) / 2 - 0.1)) : 0;
  return { inputWidth, inputHeight, frameWidth, frameHeight, sx: r, sy: r, left, top, width, height };
}

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

/** OpenCV INTER_LINEAR source taps for `out` samples of a `src`-long axis. */
function taps(src: number, out: number): Taps {
  const i0 = new Int32Array(out);
  const i1 = new Int32Array(out);
  const w1 = new Float32Array(out);
  const scale = src / out;
  for (let d = 0; d < out; d++) {
    let s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    let f = Math.floor(s);
    let w = s - f;
    if (f >= src - 1) {
      f = src - 1;
      w = 0;
    }
    i0[d] = f;
    i1[d] = Math.min(f + 1, src - 1);
    w1[d] = w;
  }
  return { i0, i1, w1 };
}

/**
 * Writes one frame (packed RGB bytes) into `out` (an NCHW float32 batch) at `index`, resized and padded per
 * `g`, normalised per `p`: value = (byte × scale − mean) / std, channels in the model's order.
 */
export function writeInputTensor(
  rgb: Uint8Array,
  g: Geometry,
  p: Preprocess,
  out: Float32Array,
  index: number,
): void {
  const W = g.inputWidth;
  const H = g.inputHeight;
  const plane = W * H;
  const base = index * 3 * plane;
  const order = p.channels === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const mul = [0, 1, 2].map((c) => p.scale / p.std[c]!);
  const add = [0, 1, 2].map((c) => -p.mean[c]! / p.std[c]!);
  // Padding first, then the picture over it.
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    out.fill(p.padValue * mul[src]! + add[src]!, base + c * plane, base + (c + 1) * plane);
  }
  const xs = taps(g.frameWidth, g.width);
  const ys = taps(g.frameHeight, g.height);
  const fw = g.frameWidth;
  const row = new Float32Array(g.width * 3);
  const row1 = new Float32Array(g.width * 3);
  const fillRow = (y: number, dst: Float32Array): void => {
    const o = y * fw * 3;
    for (let x = 0; x < g.width; x++) {
      const a = o + xs.i0[x]! * 3;
      const b = o + xs.i1[x]! * 3;
      const w = xs.w1[x]!;
      dst[x * 3] = rgb[a]! + (rgb[b]! - rgb[a]!) * w;
      dst[x * 3 + 1] = rgb[a + 1]! + (rgb[b + 1]! - rgb[a + 1]!) * w;
      dst[x * 3 + 2] = rgb[a + 2]! + (rgb[b + 2]! - rgb[a + 2]!) * w;
    }
  };
  let cached0 = -1;
  let cached1 = -1;
  for (let y = 0; y < g.height; y++) {
    const y0 = ys.i0[y]!;
    const y1 = ys.i1[y]!;
    const wy = ys.w1[y]!;
    // Consecutive output rows often share source rows when upscaling; reuse them.
    if (y0 !== cached0) {
      if (y0 === cached1) row.set(row1);
      else fillRow(y0, row);
      cached0 = y0;
    }
    if (y1 !== cached1) {
      fillRow(y1, row1);
      cached1 = y1;
    }
    const rowBase = base + (g.top + y) * W + g.left;
    for (let c = 0; c < 3; c++) {
      const src = order[c]!;
      const m = mul[src]!;
      const a = add[src]!;
      const dst = rowBase + c * plane;
      for (let x = 0; x < g.width; x++) {
        const top = row[x * 3 + src]!;
        // OpenCV rounds to 8 bits after the resize; so do we, before normalising.
        const v = Math.round(top + (row1[x * 3 + src]! - top) * wy);
        out[dst + x] = v * m + a;
      }
    }
  }
}

/** A box in model-input pixels back to frame pixels, clipped to the frame. */
export function toFrame(
  g: Geometry,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): [number, number, number, number] {
  const clip = (v: number, max: number): number => (v < 0 ? 0 : v > max ? max : v);
  return [
    clip((x1 - g.left) / g.sx, g.frameWidth),
    clip((y1 - g.top) / g.sy, g.frameHeight),
    clip((x2 - g.left) / g.sx, g.frameWidth),
    clip((y2 - g.top) / g.sy, g.frameHeight),
  ];
}
