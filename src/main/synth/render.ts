// Renders one synthetic pedestrian crop. Drawing happens in two passes: shapes are filled into a label
// map (which body part owns each pixel), then the label map is coloured (attribute colours, garment
// shading, background, lighting, noise). The label map is what the layout guarantee is tested on: a
// region core must hold only its own label in every view and pose.
import sharp from 'sharp';
import { COLOURS, type ColourName, type PersonAttributes, type Rgb } from '../pipelines/attributes';
import type { Rng } from '../rng';

export const LABEL = {
  background: 0,
  skin: 1,
  hair: 2,
  top: 3,
  topDark: 4,
  bottom: 5,
  bottomDark: 6,
  shoes: 7,
  bag: 8,
  bagDark: 9,
  hat: 10,
  dark: 11,
} as const;
export type Label = (typeof LABEL)[keyof typeof LABEL];

export const VIEWS = ['front', 'back', 'side'] as const;
export type View = (typeof VIEWS)[number];

/** Pose variation; none of it moves a region core (see layout.ts). */
export interface Pose {
  view: View;
  /** Horizontal shift of the whole person, as a fraction of the width (±0.015). */
  shift: number;
  /** Front/back: ankle distance from the centre line; side: half the stride. Width fractions. */
  spread: number;
  /** Front/back: how far the hands hang out from the hips; side: how far the arms swing. */
  arm: number;
}

/** Muted scene colours, kept away from the clothing palette so a bare region never reads as clothing. */
export const BACKGROUND_COLOURS = {
  teal: [60, 150, 150],
  sky: [140, 185, 220],
  lavender: [175, 165, 215],
  beige: [215, 195, 160],
  mint: [160, 215, 190],
  denim: [80, 110, 150],
  clay: [170, 120, 100],
} as const satisfies Record<string, Rgb>;
export type BackgroundColour = keyof typeof BACKGROUND_COLOURS;
const BACKGROUND_NAMES = Object.keys(BACKGROUND_COLOURS) as BackgroundColour[];

/** Backgrounds vary vertically only (plus zero-mean noise): layout.BACKGROUND_REFERENCE relies on it. */
export interface Background {
  kind: 'flat' | 'gradient' | 'noise' | 'street';
  colour: BackgroundColour;
  /** Street: the ground's colour, below `horizon`. */
  ground: BackgroundColour;
  /** Brightness at the top and at the bottom (gradient, street wall). */
  top: number;
  bottom: number;
  horizon: number;
}

export const SKIN_TONES: readonly Rgb[] = [
  [236, 196, 166],
  [214, 164, 126],
  [176, 124, 88],
  [120, 82, 58],
];

export interface Scene {
  pose: Pose;
  background: Background;
  /** Global brightness factor, 0.85–1.15. */
  lighting: number;
  /** Seeds the per-pixel noise. */
  noiseSeed: number;
}

export interface RenderInput extends Scene {
  attributes: PersonAttributes;
  skin: Rgb;
}

export interface RenderSize {
  width: number;
  height: number;
}
export const DEFAULT_SIZE: RenderSize = { width: 128, height: 256 };

/** Scene numbers are kept to 4 decimals so attributes.json holds exactly what was rendered. */
const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** The extremes of every pose parameter; the layout test draws people at each corner. */
export const POSE_RANGES = {
  shift: [-0.015, 0.015],
  spread: { front: [0.06, 0.085], back: [0.06, 0.085], side: [0.05, 0.08] },
  arm: { front: [0, 0.03], back: [0, 0.03], side: [0.1, 0.16] },
} as const satisfies {
  shift: readonly [number, number];
  spread: Record<View, readonly [number, number]>;
  arm: Record<View, readonly [number, number]>;
};

export function samplePose(view: View, rng: Rng): Pose {
  const [s0, s1] = POSE_RANGES.spread[view];
  const [a0, a1] = POSE_RANGES.arm[view];
  return {
    view,
    shift: r4(rng.range(POSE_RANGES.shift[0], POSE_RANGES.shift[1])),
    spread: r4(rng.range(s0, s1)),
    arm: r4(rng.range(a0, a1)),
  };
}

export function sampleScene(view: View, rng: Rng): Scene {
  const colour = rng.pick(BACKGROUND_NAMES);
  const background: Background = {
    kind: rng.pick(['flat', 'gradient', 'noise', 'street'] as const),
    colour,
    ground: rng.pick(BACKGROUND_NAMES.filter((c) => c !== colour)),
    top: r4(rng.range(0.85, 1.1)),
    bottom: r4(rng.range(0.85, 1.1)),
    horizon: r4(rng.range(0.7, 0.85)),
  };
  return {
    pose: samplePose(view, rng),
    background,
    lighting: r4(rng.range(0.85, 1.15)),
    noiseSeed: rng.int(2 ** 31),
  };
}

// ---------------------------------------------------------------------------------------------------
// Pass 1: shapes into the label map. Coordinates are fractions (x of width, y of height) relative to
// the person's own centre line; radii are fractions of the width.

class LabelCanvas {
  readonly labels: Uint8Array;
  constructor(
    readonly w: number,
    readonly h: number,
    readonly shift: number,
  ) {
    this.labels = new Uint8Array(w * h);
  }

  private px(fx: number): number {
    return (fx + this.shift) * this.w;
  }

  private rows(y0: number, y1: number): [number, number] {
    return [Math.max(0, Math.floor(y0 * this.h - 0.5)), Math.min(this.h - 1, Math.ceil(y1 * this.h))];
  }

  private cols(x0: number, x1: number): [number, number] {
    return [Math.max(0, Math.floor(this.px(x0) - 0.5)), Math.min(this.w - 1, Math.ceil(this.px(x1)))];
  }

  rect(x0: number, y0: number, x1: number, y1: number, label: Label): void {
    const [ra, rb] = this.rows(y0, y1);
    const [ca, cb] = this.cols(x0, x1);
    const X0 = this.px(x0);
    const X1 = this.px(x1);
    for (let y = ra; y <= rb; y++) {
      const cy = y + 0.5;
      if (cy < y0 * this.h || cy >= y1 * this.h) continue;
      for (let x = ca; x <= cb; x++) {
        const cx = x + 0.5;
        if (cx >= X0 && cx < X1) this.labels[y * this.w + x] = label;
      }
    }
  }

  /** rx is a width fraction, ry a height fraction; `keep(fx, fy)` clips in person coordinates. */
  ellipse(
    cx: number,
    cy: number,
    rx: number,
    ry: number,
    label: Label,
    keep?: (fx: number, fy: number) => boolean,
  ): void {
    const [ra, rb] = this.rows(cy - ry, cy + ry);
    const [ca, cb] = this.cols(cx - rx, cx + rx);
    for (let y = ra; y <= rb; y++) {
      const fy = (y + 0.5) / this.h;
      const dy = (fy - cy) / ry;
      for (let x = ca; x <= cb; x++) {
        const fx = (x + 0.5) / this.w - this.shift;
        const dx = (fx - cx) / rx;
        if (dx * dx + dy * dy <= 1 && (!keep || keep(fx, fy))) this.labels[y * this.w + x] = label;
      }
    }
  }

  /** Even-odd scanline fill of a polygon given as [x, y] fraction pairs. */
  poly(points: readonly (readonly [number, number])[], label: Label): void {
    const ys = points.map((p) => p[1]);
    const [ra, rb] = this.rows(Math.min(...ys), Math.max(...ys));
    const xs: number[] = [];
    for (let y = ra; y <= rb; y++) {
      const cy = (y + 0.5) / this.h;
      xs.length = 0;
      for (let i = 0; i < points.length; i++) {
        const a = points[i] as readonly [number, number];
        const b = points[(i + 1) % points.length] as readonly [number, number];
        if ((a[1] <= cy && b[1] > cy) || (b[1] <= cy && a[1] > cy)) {
          xs.push(this.px(a[0] + ((cy - a[1]) / (b[1] - a[1])) * (b[0] - a[0])));
        }
      }
      xs.sort((p, q) => p - q);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil((xs[k] as number) - 0.5));
        const to = Math.min(this.w - 1, Math.ceil((xs[k + 1] as number) - 0.5) - 1);
        for (let x = from; x <= to; x++) this.labels[y * this.w + x] = label;
      }
    }
  }

  /**
   * A tapered capsule from (x0, y0) with radius r0 to (x1, y1) with radius r1, cut flat where the
   * position along the limb leaves [tFrom, tTo] (sleeves, shorts).
   */
  limb(
    x0: number,
    y0: number,
    r0: number,
    x1: number,
    y1: number,
    r1: number,
    label: Label,
    tFrom = -1,
    tTo = 2,
  ): void {
    const W = this.w;
    const H = this.h;
    const ax = this.px(x0);
    const ay = y0 * H;
    const bx = this.px(x1);
    const by = y1 * H;
    const R0 = r0 * W;
    const R1 = r1 * W;
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const rmax = Math.max(R0, R1);
    const ra = Math.max(0, Math.floor(Math.min(ay, by) - rmax - 1));
    const rb = Math.min(H - 1, Math.ceil(Math.max(ay, by) + rmax + 1));
    const ca = Math.max(0, Math.floor(Math.min(ax, bx) - rmax - 1));
    const cb = Math.min(W - 1, Math.ceil(Math.max(ax, bx) + rmax + 1));
    for (let y = ra; y <= rb; y++) {
      const py = y + 0.5;
      for (let x = ca; x <= cb; x++) {
        const px = x + 0.5;
        const raw = ((px - ax) * dx + (py - ay) * dy) / len2;
        if (raw < tFrom || raw > tTo) continue;
        const t = raw < 0 ? 0 : raw > 1 ? 1 : raw;
        const qx = ax + t * dx - px;
        const qy = ay + t * dy - py;
        const r = R0 + (R1 - R0) * t;
        if (qx * qx + qy * qy <= r * r) this.labels[y * W + x] = label;
      }
    }
  }

  roundRect(x0: number, y0: number, x1: number, y1: number, radius: number, label: Label): void {
    const ry = (radius * this.w) / this.h;
    this.rect(x0 + radius, y0, x1 - radius, y1, label);
    this.rect(x0, y0 + ry, x1, y1 - ry, label);
    for (const [cx, cy] of [
      [x0 + radius, y0 + ry],
      [x1 - radius, y0 + ry],
      [x0 + radius, y1 - ry],
      [x1 - radius, y1 - ry],
    ] as const) {
      this.ellipse(cx, cy, radius, ry, label);
    }
  }
}

const HEAD = { cx: 0.5, cy: 0.095, rx: 0.095, ry: 0.063 };
/** Front hair ends (and the face begins) here; hair core sits just above. */
const HAIRLINE = 0.092;
const HEM: Record<PersonAttributes['top']['type'], number> = {
  't-shirt': 0.455,
  sweater: 0.455,
  shirt: 0.46,
  hoodie: 0.46,
  jacket: 0.465,
};

/** Fills the label map for one person. Exposed for the layout guarantee test. */
export function drawLabels(
  input: Pick<RenderInput, 'attributes' | 'pose'>,
  size: RenderSize = DEFAULT_SIZE,
): Uint8Array {
  const a = input.attributes;
  const { view, spread, arm } = input.pose;
  const c = new LabelCanvas(size.width, size.height, input.pose.shift);
  const woman = a.sex === 'woman';
  const side = view === 'side';
  const front = view === 'front';
  const longHair = a.hair.length === 'long';
  const shoulder = side ? 0.1 : woman ? 0.15 : 0.165;
  const waist = side ? 0.105 : woman ? 0.12 : 0.13;
  const hips = side ? 0.11 : woman ? 0.14 : 0.133;
  const hem = HEM[a.top.type];

  // Long hair falling down the back shows beside the neck from the front: draw it first.
  if (longHair && front) c.rect(0.4, 0.09, 0.6, 0.245, LABEL.hair);

  // Arms, behind the torso (so a swinging arm never crosses the torso core).
  const sleeveEnd = a.top.sleeves === 'long' ? 0.9 : 0.38;
  const arms: [number, number, number, number][] = side
    ? [
        [0.5, 0.2, 0.5 + arm, 0.44],
        [0.5, 0.2, 0.5 - arm * 0.8, 0.44],
      ]
    : [
        [0.5 - shoulder + 0.03, 0.195, 0.5 - shoulder - 0.03 - arm, 0.455],
        [0.5 + shoulder - 0.03, 0.195, 0.5 + shoulder + 0.03 + arm, 0.455],
      ];
  for (const [sx, sy, hx, hy] of arms) {
    c.limb(sx, sy, 0.045, hx, hy, 0.033, LABEL.skin);
    c.ellipse(hx, hy + 0.01, 0.03, 0.016, LABEL.skin);
    c.limb(sx, sy, 0.053, hx, hy, 0.041, LABEL.top, -1, sleeveEnd);
  }

  // Neck, then legs (skin first, then the garment over them).
  c.rect(0.455, 0.135, 0.545, 0.19, LABEL.skin);
  const legs: [number, number, number, number][] = side
    ? [
        [0.5, 0.51, 0.5 - spread, 0.935],
        [0.5, 0.51, 0.5 + spread, 0.935],
      ]
    : [
        [0.435, 0.51, 0.5 - spread, 0.935],
        [0.565, 0.51, 0.5 + spread, 0.935],
      ];
  const bottomType = a.bottom.type;
  for (const [hx, hy, fx, fy] of legs) {
    c.limb(hx, hy, side ? 0.08 : 0.068, fx, fy, 0.04, LABEL.skin);
    if (bottomType === 'trousers' || bottomType === 'jeans')
      c.limb(hx, hy, side ? 0.088 : 0.075, fx, fy, 0.05, LABEL.bottom);
    if (bottomType === 'shorts') c.limb(hx, hy, side ? 0.09 : 0.078, fx, fy, 0.05, LABEL.bottom, -1, 0.3);
  }
  c.poly(
    [
      [0.5 - waist, 0.44],
      [0.5 + waist, 0.44],
      [0.5 + hips, 0.545],
      [0.5 - hips, 0.545],
    ],
    LABEL.bottom,
  );
  if (bottomType === 'skirt') {
    const long = a.bottom.length === 'long';
    const hemY = long ? 0.8 : 0.64;
    const flare = (long ? 0.19 : 0.17) * (side ? 0.8 : 1);
    c.poly(
      [
        [0.5 - waist, 0.44],
        [0.5 + waist, 0.44],
        [0.5 + flare, hemY],
        [0.5 - flare, hemY],
      ],
      LABEL.bottom,
    );
    c.rect(0.5 - flare, hemY - 0.008, 0.5 + flare, hemY, LABEL.bottomDark);
  }
  if (bottomType !== 'skirt') c.rect(0.5 - waist, 0.44, 0.5 + waist, 0.449, LABEL.bottomDark); // belt line

  // Shoes.
  for (const [, , fx] of legs) {
    const [x0, x1] = side ? [fx - 0.05, fx + 0.11] : [fx - 0.065, fx + 0.065];
    c.rect(x0, 0.93, x1, 0.962, LABEL.shoes);
    c.ellipse((x0 + x1) / 2, 0.962, (x1 - x0) / 2, 0.014, LABEL.shoes);
  }

  // Torso.
  const torso: [number, number][] = [
    [0.5 - 0.085, 0.163],
    [0.5 + 0.085, 0.163],
    [0.5 + shoulder, 0.19],
    [0.5 + shoulder - (side ? -0.015 : 0.02), 0.3],
    [0.5 + waist, 0.445],
    [0.5 + waist, hem],
    [0.5 - waist, hem],
    [0.5 - waist, 0.445],
    [0.5 - shoulder + (side ? -0.015 : 0.02), 0.3],
    [0.5 - shoulder, 0.19],
  ];
  c.poly(torso, LABEL.top);
  if (a.top.type === 'sweater' || a.top.type === 'hoodie')
    c.rect(0.5 - waist, hem - 0.012, 0.5 + waist, hem, LABEL.topDark);
  if (front) {
    if (a.top.type === 'shirt' || a.top.type === 'jacket') {
      // Collar / lapels.
      c.poly(
        [
          [0.44, 0.158],
          [0.5, 0.2],
          [0.47, 0.215],
        ],
        LABEL.topDark,
      );
      c.poly(
        [
          [0.56, 0.158],
          [0.5, 0.2],
          [0.53, 0.215],
        ],
        LABEL.topDark,
      );
      c.ellipse(0.5, 0.165, 0.03, 0.018, LABEL.skin);
    } else {
      c.ellipse(0.5, 0.163, 0.05, 0.014, LABEL.skin); // round neckline
    }
    if (a.top.type === 'jacket') c.rect(0.5 - waist, hem - 0.01, 0.5 + waist, hem, LABEL.topDark);
  }
  if (a.top.type === 'hoodie') {
    if (view === 'back') c.ellipse(0.5, 0.205, 0.085, 0.04, LABEL.topDark);
    else c.ellipse(0.5, 0.168, 0.1, 0.014, LABEL.topDark, (_fx, fy) => fy > 0.162);
  }

  // Head, face, hair.
  c.ellipse(HEAD.cx, HEAD.cy, HEAD.rx, HEAD.ry, LABEL.skin);
  const hrx = HEAD.rx + 0.012;
  const hry = HEAD.ry + 0.006;
  if (view === 'back') {
    c.ellipse(HEAD.cx, HEAD.cy, hrx, hry, LABEL.hair);
  } else if (side) {
    c.ellipse(HEAD.cx, HEAD.cy, hrx, hry, LABEL.hair, (fx, fy) => fy < HAIRLINE || fx < 0.51);
    c.ellipse(0.598, 0.108, 0.014, 0.008, LABEL.skin); // nose
  } else {
    const sides = longHair ? 0.065 : 0.075;
    c.ellipse(
      HEAD.cx,
      HEAD.cy,
      hrx,
      hry,
      LABEL.hair,
      (fx, fy) => fy < HAIRLINE || (Math.abs(fx - 0.5) > sides && fy < (longHair ? 0.2 : 0.115)),
    );
  }
  if (longHair) {
    if (view === 'back') c.roundRect(0.4, 0.09, 0.6, 0.25, 0.03, LABEL.hair);
    else if (side) c.roundRect(0.4, 0.09, 0.52, 0.24, 0.025, LABEL.hair);
    else {
      c.roundRect(0.39, 0.085, 0.43, 0.235, 0.015, LABEL.hair);
      c.roundRect(0.57, 0.085, 0.61, 0.235, 0.015, LABEL.hair);
    }
  }
  if (front) {
    c.rect(0.452, 0.104, 0.468, 0.112, LABEL.dark);
    c.rect(0.532, 0.104, 0.548, 0.112, LABEL.dark);
    c.rect(0.48, 0.133, 0.52, 0.137, LABEL.dark);
    if (a.glasses) {
      for (const x0 of [0.43, 0.515]) {
        c.rect(x0, 0.099, x0 + 0.055, 0.118, LABEL.dark);
        c.rect(x0 + 0.01, 0.103, x0 + 0.045, 0.114, LABEL.skin);
      }
      c.rect(0.485, 0.104, 0.515, 0.107, LABEL.dark);
      c.rect(0.447, 0.107, 0.46, 0.112, LABEL.dark);
      c.rect(0.532, 0.107, 0.545, 0.112, LABEL.dark);
    }
  } else if (side) {
    c.rect(0.565, 0.104, 0.578, 0.112, LABEL.dark);
    if (a.glasses) {
      c.rect(0.555, 0.099, 0.59, 0.118, LABEL.dark);
      c.rect(0.5, 0.104, 0.56, 0.107, LABEL.dark);
    }
  }

  // Cap: crown over the top of the head, brim forward (front: a band; side: a peak).
  if (a.hat.type === 'cap') {
    c.ellipse(HEAD.cx, HEAD.cy, HEAD.rx + 0.016, HEAD.ry + 0.008, LABEL.hat, (_fx, fy) => fy < 0.062);
    if (front) c.ellipse(0.5, 0.062, 0.115, 0.006, LABEL.hat);
    if (side) c.rect(0.5, 0.057, 0.645, 0.067, LABEL.hat);
  }

  // Bags hang on the viewer's right in every view, so the bag core sees them whatever the view.
  if (a.bag.type === 'backpack') {
    c.limb(0.6, 0.17, 0.016, 0.76, 0.225, 0.016, LABEL.bagDark);
    c.roundRect(0.7, 0.21, 0.93, 0.5, 0.035, LABEL.bag);
    c.rect(0.7, 0.335, 0.93, 0.345, LABEL.bagDark);
  } else if (a.bag.type === 'shoulder bag') {
    c.limb(0.6, 0.17, 0.012, 0.8, 0.365, 0.012, LABEL.bagDark);
    c.roundRect(0.72, 0.36, 0.92, 0.5, 0.02, LABEL.bag);
    c.rect(0.72, 0.425, 0.92, 0.435, LABEL.bagDark);
  } else if (a.bag.type === 'handbag') {
    c.limb(0.78, 0.447, 0.01, 0.8, 0.43, 0.01, LABEL.bagDark);
    c.limb(0.8, 0.43, 0.01, 0.86, 0.43, 0.01, LABEL.bagDark);
    c.limb(0.86, 0.43, 0.01, 0.88, 0.447, 0.01, LABEL.bagDark);
    c.roundRect(0.74, 0.445, 0.92, 0.545, 0.02, LABEL.bag);
  }
  return c.labels;
}

// ---------------------------------------------------------------------------------------------------
// Pass 2: colour.

const DARK: Rgb = [38, 32, 30];
const mul = (c: Rgb, f: number): Rgb => [c[0] * f, c[1] * f, c[2] * f];
const palette = (name: ColourName | null): Rgb => (name ? COLOURS[name] : DARK);

/** Cheap per-pixel hash noise in [-1, 1): no allocation, no RNG state, deterministic per seed. */
function hashNoise(seed: number, i: number): number {
  let h = Math.imul(i ^ seed, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2147483648 - 1;
}

/** Renders one person as packed 8-bit RGB (no alpha), width × height × 3 bytes. */
export function renderPerson(
  input: RenderInput,
  size: RenderSize = DEFAULT_SIZE,
): { rgb: Buffer; labels: Uint8Array } {
  const { width: W, height: H } = size;
  const labels = drawLabels(input, size);
  const a = input.attributes;
  const colours: Rgb[] = [];
  colours[LABEL.background] = [0, 0, 0];
  colours[LABEL.skin] = input.skin;
  colours[LABEL.hair] = COLOURS[a.hair.colour];
  colours[LABEL.top] = COLOURS[a.top.colour];
  colours[LABEL.topDark] = mul(COLOURS[a.top.colour], 0.72);
  colours[LABEL.bottom] = COLOURS[a.bottom.colour];
  colours[LABEL.bottomDark] = mul(COLOURS[a.bottom.colour], 0.72);
  colours[LABEL.shoes] = COLOURS[a.shoes.colour];
  colours[LABEL.bag] = palette(a.bag.colour);
  colours[LABEL.bagDark] = mul(palette(a.bag.colour), 0.72);
  colours[LABEL.hat] = palette(a.hat.colour);
  colours[LABEL.dark] = DARK;
  // Dark colours get lighter detail lines instead of invisible darker ones.
  for (const l of [LABEL.topDark, LABEL.bottomDark, LABEL.bagDark]) {
    const base = colours[l - 1] as Rgb;
    if (base[0] + base[1] + base[2] < 150) colours[l] = [base[0] + 40, base[1] + 40, base[2] + 40];
  }

  const bg = input.background;
  const wall = BACKGROUND_COLOURS[bg.colour];
  const ground = BACKGROUND_COLOURS[bg.ground];
  const bgRow = new Float32Array(H * 3);
  for (let y = 0; y < H; y++) {
    const fy = (y + 0.5) / H;
    let col: Rgb = wall;
    let f = 1;
    if (bg.kind === 'gradient') f = bg.top + (bg.bottom - bg.top) * fy;
    else if (bg.kind === 'street') {
      if (fy >= bg.horizon) {
        col = ground;
        f = 0.9 + 0.15 * ((fy - bg.horizon) / (1 - bg.horizon));
      } else f = bg.top + (bg.bottom - bg.top) * (fy / bg.horizon);
    }
    bgRow[y * 3] = col[0] * f;
    bgRow[y * 3 + 1] = col[1] * f;
    bgRow[y * 3 + 2] = col[2] * f;
  }
  const bgNoise = bg.kind === 'noise' ? 16 : 4;
  const jeans = a.bottom.type === 'jeans';
  const centre = 0.5 + input.pose.shift;
  const shadowY = 0.972;
  const out = Buffer.allocUnsafe(W * H * 3);
  const L = input.lighting;
  const seed = input.noiseSeed;
  for (let y = 0; y < H; y++) {
    const fy = (y + 0.5) / H;
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const label = labels[i] as number;
      let r: number;
      let g: number;
      let b: number;
      let noise: number;
      if (label === LABEL.background) {
        r = bgRow[y * 3] as number;
        g = bgRow[y * 3 + 1] as number;
        b = bgRow[y * 3 + 2] as number;
        // A soft shadow under the feet; it only darkens, and stays below the shoe cores.
        const dx = ((x + 0.5) / W - centre) / 0.2;
        const dy = (fy - shadowY) / 0.012;
        const d = dx * dx + dy * dy;
        if (d < 1) {
          const s = 0.7 + 0.3 * d;
          r *= s;
          g *= s;
          b *= s;
        }
        noise = hashNoise(seed, i) * bgNoise;
      } else {
        const c = colours[label] as Rgb;
        let f = 1;
        if (label >= LABEL.top && label <= LABEL.bottomDark) {
          // Cylinder shading: garments darken a little towards the body's edges.
          const d = ((x + 0.5) / W - centre) / 0.2;
          f = 1 - 0.14 * Math.min(1, d * d);
        }
        r = c[0] * f;
        g = c[1] * f;
        b = c[2] * f;
        noise =
          hashNoise(seed, i) * (jeans && (label === LABEL.bottom || label === LABEL.bottomDark) ? 12 : 3);
      }
      const o = i * 3;
      out[o] = clamp(r * L + noise);
      out[o + 1] = clamp(g * L + noise);
      out[o + 2] = clamp(b * L + noise);
    }
  }
  return { rgb: out, labels };
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

export type ImageFormat = 'jpg' | 'png';

/** Encodes packed RGB with fixed settings, so equal pixels always give equal bytes. */
export function encodeImage(rgb: Buffer, size: RenderSize, format: ImageFormat): Promise<Buffer> {
  const img = sharp(rgb, { raw: { width: size.width, height: size.height, channels: 3 } });
  return format === 'png'
    ? img.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer()
    : img.jpeg({ quality: 90, chromaSubsampling: '4:2:0', mozjpeg: false }).toBuffer();
}
