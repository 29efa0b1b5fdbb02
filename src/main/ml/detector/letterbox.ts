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
 * Resizes one frame (packed RGB bytes) into the model's input size, padded per `g`: packed RGB bytes again,
 * inputWidth × inputHeight × 3 (a quarter of the float tensor's size: this is what crosses to the encoder
 * process).
 */
export function letterboxRgb(rgb: Uint8Array, g: Geometry, padValue: number): Uint8Array {
  const W = g.inputWidth;
  const out = new Uint8Array(W * g.inputHeight * 3).fill(padValue);
  const fw = g.frameWidth;
  const gw = g.width;
  const xs = taps(fw, gw);
  const ys = taps(g.frameHeight, g.height);
  // Source byte offsets of the two horizontal taps, per output column.
  const a0 = new Int32Array(gw);
  const a1 = new Int32Array(gw);
  for (let x = 0; x < gw; x++) {
    a0[x] = xs.i0[x]! * 3;
    a1[x] = xs.i1[x]! * 3;
  }
  const wx = xs.w1;
  // Horizontally resized rows (three channels), cached: upscaling reuses source rows.
  let row0 = new Float32Array(gw * 3);
  let row1 = new Float32Array(gw * 3);
  const fillRow = (y: number, dst: Float32Array): void => {
    const o = y * fw * 3;
    for (let x = 0, d = 0; x < gw; x++, d += 3) {
      const a = o + a0[x]!;
      const b = o + a1[x]!;
      const w = wx[x]!;
      const r = rgb[a]!;
      const gg = rgb[a + 1]!;
      const bb = rgb[a + 2]!;
      dst[d] = r + (rgb[b]! - r) * w;
      dst[d + 1] = gg + (rgb[b + 1]! - gg) * w;
      dst[d + 2] = bb + (rgb[b + 2]! - bb) * w;
    }
  };
  let cached0 = -1;
  let cached1 = -1;
  const n = gw * 3;
  for (let y = 0; y < g.height; y++) {
    const y0 = ys.i0[y]!;
    const y1 = ys.i1[y]!;
    const wy = ys.w1[y]!;
    if (y0 !== cached0) {
      if (y0 === cached1) {
        const t = row0;
        row0 = row1;
        row1 = t;
        cached0 = y0;
        cached1 = -1;
      } else {
        fillRow(y0, row0);
        cached0 = y0;
      }
    }
    if (y1 !== cached1) {
      fillRow(y1, row1);
      cached1 = y1;
    }
    const dst = ((g.top + y) * W + g.left) * 3;
    // OpenCV rounds to 8 bits after the resize.
    for (let k = 0; k < n; k++) {
      const t = row0[k]!;
      out[dst + k] = Math.round(t + (row1[k]! - t) * wy);
    }
  }
  return out;
}

/**
 * Normalises a letterboxed picture (packed RGB, the input's size) into `out`, an NCHW float32 batch, at
 * `index`: value = (byte × scale − mean) / std, channels in the model's order.
 */
export function writeNormalised(
  input: Uint8Array,
  width: number,
  height: number,
  p: Preprocess,
  out: Float32Array,
  index: number,
): void {
  const plane = width * height;
  const base = index * 3 * plane;
  for (let c = 0; c < 3; c++) {
    // Output channel c reads picture channel src.
    const src = p.channels === 'rgb' ? c : 2 - c;
    const mul = p.scale / p.std[src]!;
    const add = -p.mean[src]! / p.std[src]!;
    const dst = base + c * plane;
    for (let i = 0, k = src; i < plane; i++, k += 3) out[dst + i] = input[k]! * mul + add;
  }
}

/** Both steps at once: a frame into the float batch (resize, pad, normalise). */
export function writeInputTensor(
  rgb: Uint8Array,
  g: Geometry,
  p: Preprocess,
  out: Float32Array,
  index: number,
): void {
  writeNormalised(letterboxRgb(rgb, g, p.padValue), g.inputWidth, g.inputHeight, p, out, index);
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
