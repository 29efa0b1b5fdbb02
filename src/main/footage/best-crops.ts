// Keeping the best few crops of each track, so that one walk past a camera becomes a handful of good
// pictures rather than every sampled frame: quality = detection score × size × sharpness (the variance of
// the Laplacian of the crop's grey levels) × shape (how close the box's width/height is to the track's
// usual one: a box that took in a passer-by, or lost half the person at the frame's edge, is wider or
// narrower than the person — and a bigger box would otherwise win on size), picked spread over the
// track's time.
//
// Crops are cut while the frame is at hand (the frame itself is not kept), and only the best candidate of
// each time bucket is held per track, so memory stays bounded by the number of buckets, whatever the
// track's length.
import type { Box } from './tracker';

export interface CropCandidate {
  /** Seconds from the video's start: the frame's presentation time. */
  time: number;
  /** The detection's box in frame pixels. */
  box: Box;
  score: number;
  /** Variance of the Laplacian of the crop's grey levels. */
  sharpness: number;
  /** score × size × sharpness (× the edge penalty); quality adds the shape factor. */
  base: number;
  quality: number;
  /** The crop (the box widened by the margin, clipped to the frame): packed RGB. */
  rgb: Buffer;
  width: number;
  height: number;
  /** The crop's own rectangle in frame pixels (integers). */
  rect: { x: number; y: number; width: number; height: number };
}

export interface Frame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Variance of the 4-neighbour Laplacian of the grey levels (BT.601 luma) over the crop's interior. */
export function laplacianVariance(rgb: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  const grey = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++)
    grey[i] = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++)
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += l;
      sq += l * l;
      n++;
    }
  const mean = sum / n;
  return sq / n - mean * mean;
}

/**
 * The rectangle a crop of `box` covers, in frame pixels (integers; it may reach past the frame): the box
 * widened by `margin` (a share of its size, each side), then, when `aspect` (width / height) is given,
 * widened on the short side, about the box's centre, to that aspect.
 */
export function cropRect(box: Box, margin = 0.05, aspect: number | null = null): CropCandidate['rect'] {
  let w = (box.x2 - box.x1) * (1 + 2 * margin);
  let h = (box.y2 - box.y1) * (1 + 2 * margin);
  if (aspect !== null && aspect > 0 && h > 0) {
    if (w / h < aspect) w = h * aspect;
    else h = w / aspect;
  }
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  const x = Math.floor(cx - w / 2);
  const y = Math.floor(cy - h / 2);
  return {
    x,
    y,
    width: Math.max(0, Math.ceil(cx + w / 2) - x),
    height: Math.max(0, Math.ceil(cy + h / 2) - y),
  };
}

/**
 * Cuts `box` widened by `margin` (a share of its size, each side) out of a frame. Without `aspect` the cut
 * is clipped to the frame; with it, the crop keeps its aspect and the person's place in it even at the
 * frame's edge: the part past the edge repeats the edge's pixels.
 */
export function cropFrame(
  frame: Frame,
  box: Box,
  margin = 0.05,
  aspect: number | null = null,
): { rgb: Buffer; width: number; height: number; rect: CropCandidate['rect'] } {
  if (aspect === null) {
    const mw = (box.x2 - box.x1) * margin;
    const mh = (box.y2 - box.y1) * margin;
    const x = Math.max(0, Math.floor(box.x1 - mw));
    const y = Math.max(0, Math.floor(box.y1 - mh));
    const x2 = Math.min(frame.width, Math.ceil(box.x2 + mw));
    const y2 = Math.min(frame.height, Math.ceil(box.y2 + mh));
    const width = Math.max(0, x2 - x);
    const height = Math.max(0, y2 - y);
    const rgb = Buffer.alloc(width * height * 3);
    for (let r = 0; r < height; r++) {
      const from = ((y + r) * frame.width + x) * 3;
      rgb.set(frame.rgb.subarray(from, from + width * 3), r * width * 3);
    }
    return { rgb, width, height, rect: { x, y, width, height } };
  }
  const rect = cropRect(box, margin, aspect);
  const { x, y, width, height } = rect;
  const rgb = Buffer.alloc(width * height * 3);
  if (frame.width === 0 || frame.height === 0) return { rgb, width: 0, height: 0, rect };
  const clamp = (v: number, hi: number): number => (v < 0 ? 0 : v >= hi ? hi - 1 : v);
  const inX = Math.max(0, x);
  const inX2 = Math.min(frame.width, x + width);
  for (let r = 0; r < height; r++) {
    const fy = clamp(y + r, frame.height);
    const row = fy * frame.width * 3;
    const out = r * width * 3;
    if (inX2 > inX) rgb.set(frame.rgb.subarray(row + inX * 3, row + inX2 * 3), out + (inX - x) * 3);
    for (let c = 0; c < width; c++) {
      const fx = x + c;
      if (fx >= inX && fx < inX2) continue;
      const s = row + clamp(fx, frame.width) * 3;
      rgb[out + c * 3] = frame.rgb[s]!;
      rgb[out + c * 3 + 1] = frame.rgb[s + 1]!;
      rgb[out + c * 3 + 2] = frame.rgb[s + 2]!;
    }
  }
  return { rgb, width, height, rect };
}

export interface CropOptions {
  /** Crops kept per track. Default 3. */
  perTrack: number;
  /** Candidates are held one per this many seconds of the track (the best of each). Default 1. */
  bucketSeconds: number;
  /** Widening of the box when cutting, a share of its size each side. Default 0.02. */
  margin: number;
  /**
   * The crops' width / height: the box (with its margin) is widened on its short side to it, so the person
   * is framed as in the pedestrian pictures text-person models learn from (384×128, 1/3) and a model's
   * resize does not stretch them. null: the box's own shape (snapshots taken before this option). Default 1/3.
   */
  aspect?: number | null;
  /** A box touching the frame's edge shows part of a person: its quality is multiplied by this. Default 0.5. */
  edgePenalty: number;
}

export const DEFAULT_CROP_OPTIONS: CropOptions = {
  perTrack: 3,
  bucketSeconds: 1,
  margin: 0.02,
  aspect: 1 / 3,
  edgePenalty: 0.5,
};

/** The quality of a candidate: score × area × sharpness, halved (by default) when cut off by the frame's edge. */
export function cropQuality(
  score: number,
  box: Box,
  sharpness: number,
  frame: { width: number; height: number },
  edgePenalty = DEFAULT_CROP_OPTIONS.edgePenalty,
): number {
  const size = Math.max(0, box.x2 - box.x1) * Math.max(0, box.y2 - box.y1);
  const edge = box.x1 <= 1 || box.y1 <= 1 || box.x2 >= frame.width - 1 || box.y2 >= frame.height - 1;
  return score * size * sharpness * (edge ? edgePenalty : 1);
}

/** 1 for a box of the track's usual width/height ratio, falling with the square of the ratio between them. */
export function shapeFactor(aspect: number, usual: number): number {
  const r = aspect / usual;
  return r > 1 ? 1 / (r * r) : r * r;
}

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const aspectOf = (b: Box): number => (b.x2 - b.x1) / Math.max(1e-9, b.y2 - b.y1);

/**
 * Picks up to k candidates spread over time: the track's span is cut into k equal parts and the best of each
 * part is taken; parts with no candidate leave their place to the best candidates not yet taken. The result is
 * in time order.
 */
export function selectSpread<T extends { time: number; quality: number }>(
  candidates: readonly T[],
  k: number,
): T[] {
  if (candidates.length <= k) return [...candidates].sort((a, b) => a.time - b.time);
  const t0 = Math.min(...candidates.map((c) => c.time));
  const t1 = Math.max(...candidates.map((c) => c.time));
  const span = t1 - t0 || 1;
  const chosen = new Set<T>();
  for (let part = 0; part < k; part++) {
    const lo = t0 + (span * part) / k;
    const hi = t0 + (span * (part + 1)) / k;
    let best: T | null = null;
    for (const c of candidates) {
      const inPart = c.time >= lo && (c.time < hi || (part === k - 1 && c.time <= hi));
      if (inPart && !chosen.has(c) && (!best || c.quality > best.quality)) best = c;
    }
    if (best) chosen.add(best);
  }
  const rest = candidates.filter((c) => !chosen.has(c)).sort((a, b) => b.quality - a.quality);
  for (const c of rest) {
    if (chosen.size >= k) break;
    chosen.add(c);
  }
  return [...chosen].sort((a, b) => a.time - b.time);
}

/**
 * Holds each track's candidates while the track runs: offer() every detection of a track with its frame;
 * finish() a track when the tracker ends it, drop() one the tracker discarded.
 */
export class CropKeeper {
  private readonly buckets = new Map<number, Map<number, CropCandidate>>();
  /** Every box's width/height per track (numbers only), for the track's usual shape. */
  private readonly aspects = new Map<number, number[]>();

  constructor(readonly options: CropOptions = DEFAULT_CROP_OPTIONS) {}

  offer(track: number, frame: Frame, time: number, box: Box, score: number): void {
    const bucket = Math.floor(time / this.options.bucketSeconds);
    const mine = this.buckets.get(track) ?? new Map<number, CropCandidate>();
    this.buckets.set(track, mine);
    const aspects = this.aspects.get(track) ?? [];
    this.aspects.set(track, aspects);
    aspects.push(aspectOf(box));
    // Judged on the person's own pixels (the box and its margin, inside the frame), whatever the framing.
    const own = cropFrame(frame, box, this.options.margin);
    if (own.width < 3 || own.height < 3) return;
    const sharpness = laplacianVariance(own.rgb, own.width, own.height);
    const base = cropQuality(score, box, sharpness, frame, this.options.edgePenalty);
    // Judged against the shape seen so far; judged again against the whole track's at finish().
    const quality = base * shapeFactor(aspectOf(box), median(aspects));
    const held = mine.get(bucket);
    if (held && held.quality >= quality) return;
    const aspect = this.options.aspect ?? null;
    const crop = aspect === null ? own : cropFrame(frame, box, this.options.margin, aspect);
    mine.set(bucket, { time, box: { ...box }, score, sharpness, base, quality, ...crop });
  }

  /** The kept crops of a finished track (spread over its time, in time order); forgets the track. */
  finish(track: number): CropCandidate[] {
    const mine = this.buckets.get(track);
    const usual = median(this.aspects.get(track) ?? [1]);
    this.drop(track);
    if (!mine) return [];
    const held = [...mine.values()].map((c) => ({
      ...c,
      quality: c.base * shapeFactor(aspectOf(c.box), usual),
    }));
    return selectSpread(held, this.options.perTrack);
  }

  drop(track: number): void {
    this.buckets.delete(track);
    this.aspects.delete(track);
  }

  /** Tracks with candidates held. */
  get tracks(): number[] {
    return [...this.buckets.keys()];
  }

  /**
   * What the keeper holds, as plain data (crops as byte arrays: storable with v8.serialize or as files), so
   * that a job resumed mid-video keeps choosing among the same candidates.
   */
  snapshot(): CropKeeperSnapshot {
    return {
      version: 1,
      options: { ...this.options },
      tracks: this.tracks.map((id) => ({
        id,
        aspects: [...(this.aspects.get(id) ?? [])],
        candidates: [...(this.buckets.get(id) ?? new Map<number, CropCandidate>()).entries()].map(
          ([bucket, c]) => ({
            bucket,
            ...c,
            box: { ...c.box },
            rect: { ...c.rect },
            rgb: new Uint8Array(c.rgb),
          }),
        ),
      })),
    };
  }

  static restore(s: CropKeeperSnapshot): CropKeeper {
    const k = new CropKeeper(s.options);
    for (const t of s.tracks) {
      k.aspects.set(t.id, [...t.aspects]);
      k.buckets.set(
        t.id,
        new Map(t.candidates.map(({ bucket, rgb, ...c }) => [bucket, { ...c, rgb: Buffer.from(rgb) }])),
      );
    }
    return k;
  }
}

export interface CropKeeperSnapshot {
  version: 1;
  options: CropOptions;
  tracks: {
    id: number;
    aspects: number[];
    candidates: (Omit<CropCandidate, 'rgb'> & { bucket: number; rgb: Uint8Array })[];
  }[];
}
