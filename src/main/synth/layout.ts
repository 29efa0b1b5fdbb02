// Where each body region of a rendered person lies, as fractions of the crop's width (x) and height (y).
//
// THE GUARANTEE: every pixel whose centre falls inside a region's CORE shows that region's attribute
// colour, in every view (front, back, side), every pose (shift, leg spread, arm swing), with or without
// long hair, hat, glasses or any bag. Pose and jitter never move a core. Because cores are fractions,
// they stay put when the app resizes a crop (e.g. to 384×128, changing the aspect) and they sit a few
// pixels away from every edge, so bilinear resizing and JPEG's 8×8 blocks and 4:2:0 chroma barely
// touch them. test/unit/synth.test.ts checks this on the renderer's label map for thousands of poses
// and on decoded, resized, re-encoded pixels.
//
// Averages over a core are shifted by lighting (×0.85–1.15), light garment shading and a little
// noise; `nearestColour` absorbs that because the palette colours are far apart (every pair ≥ 85).
// `readColours` is the whole recipe (what a toy CLIP image tower or an oracle MLLM should do).
import {
  COLOURS,
  COLOUR_NAMES,
  GARMENT_WORDS,
  type BagType,
  type ColourName,
  type GarmentWord,
  type Rgb,
} from '../pipelines/attributes';

/** A rectangle in fractions: x of the width, y of the height, [x0, x1) × [y0, y1). */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export const REGION_NAMES = ['hat', 'hair', 'top', 'bottom', 'shoes', 'bag'] as const;
export type RegionName = (typeof REGION_NAMES)[number];

export interface Region {
  /** Where the region can reach in some pose or view (for drawing overlays, not for reading colours). */
  extent: Rect;
  /** Rectangles that always show the region's colour; average over all of them together. */
  core: readonly Rect[];
  /** What the core shows when the item is absent. */
  whenAbsent?: string;
}

const rect = (x0: number, y0: number, x1: number, y1: number): Rect => ({ x0, y0, x1, y1 });

export const LAYOUT: Readonly<Record<RegionName, Region>> = {
  hat: {
    extent: rect(0.36, 0.025, 0.66, 0.07),
    core: [rect(0.455, 0.042, 0.545, 0.056)],
    whenAbsent: 'hair (a cap never has the hair colour, so a different colour there means a cap)',
  },
  hair: { extent: rect(0.37, 0.025, 0.63, 0.26), core: [rect(0.44, 0.072, 0.56, 0.088)] },
  top: { extent: rect(0.25, 0.16, 0.75, 0.47), core: [rect(0.43, 0.27, 0.57, 0.42)] },
  bottom: { extent: rect(0.28, 0.44, 0.72, 0.94), core: [rect(0.42, 0.478, 0.58, 0.522)] },
  shoes: {
    extent: rect(0.3, 0.93, 0.72, 0.98),
    core: [rect(0.42, 0.945, 0.46, 0.968), rect(0.55, 0.945, 0.6, 0.968)],
  },
  bag: {
    extent: rect(0.6, 0.16, 0.95, 0.56),
    core: [rect(0.79, 0.45, 0.89, 0.49)],
    whenAbsent: 'background, the same as BACKGROUND_REFERENCE (backgrounds vary only vertically)',
  },
};

/**
 * Background only, at the bag core's height on the other side of the body. Backgrounds vary
 * vertically but never horizontally, so this matches the bag core when there is no bag.
 */
export const BACKGROUND_REFERENCE: readonly Rect[] = [rect(0.03, 0.45, 0.13, 0.49)];

/**
 * Probes that tell bag types apart once `bag` shows a bag: `high` is covered only by a backpack,
 * `middle` by a backpack or a shoulder bag, `low` only by a handbag. Elsewhere they show background.
 */
export const BAG_PROBES: Readonly<Record<'high' | 'middle' | 'low', readonly Rect[]>> = {
  high: [rect(0.79, 0.25, 0.89, 0.32)],
  middle: [rect(0.79, 0.385, 0.89, 0.42)],
  low: [rect(0.79, 0.515, 0.89, 0.535)],
};

/**
 * Background at each probe's height, left of the body (nothing is ever drawn there). A probe shows a
 * bag when its mean is nearer the bag core's colour than this reference's.
 */
export const BAG_PROBE_BACKGROUND: Readonly<Record<'high' | 'middle' | 'low', readonly Rect[]>> = {
  high: [rect(0.03, 0.25, 0.13, 0.32)],
  middle: [rect(0.03, 0.385, 0.13, 0.42)],
  low: [rect(0.03, 0.515, 0.13, 0.535)],
};

type RegionOf<W extends GarmentWord> = (typeof GARMENT_WORDS)[W] extends RegionName
  ? (typeof GARMENT_WORDS)[W]
  : never;
type RegionWord = { [W in GarmentWord]: RegionOf<W> extends never ? never : W }[GarmentWord];

/** Which region each garment word of the vocabulary refers to: GARMENT_WORDS less glasses, which have none. */
export const GARMENT_REGION = Object.fromEntries(
  Object.entries(GARMENT_WORDS).filter(([, attribute]) => attribute !== 'glasses'),
) as { readonly [W in RegionWord]: RegionOf<W> };

/** Pixel indices (row-major) whose centres lie in any of the rectangles; never empty. */
export function corePixels(rects: readonly Rect[], width: number, height: number): number[] {
  const out: number[] = [];
  for (const r of rects) {
    for (let y = 0; y < height; y++) {
      const fy = (y + 0.5) / height;
      if (fy < r.y0 || fy >= r.y1) continue;
      for (let x = 0; x < width; x++) {
        const fx = (x + 0.5) / width;
        if (fx >= r.x0 && fx < r.x1) out.push(y * width + x);
      }
    }
    // A tiny image may have no pixel centre inside a thin core: fall back to the pixel at its centre.
    if (out.length === 0) {
      const x = Math.min(width - 1, Math.floor(((r.x0 + r.x1) / 2) * width));
      const y = Math.min(height - 1, Math.floor(((r.y0 + r.y1) / 2) * height));
      out.push(y * width + x);
    }
  }
  return out;
}

/** Mean colour over the rectangles of an interleaved 8-bit image with `channels` ≥ 3 (RGB first). */
export function meanColour(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  rects: readonly Rect[],
): Rgb {
  const idx = corePixels(rects, width, height);
  let r = 0;
  let g = 0;
  let b = 0;
  for (const i of idx) {
    const o = i * channels;
    r += pixels[o] ?? 0;
    g += pixels[o + 1] ?? 0;
    b += pixels[o + 2] ?? 0;
  }
  const n = idx.length;
  return [r / n, g / n, b / n];
}

/** Mean colour of every region core. */
export function regionMeans(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
): Record<RegionName, Rgb> {
  const out = {} as Record<RegionName, Rgb>;
  for (const name of REGION_NAMES) out[name] = meanColour(pixels, width, height, channels, LAYOUT[name].core);
  return out;
}

export const colourDistance = (a: Rgb, b: Rgb): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** The palette colour nearest to `rgb` (Euclidean in sRGB), restricted to `among` when given. */
export function nearestColour(
  rgb: Rgb,
  among: readonly ColourName[] = COLOUR_NAMES,
): { name: ColourName; distance: number } {
  let best: ColourName = among[0] ?? 'black';
  let bestD = Infinity;
  for (const name of among) {
    const d = colourDistance(rgb, COLOURS[name]);
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return { name: best, distance: bestD };
}

export interface ColourReading {
  top: ColourName;
  bottom: ColourName;
  shoes: ColourName;
  hair: ColourName;
  /** null: no cap (the hat core shows the hair's colour). */
  hat: ColourName | null;
  /** null: no bag (the bag core matches the background beside the body). */
  bag: { type: Exclude<BagType, 'none'> | null; colour: ColourName } | null;
}

/**
 * Reads a person's colours from pixels: the nearest palette colour of each core's mean, a cap where
 * the hat core differs from the hair, a bag where the bag core differs from the background, and the
 * bag's type from the probes. Works on any size the crop was resized to, RGB or RGBA.
 */
export function readColours(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
): ColourReading {
  const m = regionMeans(pixels, width, height, channels);
  const hair = nearestColour(m.hair).name;
  const hat = nearestColour(m.hat).name;
  const background = meanColour(pixels, width, height, channels, BACKGROUND_REFERENCE);
  let bag: ColourReading['bag'] = null;
  // Bag and background get the same lighting, and every scene colour is ≥ 50 from every palette colour.
  if (colourDistance(m.bag, background) > 30) {
    const shows = (probe: keyof typeof BAG_PROBES): boolean => {
      const at = meanColour(pixels, width, height, channels, BAG_PROBES[probe]);
      const bg = meanColour(pixels, width, height, channels, BAG_PROBE_BACKGROUND[probe]);
      return colourDistance(at, m.bag) < colourDistance(at, bg);
    };
    const type = shows('high')
      ? 'backpack'
      : shows('middle')
        ? 'shoulder bag'
        : shows('low')
          ? 'handbag'
          : null;
    bag = { type, colour: nearestColour(m.bag).name };
  }
  return {
    top: nearestColour(m.top).name,
    bottom: nearestColour(m.bottom).name,
    shoes: nearestColour(m.shoes).name,
    hair,
    hat: hat === hair ? null : hat,
    bag,
  };
}
