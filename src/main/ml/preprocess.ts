// Image preprocessing for CLIP towers: decode (media/image.ts, the one image reader: BMP, EXIF orientation,
// libvips off the JS thread), resize the way the model was trained, and normalise into one batched
// float32 NCHW tensor.
//
// Two transforms (ALGORITHMS.md §5):
// - 'irra'  (IRRA/RDE ViT-B/16 fine-tunes): resize to exactly H×W, bilinear, no crop — aspect is not kept.
// - 'clip'  (stock OpenAI CLIP): shorter side to the crop size, bicubic, then centre crop.
//
// Agreement with the PyTorch/PIL reference (torchvision's Resize on a PIL image = PIL's antialiased
// resize, CenterCrop, ToTensor + Normalize), measured with Debian's python3-pil 9.4 / numpy 1.24 on 40
// synthetic RGB images (noise, gradients, sinusoids, checkerboards; 57×113 … 640×480, up- and downscaled):
//   'irra' 384×128 bilinear and 'clip' 224 bicubic + crop: max |Δ| = 0 in 0–255 units (bit-exact), because
//   the resampler below is a port of Pillow's; after normalisation max |Δ| = 2.4e-7 (float32 rounding of
//   (v/255 − mean)/std done as one multiply-add). sharp's own resize, tried first, differed by up to 152
//   (upscaling: another pixel-centre convention) and 18 (downscaling), so it is used to decode only.
import { decodeImage, decodeImageSource, type ImageSource, type RgbImage } from '../media/image';

export type { RgbImage } from '../media/image';

export type ResizeMode = 'irra' | 'clip';

export interface PreprocessSpec {
  /** Model input size, [height, width]. For 'clip' both must be equal (the crop is square). */
  imageSize: readonly [number, number];
  resize: ResizeMode;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export const IRRA_SPEC: PreprocessSpec = {
  imageSize: [384, 128],
  resize: 'irra',
  mean: CLIP_MEAN,
  std: CLIP_STD,
};
export const CLIP_SPEC: PreprocessSpec = {
  imageSize: [224, 224],
  resize: 'clip',
  mean: CLIP_MEAN,
  std: CLIP_STD,
};

/** A file path, a library image (checked against its stored hash), or encoded image bytes. */
export type PreprocessSource = ImageSource | Buffer;

/**
 * torchvision `Resize(size)` with an int: the shorter side becomes `size`, the longer one is scaled
 * and truncated (int(), not round), so our crop offsets match theirs.
 */
export function shorterSideSize(
  width: number,
  height: number,
  size: number,
): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.floor((size * height) / width) };
  return { width: Math.floor((size * width) / height), height: size };
}

/** Decodes one source to upright RGB, the way the encoder's child process does. */
export const decodeSource = (source: PreprocessSource): Promise<RgbImage> =>
  Buffer.isBuffer(source) ? decodeImage(source) : decodeImageSource(source);

/** The geometric half of the transform, on decoded pixels (synchronous, pure). */
export function transformRgb(img: RgbImage, spec: PreprocessSpec): RgbImage {
  const [h, w] = spec.imageSize;
  if (spec.resize === 'irra') return resampleRgb(img, w, h, 'bilinear');
  const r = shorterSideSize(img.width, img.height, Math.min(h, w));
  const resized = resampleRgb(img, r.width, r.height, 'bicubic');
  // torchvision CenterCrop: top = int(round((H - crop) / 2.0)); Python rounds half to even.
  return cropRgb(resized, roundHalfEven((r.width - w) / 2), roundHalfEven((r.height - h) / 2), w, h);
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function cropRgb(img: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y + top) * img.width + left) * 3;
    data.set(img.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height };
}

// --- Pillow's resampler (libImaging/Resample.c), ported so our tensors match the PIL-based training
// transforms value for value. libvips' own resize differs by tens of grey levels when upscaling (other
// pixel-centre convention) and by up to ~15 when downscaling, which is more than a CLIP model shrugs off.

interface ResampleFilter {
  support: number;
  weight(x: number): number;
}
const BILINEAR: ResampleFilter = {
  support: 1,
  weight: (x) => {
    const a = Math.abs(x);
    return a < 1 ? 1 - a : 0;
  },
};
const BICUBIC_A = -0.5;
const BICUBIC: ResampleFilter = {
  support: 2,
  weight: (x) => {
    const a = Math.abs(x);
    if (a < 1) return ((BICUBIC_A + 2) * a - (BICUBIC_A + 3)) * a * a + 1;
    if (a < 2) return (((a - 5) * a + 8) * a - 4) * BICUBIC_A;
    return 0;
  },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coeffs {
  ksize: number;
  /** Per output index: first input index and tap count. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output index. */
  weights: Int32Array;
}

function precomputeCoeffs(inSize: number, outSize: number, filter: ResampleFilter): Coeffs {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x]! / ww : k[x]!;
      weights[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/** Pillow's two-pass resize (horizontal then vertical, 8-bit intermediate), RGB only. */
export function resampleRgb(
  img: RgbImage,
  outW: number,
  outH: number,
  kind: 'bilinear' | 'bicubic',
): RgbImage {
  const filter = kind === 'bilinear' ? BILINEAR : BICUBIC;
  if (img.width === outW && img.height === outH) return img;
  const needH = outW !== img.width;
  const needV = outH !== img.height;
  const cx = precomputeCoeffs(img.width, outW, filter);
  const cy = precomputeCoeffs(img.height, outH, filter);
  let src = img;
  let rowOffset = 0;
  if (needH) {
    // Only the rows the vertical pass reads.
    const first = needV ? cy.bounds[0]! : 0;
    const last = needV ? cy.bounds[outH * 2 - 2]! + cy.bounds[outH * 2 - 1]! : img.height;
    const rows = last - first;
    const tmp = new Uint8Array(outW * rows * 3);
    for (let y = 0; y < rows; y++) {
      const inRow = (y + first) * img.width * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = cx.bounds[xx * 2]!;
        const xmax = cx.bounds[xx * 2 + 1]!;
        const kb = xx * cx.ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < xmax; x++) {
          const wgt = cx.weights[kb + x]!;
          const p = inRow + (x + xmin) * 3;
          s0 += img.data[p]! * wgt;
          s1 += img.data[p + 1]! * wgt;
          s2 += img.data[p + 2]! * wgt;
        }
        const o = (y * outW + xx) * 3;
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
      }
    }
    src = { data: tmp, width: outW, height: rows };
    rowOffset = first;
  }
  if (!needV) return src;
  const out = new Uint8Array(outW * outH * 3);
  const stride = outW * 3;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = cy.bounds[yy * 2]! - rowOffset;
    const ymax = cy.bounds[yy * 2 + 1]!;
    const kb = yy * cy.ksize;
    for (let i = 0; i < stride; i++) {
      let s = HALF;
      for (let y = 0; y < ymax; y++) s += src.data[(y + ymin) * stride + i]! * cy.weights[kb + y]!;
      out[yy * stride + i] = clip8(s);
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Writes one H×W×3 uint8 image into slot `index` of an NCHW float32 batch, normalised. */
export function writeNormalised(
  rgb: Uint8Array,
  spec: PreprocessSpec,
  batch: Float32Array,
  index: number,
): void {
  const [h, w] = spec.imageSize;
  const plane = h * w;
  const base = index * 3 * plane;
  for (let c = 0; c < 3; c++) {
    // (v/255 - mean)/std as one multiply-add per value.
    const scale = 1 / (255 * spec.std[c]!);
    const shift = -spec.mean[c]! / spec.std[c]!;
    const out = base + c * plane;
    for (let p = 0, s = c; p < plane; p++, s += 3) batch[out + p] = rgb[s]! * scale + shift;
  }
}

export interface PreprocessedBatch {
  /** [count, 3, H, W], normalised; slots of failed images are left zero and must not be used. */
  pixels: Float32Array;
  count: number;
  /** Per input: null when it was preprocessed, else why it could not be read. */
  errors: (string | null)[];
}

/**
 * Preprocesses a batch. All images decode concurrently in libvips' threads; one unreadable image does
 * not fail the batch, it is reported in `errors` at its index.
 */
export async function preprocessBatch(
  sources: readonly PreprocessSource[],
  spec: PreprocessSpec,
): Promise<PreprocessedBatch> {
  const [h, w] = spec.imageSize;
  const pixels = new Float32Array(sources.length * 3 * h * w);
  const errors: (string | null)[] = await Promise.all(
    sources.map(async (src, i) => {
      try {
        writeNormalised(transformRgb(await decodeSource(src), spec).data, spec, pixels, i);
        return null;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    }),
  );
  return { pixels, count: sources.length, errors };
}
