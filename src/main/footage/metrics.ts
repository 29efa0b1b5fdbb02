// Detection and tracking figures against ground truth (the synthetic footage world, or any labelled
// video): precision and recall at an IoU threshold, track purity, and IDF1 (Ristani et al., 2016) with its
// optimal one-to-one matching of true identities to tracks.
//
// Ground-truth boxes may be marked `ignore` (a person mostly out of the frame or hidden behind someone):
// a detection that matches one, or lies mostly inside one, counts neither way, as in the MOT benchmarks'
// evaluation; an ignored box missed is no miss.
import { iou } from '../ml/detector/decode';
import { linearAssignment } from './assignment';
import type { Box } from './tracker';

export interface TruthBox extends Box {
  /** True identity (per camera). */
  id: number;
  ignore?: boolean;
}

export interface PredictedBox extends Box {
  score: number;
  /** Track id, for tracking figures. */
  track?: number;
}

export interface EvalFrame {
  truth: TruthBox[];
  predicted: PredictedBox[];
}

const area = (b: Box): number => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
const boxIou = (a: Box, b: Box): number => iou(a.x1, a.y1, a.x2, a.y2, b.x1, b.y1, b.x2, b.y2);
/** Intersection over the first box's area. */
function ioa(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  return w > 0 && h > 0 ? (w * h) / Math.max(area(a), 1e-9) : 0;
}

export interface FrameMatch {
  /** [truth index, predicted index] pairs at IoU ≥ threshold (truth not ignored). */
  pairs: [number, number][];
  /** Predicted boxes that count neither way (on ignored truth). */
  ignoredPredicted: number[];
  falsePositives: number[];
  /** Truth boxes (not ignored) no prediction matched. */
  misses: number[];
}

/**
 * Matches one frame: the most overlap in total (optimal assignment on IoU) among pairs at IoU ≥ `threshold`,
 * then sets aside predictions on ignored truth.
 */
export function matchFrame(f: EvalFrame, threshold = 0.5): FrameMatch {
  const { truth, predicted } = f;
  const cost = new Float64Array(truth.length * predicted.length);
  truth.forEach((t, i) => predicted.forEach((p, j) => (cost[i * predicted.length + j] = 1 - boxIou(t, p))));
  // A pair costs < 1 − threshold exactly when its IoU is above the threshold.
  const a = linearAssignment(cost, truth.length, predicted.length, 1 - threshold + 1e-12);
  const pairs: [number, number][] = [];
  const ignoredPredicted: number[] = [];
  const matchedTruth = new Set<number>();
  for (const [i, j] of a.pairs) {
    matchedTruth.add(i);
    if (truth[i]!.ignore) ignoredPredicted.push(j);
    else pairs.push([i, j]);
  }
  const falsePositives: number[] = [];
  for (const j of a.unmatchedCols) {
    if (truth.some((t) => t.ignore && ioa(predicted[j]!, t) >= 0.5)) ignoredPredicted.push(j);
    else falsePositives.push(j);
  }
  const misses = truth.flatMap((t, i) => (!t.ignore && !matchedTruth.has(i) ? [i] : []));
  return { pairs, ignoredPredicted, falsePositives, misses };
}

export interface DetectionFigures {
  truePositives: number;
  falsePositives: number;
  misses: number;
  /** Truth boxes set aside (ignore) and predictions on them. */
  ignoredTruth: number;
  ignoredPredicted: number;
  precision: number;
  recall: number;
  /** Mean IoU of the matched pairs. */
  meanIou: number;
}

export function detectionFigures(frames: readonly EvalFrame[], threshold = 0.5): DetectionFigures {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let ignoredTruth = 0;
  let ignoredPredicted = 0;
  let iouSum = 0;
  for (const f of frames) {
    const m = matchFrame(f, threshold);
    tp += m.pairs.length;
    fp += m.falsePositives.length;
    fn += m.misses.length;
    ignoredTruth += f.truth.filter((t) => t.ignore).length;
    ignoredPredicted += m.ignoredPredicted.length;
    for (const [i, j] of m.pairs) iouSum += boxIou(f.truth[i]!, f.predicted[j]!);
  }
  return {
    truePositives: tp,
    falsePositives: fp,
    misses: fn,
    ignoredTruth,
    ignoredPredicted,
    precision: tp + fp ? tp / (tp + fp) : 1,
    recall: tp + fn ? tp / (tp + fn) : 1,
    meanIou: tp ? iouSum / tp : 0,
  };
}

export interface TrackingFigures {
  /** IDF1 = 2·IDTP / (2·IDTP + IDFP + IDFN), with IDP and IDR. */
  idf1: number;
  idPrecision: number;
  idRecall: number;
  /** Share of the tracks' (counted) boxes that belong to each track's majority identity, over all tracks. */
  purity: number;
  tracks: number;
  identities: number;
  /** The counts behind the ratios, so that figures of several cameras can be pooled. */
  idtp: number;
  truthBoxes: number;
  trackBoxes: number;
  majorityBoxes: number;
  /** Which identity each track was matched to by IDF1's assignment (absent: none). */
  trackIdentity: Map<number, number>;
  /** Tracks per identity (an identity split over several tracks is fragmented). */
  tracksPerIdentity: Map<number, number>;
}

/**
 * IDF1 and purity over frames whose predicted boxes carry track ids. Boxes set aside by the ignore rule are
 * left out of both counts. IDTP(identity, track) is the number of frames in which a box of the identity and a
 * box of the track overlap at IoU ≥ threshold; identities and tracks are then matched one-to-one to maximise
 * the total (the Hungarian method), as in the MOT benchmarks' IDF1.
 */
export function trackingFigures(frames: readonly EvalFrame[], threshold = 0.5): TrackingFigures {
  const gtCount = new Map<number, number>();
  const trCount = new Map<number, number>();
  const overlap = new Map<string, number>(); // "id|track" → frames with IoU ≥ threshold
  /** Per track: identities of its matched boxes (per-frame matching), for purity. */
  const members = new Map<number, Map<number | null, number>>();
  for (const f of frames) {
    const m = matchFrame(f, threshold);
    const ignored = new Set(m.ignoredPredicted);
    f.truth.forEach((t) => {
      if (!t.ignore) gtCount.set(t.id, (gtCount.get(t.id) ?? 0) + 1);
    });
    const counted = f.predicted.flatMap((p, j) => (p.track !== undefined && !ignored.has(j) ? [j] : []));
    for (const j of counted) {
      const tr = f.predicted[j]!.track!;
      trCount.set(tr, (trCount.get(tr) ?? 0) + 1);
      for (const t of f.truth) {
        if (t.ignore || boxIou(t, f.predicted[j]!) < threshold) continue;
        const key = `${t.id}|${tr}`;
        overlap.set(key, (overlap.get(key) ?? 0) + 1);
      }
    }
    const idOf = new Map(m.pairs.map(([i, j]) => [j, f.truth[i]!.id]));
    for (const j of counted) {
      const tr = f.predicted[j]!.track!;
      const mine = members.get(tr) ?? new Map<number | null, number>();
      const id = idOf.get(j) ?? null;
      mine.set(id, (mine.get(id) ?? 0) + 1);
      members.set(tr, mine);
    }
  }
  const ids = [...gtCount.keys()];
  const trs = [...trCount.keys()];
  const cost = new Float64Array(ids.length * trs.length);
  ids.forEach((g, i) => trs.forEach((t, j) => (cost[i * trs.length + j] = -(overlap.get(`${g}|${t}`) ?? 0))));
  // Only pairs that share at least one frame are worth making (cost < 0).
  const a = linearAssignment(cost, ids.length, trs.length, 0);
  let idtp = 0;
  const trackIdentity = new Map<number, number>();
  for (const [i, j] of a.pairs) {
    idtp += -cost[i * trs.length + j]!;
    trackIdentity.set(trs[j]!, ids[i]!);
  }
  const nGt = [...gtCount.values()].reduce((s, v) => s + v, 0);
  const nTr = [...trCount.values()].reduce((s, v) => s + v, 0);
  let majority = 0;
  const tracksPerIdentity = new Map<number, number>();
  for (const mine of members.values()) {
    let best: number | null = null;
    let bestCount = 0;
    for (const [id, c] of mine) {
      if (id !== null && c > bestCount) {
        best = id;
        bestCount = c;
      }
    }
    majority += bestCount;
    if (best !== null) tracksPerIdentity.set(best, (tracksPerIdentity.get(best) ?? 0) + 1);
  }
  return {
    idf1: nGt + nTr ? (2 * idtp) / (nGt + nTr) : 1,
    idPrecision: nTr ? idtp / nTr : 1,
    idRecall: nGt ? idtp / nGt : 1,
    purity: nTr ? majority / nTr : 1,
    tracks: trs.length,
    identities: ids.length,
    idtp,
    truthBoxes: nGt,
    trackBoxes: nTr,
    majorityBoxes: majority,
    trackIdentity,
    tracksPerIdentity,
  };
}

/** IDF1 and purity of several cameras together (identities and tracks are per camera: counts add up). */
export function pooledTracking(list: readonly TrackingFigures[]): { idf1: number; purity: number } {
  const sum = (f: (t: TrackingFigures) => number): number => list.reduce((s, t) => s + f(t), 0);
  const idtp = sum((t) => t.idtp);
  const boxes = sum((t) => t.truthBoxes) + sum((t) => t.trackBoxes);
  const trackBoxes = sum((t) => t.trackBoxes);
  return {
    idf1: boxes ? (2 * idtp) / boxes : 1,
    purity: trackBoxes ? sum((t) => t.majorityBoxes) / trackBoxes : 1,
  };
}
