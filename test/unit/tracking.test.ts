import { describe, expect, it } from 'vitest';
import {
  ByteTracker,
  BYTETRACK_DEFAULTS,
  CropKeeper,
  cropFrame,
  cropRect,
  detectionFigures,
  hungarian,
  laplacianVariance,
  linearAssignment,
  SAMPLED_FOOTAGE_DEFAULTS,
  selectSpread,
  trackingFigures,
  type EvalFrame,
  type TrackerDetection,
} from '../../src/main/footage';
import { createRng } from '../../src/main/rng';

function bruteForce(cost: number[], n: number): number {
  let best = Infinity;
  const perm = Array.from({ length: n }, (_, i) => i);
  const go = (k: number): void => {
    if (k === n) {
      best = Math.min(
        best,
        perm.reduce((s, j, i) => s + cost[i * n + j]!, 0),
      );
      return;
    }
    for (let i = k; i < n; i++) {
      [perm[k], perm[i]] = [perm[i]!, perm[k]!];
      go(k + 1);
      [perm[k], perm[i]] = [perm[i]!, perm[k]!];
    }
  };
  go(0);
  return best;
}

describe('assignment', () => {
  it('finds the minimum-cost matching (checked against all permutations)', () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 30; trial++) {
      const n = 1 + rng.int(6);
      const cost = Array.from({ length: n * n }, () => Math.round(rng.range(0, 100)));
      const cols = hungarian(Float64Array.from(cost), n);
      expect(new Set(cols).size).toBe(n);
      expect([...cols].reduce((s, j, i) => s + cost[i * n + j]!, 0)).toBe(bruteForce(cost, n));
    }
  });

  it('never makes a pair at or above the limit, and prefers two cheap pairs to one cheaper', () => {
    // rows × cols = 2 × 3
    const a = linearAssignment([0.1, 0.9, 0.5, 0.2, 0.95, 0.85], 2, 3, 0.8);
    expect(a.pairs).toEqual([
      [0, 2],
      [1, 0],
    ]);
    expect(a.unmatchedCols).toEqual([1]);
    const none = linearAssignment([0.9, 0.95], 1, 2, 0.8);
    expect(none).toEqual({ pairs: [], unmatchedRows: [0], unmatchedCols: [0, 1] });
    expect(linearAssignment([], 0, 3).unmatchedCols).toEqual([0, 1, 2]);
    // Without a limit the smaller side is matched completely.
    expect(linearAssignment([5, 1, 9, 2], 1, 4).pairs).toEqual([[0, 1]]);
  });
});

/** A walker at 2 samples per second: height 120, moving `v` px per sample. */
const walker = (x0: number, v: number, k: number, score = 0.9, y = 100): TrackerDetection => ({
  x1: x0 + v * k,
  y1: y,
  x2: x0 + v * k + 40,
  y2: y + 120,
  score,
});

describe('ByteTracker', () => {
  it('keeps two walkers crossing at 2 fps as two tracks (buffered IoU bridges the first step)', () => {
    const t = new ByteTracker(SAMPLED_FOOTAGE_DEFAULTS);
    const ids: [number | null, number | null][] = [];
    for (let k = 0; k < 14; k++) {
      const u = t.update(k, k / 2, [walker(0, 45, k), walker(620, -45, k, 0.9, 150)]);
      ids.push([u.trackOf[0]!, u.trackOf[1]!]);
    }
    expect(new Set(ids.map((p) => p[0])).size).toBe(1);
    expect(new Set(ids.map((p) => p[1])).size).toBe(1);
    expect(ids[0]![0]).not.toBe(ids[0]![1]);
    const { ended } = t.finish();
    expect(ended.map((e) => e.observations.length)).toEqual([14, 14]);
  });

  it('plain IoU (ByteTrack as published) loses a walker moving a body width per sample', () => {
    const t = new ByteTracker({ ...BYTETRACK_DEFAULTS });
    const seen = new Set<number | null>();
    for (let k = 0; k < 6; k++) seen.add(t.update(k, k / 2, [walker(0, 45, k)]).trackOf[0]!);
    expect(seen.size).toBeGreaterThan(2);
  });

  it('takes a low-score detection in the second pass, recovers a lost track, ends it after the buffer', () => {
    const t = new ByteTracker({ ...SAMPLED_FOOTAGE_DEFAULTS, lostFrames: 2 });
    const a = t.update(0, 0, [walker(0, 20, 0)]).trackOf[0];
    expect(t.update(1, 0.5, [walker(0, 20, 1, 0.3)]).trackOf[0]).toBe(a); // partly hidden: low score
    expect(t.update(2, 1, []).ended).toEqual([]); // out of sight
    expect(t.update(3, 1.5, [walker(0, 20, 3)]).trackOf[0]).toBe(a); // back
    t.update(4, 2, []);
    t.update(5, 2.5, []);
    const u = t.update(6, 3, []);
    expect(u.ended.map((e) => [e.id, e.observations.map((o) => o.frame)])).toEqual([[a, [0, 1, 3]]]);
  });

  it('drops a one-frame detection (a track must be confirmed in its second frame)', () => {
    const t = new ByteTracker(SAMPLED_FOOTAGE_DEFAULTS);
    t.update(0, 0, []);
    const id = t.update(1, 0.5, [walker(300, 0, 0)]).trackOf[0];
    expect(id).not.toBeNull();
    expect(t.update(2, 1, []).dropped).toEqual([id]);
    expect(t.finish().ended).toEqual([]);
  });

  it('resumes from a snapshot exactly as if never stopped', () => {
    const feed = (t: ByteTracker, k: number) =>
      t.update(k, k / 2, [walker(0, 30, k), walker(500, -25, k, 0.7, 160)]);
    const straight = new ByteTracker();
    const split = new ByteTracker();
    const a: unknown[] = [];
    const b: unknown[] = [];
    for (let k = 0; k < 6; k++) a.push(feed(straight, k));
    for (let k = 0; k < 3; k++) b.push(feed(split, k));
    const resumed = ByteTracker.restore(JSON.parse(JSON.stringify(split.snapshot())));
    for (let k = 3; k < 6; k++) b.push(feed(resumed, k));
    expect(b).toEqual(a);
    expect(resumed.finish()).toEqual(straight.finish());
  });
});

const box = (x: number, id: number, extra: Partial<{ ignore: boolean }> = {}) => ({
  x1: x,
  y1: 0,
  x2: x + 10,
  y2: 20,
  id,
  ...extra,
});
const pred = (x: number, track?: number) => ({
  x1: x,
  y1: 0,
  x2: x + 10,
  y2: 20,
  score: 0.9,
  ...(track !== undefined ? { track } : {}),
});

describe('metrics', () => {
  it('precision and recall at IoU 0.5, with ignored truth counting neither way', () => {
    const frames: EvalFrame[] = [
      { truth: [box(0, 1), box(50, 2)], predicted: [pred(1), pred(200)] }, // one hit, one miss, one false
      { truth: [box(0, 1), box(100, 3, { ignore: true })], predicted: [pred(0), pred(101), pred(104)] },
    ];
    const d = detectionFigures(frames);
    expect(d).toMatchObject({
      truePositives: 2,
      falsePositives: 1,
      misses: 1,
      ignoredTruth: 1,
      ignoredPredicted: 2,
    });
    expect(d.precision).toBeCloseTo(2 / 3);
    expect(d.recall).toBeCloseTo(2 / 3);
  });

  it('IDF1 matches identities to tracks one-to-one: a switch halfway costs half', () => {
    const frames = (swap: boolean): EvalFrame[] =>
      Array.from({ length: 10 }, (_, k) => ({
        truth: [box(0, 1), box(100, 2)],
        predicted: [pred(0, swap && k >= 5 ? 11 : 10), pred(100, swap && k >= 5 ? 10 : 11)],
      }));
    expect(trackingFigures(frames(false))).toMatchObject({ idf1: 1, purity: 1, tracks: 2, identities: 2 });
    const s = trackingFigures(frames(true));
    expect(s.idf1).toBeCloseTo(0.5);
    expect(s.purity).toBeCloseTo(0.5);
    // A track broken in two: IDF1 counts the longer piece, purity stays whole.
    const broken: EvalFrame[] = Array.from({ length: 10 }, (_, k) => ({
      truth: [box(0, 1)],
      predicted: [pred(0, k < 7 ? 1 : 2)],
    }));
    const b = trackingFigures(broken);
    expect(b.idf1).toBeCloseTo((2 * 7) / 20);
    expect(b.purity).toBe(1);
    expect(b.tracksPerIdentity.get(1)).toBe(2);
  });
});

describe('best crops', () => {
  const frame = (w: number, h: number, f: (x: number, y: number) => number) => {
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) rgb.fill(f(x, y), (y * w + x) * 3, (y * w + x) * 3 + 3);
    return { rgb, width: w, height: h };
  };

  it('sharpness is the variance of the Laplacian: zero on a flat crop, large on fine detail', () => {
    const flat = frame(20, 20, () => 90);
    const checker = frame(20, 20, (x, y) => ((x + y) % 2 ? 200 : 50));
    const blurred = frame(20, 20, (x) => 50 + x * 5);
    expect(laplacianVariance(flat.rgb, 20, 20)).toBe(0);
    expect(laplacianVariance(blurred.rgb, 20, 20)).toBeCloseTo(0, 6);
    expect(laplacianVariance(checker.rgb, 20, 20)).toBeGreaterThan(1e5);
  });

  it('cuts the box with a margin, clipped to the frame', () => {
    const f = frame(10, 10, (x, y) => y * 10 + x);
    const c = cropFrame(f, { x1: 2, y1: 3, x2: 6, y2: 9 }, 0.25);
    expect(c.rect).toEqual({ x: 1, y: 1, width: 6, height: 9 });
    expect(c.rgb[0]).toBe(11);
  });

  it('frames the box at the model’s aspect about its centre, repeating the edge’s pixels past the frame', () => {
    const f = frame(10, 10, (x, y) => y * 10 + x);
    // 1 wide, 6 high: widened to 2 × 6 (1/3), about x = 1.
    const inside = cropFrame(f, { x1: 0.5, y1: 2, x2: 1.5, y2: 8 }, 0, 1 / 3);
    expect(inside.rect).toEqual({ x: 0, y: 2, width: 2, height: 6 });
    expect([inside.rgb[0], inside.rgb[3], inside.rgb[6]]).toEqual([20, 21, 30]);
    // At the frame's left edge: the crop reaches past it, and its place is filled with the edge column.
    const edge = cropFrame(f, { x1: 0, y1: 2, x2: 1, y2: 8 }, 0, 1 / 3);
    expect(edge.rect).toEqual({ x: -1, y: 2, width: 3, height: 6 });
    expect([edge.rgb[0], edge.rgb[3], edge.rgb[6]]).toEqual([20, 20, 21]);
    // A box wider than the aspect is made taller instead; the margin applies first.
    const wide = cropRect({ x1: 10, y1: 10, x2: 40, y2: 40 }, 0.1, 1 / 3);
    expect(wide).toEqual({ x: 7, y: -29, width: 36, height: 108 });
  });

  it('picks the best of each part of the track’s time, then the best left', () => {
    const c = (time: number, quality: number) => ({ time, quality });
    const all = [c(0, 1), c(1, 9), c(2, 2), c(3, 3), c(4, 8), c(5, 7), c(6, 1), c(7, 6), c(8, 2), c(9, 3)];
    expect(selectSpread(all, 3).map((x) => x.time)).toEqual([1, 4, 7]);
    expect(selectSpread([c(0, 1), c(0.1, 5), c(0.2, 4), c(9, 1)], 3).map((x) => x.time)).toEqual([
      0.1, 0.2, 9,
    ]);
  });

  it('does not take a box that swallowed a passer-by, though it is bigger', () => {
    const keeper = new CropKeeper({ perTrack: 1, bucketSeconds: 10, margin: 0, edgePenalty: 0.5 });
    const f = frame(200, 100, (x, y) => ((x ^ y) & 4 ? 220 : 30));
    for (let k = 0; k < 6; k++) keeper.offer(1, f, k * 0.5, { x1: 20 + k, y1: 10, x2: 40 + k, y2: 70 }, 0.9);
    // Two people side by side: the same height, three times as wide, as confident.
    keeper.offer(1, f, 3, { x1: 20, y1: 10, x2: 80, y2: 70 }, 0.9);
    const [best] = keeper.finish(1);
    expect(best!.box.x2 - best!.box.x1).toBe(20);
  });

  it('holds one candidate per bucket of time per track, whatever the track’s length', () => {
    const keeper = new CropKeeper({ perTrack: 3, bucketSeconds: 1, margin: 0, edgePenalty: 0.5 });
    const f = frame(64, 64, (x, y) => ((x ^ y) & 4 ? 220 : 30));
    for (let k = 0; k < 200; k++)
      keeper.offer(1, f, k * 0.5, { x1: 10, y1: 10, x2: 30, y2: 50 }, 0.5 + (k % 7) / 10);
    const crops = keeper.finish(1);
    expect(crops).toHaveLength(3);
    expect(crops.map((c) => c.rgb.length)).toEqual([20 * 40 * 3, 20 * 40 * 3, 20 * 40 * 3]);
    expect(crops[0]!.time).toBeLessThan(34);
    expect(crops[2]!.time).toBeGreaterThan(66);
    expect(keeper.tracks).toEqual([]);
  });
});
