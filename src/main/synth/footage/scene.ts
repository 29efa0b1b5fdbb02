// The static scenes of the synthetic cameras. Every scene is painted from a small palette of teal/cyan/sea
// colours that no person wears: each is ≥ 67 RGB units from every colour the person renderer can paint
// (garments, hair, skin, detail lines, under lighting ×0.85–1.15 and garment shading), while the colours a
// scene puts side by side are ≤ 52 apart, so a blend at their border stays near one of them. The toy person
// detector knows this palette (synth/toy-detector): "not a scene colour" is its foreground.
import type { Rgb } from '../../pipelines/attributes';

export const SCENE_PALETTE = {
  teal: [60, 150, 150],
  deepTeal: [35, 115, 120],
  cyan: [60, 180, 200],
  midCyan: [50, 155, 175],
  darkCyan: [40, 130, 150],
  sea: [70, 170, 135],
  seaDark: [50, 140, 110],
} as const satisfies Record<string, Rgb>;
export type SceneColour = keyof typeof SCENE_PALETTE;

export interface SceneStyle {
  name: string;
  wall: SceneColour;
  ground: SceneColour;
  /** Pillars, benches, planters: static things in the picture. */
  detail: SceneColour;
}

/** One style per camera, in turn. */
export const SCENE_STYLES: readonly SceneStyle[] = [
  { name: 'plaza', wall: 'teal', ground: 'deepTeal', detail: 'deepTeal' },
  { name: 'corridor', wall: 'cyan', ground: 'darkCyan', detail: 'midCyan' },
  { name: 'park', wall: 'sea', ground: 'seaDark', detail: 'seaDark' },
];

/** Where the wall meets the ground, as a fraction of the frame's height. */
export const HORIZON = 0.42;

function hashNoise(seed: number, i: number): number {
  let h = Math.imul(i ^ seed, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2147483648 - 1;
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * Paints a camera's background: wall above the horizon, ground below (slightly brighter towards the camera),
 * a few pillars and a bench in the detail colour, and a fixed texture (±4). Packed RGB.
 */
export function renderScene(style: SceneStyle, width: number, height: number, seed: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  const wall = SCENE_PALETTE[style.wall];
  const ground = SCENE_PALETTE[style.ground];
  const detail = SCENE_PALETTE[style.detail];
  const horizon = Math.round(height * HORIZON);
  // Pillars at fixed places along the wall, and one bench on the ground.
  const pillars = [0.12, 0.47, 0.83].map((f) => [Math.round(width * f), Math.round(width * (f + 0.035))]);
  const bench = {
    x0: Math.round(width * 0.58),
    x1: Math.round(width * 0.74),
    y0: Math.round(height * 0.5),
    y1: Math.round(height * 0.53),
  };
  for (let y = 0; y < height; y++) {
    const fy = y / height;
    for (let x = 0; x < width; x++) {
      let c: Rgb;
      let f = 1;
      if (y < horizon) {
        c = pillars.some(([a, b]) => x >= a! && x < b!) ? detail : wall;
        f = 0.97 + 0.06 * (fy / HORIZON);
      } else {
        c = x >= bench.x0 && x < bench.x1 && y >= bench.y0 && y < bench.y1 ? detail : ground;
        f = 0.97 + 0.06 * ((fy - HORIZON) / (1 - HORIZON));
      }
      const n = hashNoise(seed, y * width + x) * 4;
      const o = (y * width + x) * 3;
      out[o] = clamp(c[0] * f + n);
      out[o + 1] = clamp(c[1] * f + n);
      out[o + 2] = clamp(c[2] * f + n);
    }
  }
  return out;
}
