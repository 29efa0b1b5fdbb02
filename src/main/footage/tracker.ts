// A ByteTrack-style multi-object tracker (Zhang et al., ECCV 2022), the way its reference implementation
// runs, for one camera's detections frame after frame:
//   - a Kalman filter per track on [cx, cy, a, h] (a = w/h) and their velocities, noise relative to h;
//   - association in two passes: high-score detections against all tracks (tracked and lost), then the
//     low-score ones against the tracked tracks still unmatched (ByteTrack's point: a partly hidden person
//     scores low but is still the same person); a track born last frame must be confirmed by a high-score
//     detection in its second frame or is dropped (a one-frame false positive never becomes a track);
//   - optimal matching on 1 − IoU (× score in the first pass, "fuse_score"), pairs under a cost limit;
//   - a lost track waits `lostFrames` frames for its person to come back, then ends.
// One change for sampled footage, off by default: at 2 frames per second a walker moves most of a body
// width between samples, so a new track (no velocity yet) and its second detection barely overlap. With
// `buffer` > 0 boxes are compared with their sides pushed out by buffer × width/height (C-BIoU, Yang et
// al. 2023); the Kalman prediction does the rest once a track has moved.
//
// The tracker is plain data and small methods, no I/O: snapshot() and restoreTracker() let a job resume
// mid-video without splitting a track.
import { iou } from '../ml/detector/decode';
import { linearAssignment } from './assignment';

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface TrackerDetection extends Box {
  score: number;
}

export interface TrackerOptions {
  /** Detections at or above this score go to the first pass (ByteTrack: 0.5). */
  highScore: number;
  /** Detections from this score up to highScore go to the second pass (ByteTrack: 0.1). */
  lowScore: number;
  /** A high detection left unmatched starts a track only at or above this score (ByteTrack: high + 0.1). */
  birthScore: number;
  /** Cost limits (1 − IoU, fused with score in the first pass). ByteTrack: 0.8, 0.5, 0.7. */
  firstPassLimit: number;
  secondPassLimit: number;
  unconfirmedLimit: number;
  /** Frames a lost track waits before it ends (ByteTrack: 30 at 30 fps). */
  lostFrames: number;
  /** Buffered IoU: each side pushed out by this share of the box's size (0: plain IoU). */
  buffer: number;
  /** Kalman noise weights, relative to the box height (ByteTrack: 1/20 and 1/160 per frame). */
  positionNoise: number;
  velocityNoise: number;
}

export const BYTETRACK_DEFAULTS: TrackerOptions = {
  highScore: 0.5,
  lowScore: 0.1,
  birthScore: 0.6,
  firstPassLimit: 0.8,
  secondPassLimit: 0.5,
  unconfirmedLimit: 0.7,
  lostFrames: 30,
  buffer: 0,
  positionNoise: 1 / 20,
  velocityNoise: 1 / 160,
};

/**
 * Defaults for footage sampled at 2 frames per second: a person out of sight for 3 s (6 samples) comes back
 * as the same track, buffered IoU bridges the first step, and velocities are allowed to change more per
 * step (one step is 12–15 video frames).
 */
export const SAMPLED_FOOTAGE_DEFAULTS: TrackerOptions = {
  ...BYTETRACK_DEFAULTS,
  lostFrames: 6,
  buffer: 0.5,
  velocityNoise: 1 / 40,
};

// ---- Kalman filter on [cx, cy, a, h, vcx, vcy, va, vh] ----

type Mean = number[]; // 8
type Cov = number[]; // 8×8 row-major

function xyah(b: Box): [number, number, number, number] {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  return [(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, w / h, h];
}

function toBox(m: Mean): Box {
  const h = m[3]!;
  const w = m[2]! * h;
  return { x1: m[0]! - w / 2, y1: m[1]! - h / 2, x2: m[0]! + w / 2, y2: m[1]! + h / 2 };
}

const diag = (d: number[]): Cov => {
  const n = d.length;
  const out = new Array<number>(n * n).fill(0);
  d.forEach((v, i) => (out[i * n + i] = v));
  return out;
};

function initiate(z: [number, number, number, number], o: TrackerOptions): { mean: Mean; cov: Cov } {
  const h = z[3];
  const sp = o.positionNoise;
  const sv = o.velocityNoise;
  const std = [2 * sp * h, 2 * sp * h, 1e-2, 2 * sp * h, 10 * sv * h, 10 * sv * h, 1e-5, 10 * sv * h];
  return { mean: [...z, 0, 0, 0, 0], cov: diag(std.map((s) => s * s)) };
}

/** x ← F x, P ← F P Fᵀ + Q, F the constant-velocity step. */
function predict(mean: Mean, cov: Cov, o: TrackerOptions): { mean: Mean; cov: Cov } {
  const h = mean[3]!;
  const sp = o.positionNoise;
  const sv = o.velocityNoise;
  const q = [sp * h, sp * h, 1e-2, sp * h, sv * h, sv * h, 1e-5, sv * h].map((s) => s * s);
  const m = mean.slice();
  for (let i = 0; i < 4; i++) m[i]! += mean[i + 4]!;
  // F P Fᵀ with F = [[I, I], [0, I]]: blockwise.
  const P = cov;
  const out = new Array<number>(64);
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 8; j++) {
      let v = P[i * 8 + j]!;
      if (i < 4) v += P[(i + 4) * 8 + j]!;
      if (j < 4) v += P[i * 8 + j + 4]!;
      if (i < 4 && j < 4) v += P[(i + 4) * 8 + j + 4]!;
      out[i * 8 + j] = v + (i === j ? q[i]! : 0);
    }
  return { mean: m, cov: out };
}

/** Inverse of a small symmetric positive-definite matrix (Gauss–Jordan). */
function invert(a: number[], n: number): number[] {
  const m = a.slice();
  const inv = diag(new Array<number>(n).fill(1));
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[piv * n + c]!)) piv = r;
    if (piv !== c)
      for (let k = 0; k < n; k++) {
        [m[c * n + k], m[piv * n + k]] = [m[piv * n + k]!, m[c * n + k]!];
        [inv[c * n + k], inv[piv * n + k]] = [inv[piv * n + k]!, inv[c * n + k]!];
      }
    const d = m[c * n + c]!;
    for (let k = 0; k < n; k++) {
      m[c * n + k]! /= d;
      inv[c * n + k]! /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k]! -= f * m[c * n + k]!;
        inv[r * n + k]! -= f * inv[c * n + k]!;
      }
    }
  }
  return inv;
}

/** Kalman update with a measurement z = [cx, cy, a, h] (H picks the first four state entries). */
function update(
  mean: Mean,
  cov: Cov,
  z: [number, number, number, number],
  o: TrackerOptions,
): { mean: Mean; cov: Cov } {
  const h = mean[3]!;
  const sp = o.positionNoise;
  const r = [sp * h, sp * h, 1e-1, sp * h].map((s) => s * s);
  // S = H P Hᵀ + R (the top-left 4×4 block of P), K = P Hᵀ S⁻¹ (8×4).
  const S = new Array<number>(16);
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) S[i * 4 + j] = cov[i * 8 + j]! + (i === j ? r[i]! : 0);
  const Si = invert(S, 4);
  const K = new Array<number>(32).fill(0);
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 4; j++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += cov[i * 8 + k]! * Si[k * 4 + j]!;
      K[i * 4 + j] = v;
    }
  const innovation = z.map((v, i) => v - mean[i]!);
  const m = mean.map((v, i) => v + innovation.reduce((s, d, k) => s + K[i * 4 + k]! * d, 0));
  // P − K S Kᵀ
  const KS = new Array<number>(32).fill(0);
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 4; j++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += K[i * 4 + k]! * S[k * 4 + j]!;
      KS[i * 4 + j] = v;
    }
  const P = cov.slice();
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 8; j++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += KS[i * 4 + k]! * K[j * 4 + k]!;
      P[i * 8 + j]! -= v;
    }
  return { mean: m, cov: P };
}

// ---- tracks ----

export type TrackState = 'tentative' | 'tracked' | 'lost';

export interface Observation extends TrackerDetection {
  /** The caller's frame number (e.g. the sample index) and time in seconds. */
  frame: number;
  time: number;
}

interface TrackData {
  id: number;
  state: TrackState;
  mean: Mean;
  cov: Cov;
  /** Frame of the last matched detection. */
  lastFrame: number;
  observations: Observation[];
}

export interface FinishedTrack {
  id: number;
  observations: Observation[];
}

export interface FrameUpdate {
  /** Per input detection: the id of the track it joined or started, or null (left out: low score, unmatched). */
  trackOf: (number | null)[];
  /** Tracks that ended this frame (lost too long): complete, they will not change. */
  ended: FinishedTrack[];
  /** Tentative tracks dropped this frame (never confirmed): their detections were not a person's track. */
  dropped: number[];
}

export interface TrackerSnapshot {
  version: 1;
  options: TrackerOptions;
  nextId: number;
  frames: number;
  tracks: TrackData[];
}

export class ByteTracker {
  private tracks: TrackData[] = [];
  private nextId = 1;
  private frames = 0;

  constructor(readonly options: TrackerOptions = SAMPLED_FOOTAGE_DEFAULTS) {}

  /** Current boxes of the tracks being followed (predicted for the next frame when called before update()). */
  active(): { id: number; state: TrackState; box: Box }[] {
    return this.tracks.map((t) => ({ id: t.id, state: t.state, box: toBox(t.mean) }));
  }

  private cost(tracks: TrackData[], dets: TrackerDetection[], fuse: boolean): Float64Array {
    const b = this.options.buffer;
    const grow = (x: Box): Box => {
      // By the height on both axes: how far a person moves scales with their height, not their width.
      const m = (x.y2 - x.y1) * b;
      return { x1: x.x1 - m, y1: x.y1 - m, x2: x.x2 + m, y2: x.y2 + m };
    };
    const out = new Float64Array(tracks.length * dets.length);
    tracks.forEach((t, i) => {
      const tb = grow(toBox(t.mean));
      dets.forEach((d, j) => {
        const db = grow(d);
        const sim = iou(tb.x1, tb.y1, tb.x2, tb.y2, db.x1, db.y1, db.x2, db.y2);
        out[i * dets.length + j] = 1 - (fuse ? sim * d.score : sim);
      });
    });
    return out;
  }

  private match(
    tracks: TrackData[],
    dets: { det: TrackerDetection; index: number }[],
    limit: number,
    fuse: boolean,
  ): {
    pairs: [TrackData, { det: TrackerDetection; index: number }][];
    tracks: TrackData[];
    dets: typeof dets;
  } {
    const a = linearAssignment(
      this.cost(
        tracks,
        dets.map((d) => d.det),
        fuse,
      ),
      tracks.length,
      dets.length,
      limit,
    );
    return {
      pairs: a.pairs.map(([i, j]) => [tracks[i]!, dets[j]!]),
      tracks: a.unmatchedRows.map((i) => tracks[i]!),
      dets: a.unmatchedCols.map((j) => dets[j]!),
    };
  }

  /** Feeds one frame's detections; frames must come in time order. */
  update(frame: number, time: number, detections: readonly TrackerDetection[]): FrameUpdate {
    const o = this.options;
    this.frames++;
    const trackOf: (number | null)[] = detections.map(() => null);
    const all = detections.map((det, index) => ({ det, index }));
    const high = all.filter((d) => d.det.score >= o.highScore);
    const low = all.filter((d) => d.det.score >= o.lowScore && d.det.score < o.highScore);

    for (const t of this.tracks) {
      // As ByteTrack: a track not seen last frame keeps its height (no growth while out of sight).
      if (t.state !== 'tracked') t.mean[7] = 0;
      ({ mean: t.mean, cov: t.cov } = predict(t.mean, t.cov, o));
    }
    const observe = (t: TrackData, d: { det: TrackerDetection; index: number }): void => {
      ({ mean: t.mean, cov: t.cov } = update(t.mean, t.cov, xyah(d.det), o));
      t.lastFrame = frame;
      t.observations.push({ ...pick(d.det), frame, time });
      trackOf[d.index] = t.id;
    };

    const confirmed = this.tracks.filter((t) => t.state !== 'tentative');
    const tentative = this.tracks.filter((t) => t.state === 'tentative');
    // Pass 1: high-score detections against tracked and lost tracks.
    const first = this.match(confirmed, high, o.firstPassLimit, true);
    for (const [t, d] of first.pairs) {
      observe(t, d);
      t.state = 'tracked';
    }
    // Pass 2: low-score detections against tracks that were being tracked and are still unmatched.
    const second = this.match(
      first.tracks.filter((t) => t.state === 'tracked'),
      low,
      o.secondPassLimit,
      false,
    );
    for (const [t, d] of second.pairs) observe(t, d);
    for (const t of second.tracks) t.state = 'lost';
    // Tracks born last frame: confirmed by a high-score detection now, or dropped.
    const third = this.match(tentative, first.dets, o.unconfirmedLimit, true);
    for (const [t, d] of third.pairs) {
      observe(t, d);
      t.state = 'tracked';
    }
    const dropped = third.tracks.map((t) => t.id);
    // Births. On the very first frame a track is confirmed at once (as in ByteTrack).
    const born: TrackData[] = [];
    for (const d of third.dets) {
      if (d.det.score < o.birthScore) continue;
      const { mean, cov } = initiate(xyah(d.det), o);
      const t: TrackData = {
        id: this.nextId++,
        state: this.frames === 1 ? 'tracked' : 'tentative',
        mean,
        cov,
        lastFrame: frame,
        observations: [{ ...pick(d.det), frame, time }],
      };
      trackOf[d.index] = t.id;
      born.push(t);
    }
    const ended: FinishedTrack[] = [];
    const keep: TrackData[] = [];
    for (const t of this.tracks) {
      if (t.state === 'tentative' && dropped.includes(t.id)) continue;
      if (t.state === 'lost' && frameGap(t, frame) > o.lostFrames) {
        ended.push({ id: t.id, observations: t.observations });
        continue;
      }
      keep.push(t);
    }
    this.tracks = [...keep, ...born];
    return { trackOf, ended, dropped };
  }

  /** Ends every track (the end of the video): the confirmed ones come back, tentative ones are dropped. */
  finish(): { ended: FinishedTrack[]; dropped: number[] } {
    const ended = this.tracks
      .filter((t) => t.state !== 'tentative')
      .map((t) => ({ id: t.id, observations: t.observations }));
    const dropped = this.tracks.filter((t) => t.state === 'tentative').map((t) => t.id);
    this.tracks = [];
    return { ended, dropped };
  }

  /** Everything needed to carry on later exactly as if never stopped (plain JSON). */
  snapshot(): TrackerSnapshot {
    return structuredClone({
      version: 1,
      options: this.options,
      nextId: this.nextId,
      frames: this.frames,
      tracks: this.tracks,
    });
  }

  static restore(s: TrackerSnapshot): ByteTracker {
    const t = new ByteTracker(s.options);
    t.nextId = s.nextId;
    t.frames = s.frames;
    t.tracks = structuredClone(s.tracks);
    return t;
  }
}

/** Frames since the track was last seen, counted in the caller's frame numbers. */
const frameGap = (t: TrackData, frame: number): number => frame - t.lastFrame;

const pick = (d: TrackerDetection): TrackerDetection => ({
  x1: d.x1,
  y1: d.y1,
  x2: d.x2,
  y2: d.y2,
  score: d.score,
});
