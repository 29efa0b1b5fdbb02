// The synthetic footage world: short CCTV-like videos of the synthetic people (world.ts, render.ts) walking
// across a few cameras' static scenes — entering and leaving at the edges, at different depths (nearer is
// bigger and lower), sometimes two at once, now and then crossing (the nearer one hides the other) — with
// the ground truth that makes detection and tracking measurable: per frame, who is where (box, share
// visible), and per camera its file, wall-clock start and the walks. Frames are piped to FFmpeg (H.264 in
// MP4), and file names follow a camera pattern. Everything but the video bytes is a pure function of the seed
// (x264's bytes depend on its version).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../errors';
import { encodeVideo, type VideoTools } from '../../media/video';
import type { PersonAttributes, Rgb } from '../../pipelines/attributes';
import { renderPerson } from '../render';
import { createRng, deriveSeed } from '../../rng';
import { planWorld } from '../world';
import { renderScene, SCENE_STYLES } from './scene';

/** The pattern the files are named by (footage/cameras.ts). */
export const FOOTAGE_PATTERN = '{camera}_{date:YYYYMMDD}_{time:HHmmss}';
export const FOOTAGE_TRUTH_FILE = 'footage-truth.json';

export interface FootageOptions {
  seed: number | string;
  /** Default 3. */
  cameras?: number;
  /** Seconds per video; default 12. */
  durationSeconds?: number;
  /** Frames per second of the videos; default 25. */
  fps?: number;
  /** Default 640 × 360 (tests); 1280 × 720 and 1920 × 1080 for benchmarks. */
  width?: number;
  height?: number;
  /** Walks past each camera; default one per 3.5 s of video. */
  walksPerCamera?: number;
  /** Camera 1's wall-clock start (local time on the cameras' clocks); the others start a little later. */
  start?: string;
}

export interface Walk {
  personId: number;
  /** Seconds from the video's start at which the person's centre crosses the frame's edge going in. */
  enter: number;
  /** +1: left to right; −1: right to left. */
  direction: 1 | -1;
  /** Feet height at entry and at exit, as fractions of the frame's height (depth: lower is nearer). */
  footFrom: number;
  footTo: number;
  /** Walking speed in body heights per second. */
  speed: number;
}

export interface TruthBox {
  frame: number;
  personId: number;
  /** Frame pixels, [x1, y1, x2, y2): the whole person (as far as the frame shows), occluded parts included. */
  box: [number, number, number, number];
  /** Share of the person's pixels that are in the frame and not hidden by someone nearer. */
  visibility: number;
}

export interface FootageCamera {
  name: string;
  style: string;
  /** Relative to the world's folder. */
  file: string;
  /** The recording's start on the camera's clock (UTC offset 0 in this world). */
  startLocal: string;
  frames: number;
  walks: Walk[];
  boxes: TruthBox[];
}

export interface FootageTruth {
  version: 1;
  seed: number | string;
  fps: number;
  width: number;
  height: number;
  pattern: string;
  cameras: FootageCamera[];
  people: { personId: number; attributes: PersonAttributes }[];
}

interface Person {
  personId: number;
  attributes: PersonAttributes;
  skin: Rgb;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Body height in pixels of a person whose feet are at `foot` (fraction of the frame's height). */
export const heightAt = (foot: number, frameHeight: number): number => 0.82 * (foot - 0.3) * frameHeight;

function addSeconds(local: string, s: number): string {
  const t = new Date(`${local}Z`).getTime() + s * 1000;
  return new Date(t).toISOString().slice(0, 23);
}

function validate(o: Required<Omit<FootageOptions, 'walksPerCamera' | 'start'>>): void {
  const bad = (m: string): never => {
    throw new AppError('bad_request', m);
  };
  if (!Number.isInteger(o.cameras) || o.cameras < 1 || o.cameras > 99) bad('cameras must be 1–99.');
  if (!(o.durationSeconds >= 2 && o.durationSeconds <= 3600)) bad('durationSeconds must be 2–3600.');
  if (!(o.fps >= 1 && o.fps <= 60)) bad('fps must be 1–60.');
  if (o.width % 2 || o.height % 2 || o.width < 160 || o.height < 90 || o.width > 3840 || o.height > 2160)
    bad('width and height must be even, from 160×90 to 3840×2160.');
}

/** Everything except the pixels: people, cameras, walks. */
export function planFootage(opts: FootageOptions): {
  people: Person[];
  cameras: Omit<FootageCamera, 'boxes'>[];
  fps: number;
  width: number;
  height: number;
  lighting: number[];
} {
  const o = {
    seed: opts.seed,
    cameras: opts.cameras ?? 3,
    durationSeconds: opts.durationSeconds ?? 12,
    fps: opts.fps ?? 25,
    width: opts.width ?? 640,
    height: opts.height ?? 360,
  };
  validate(o);
  const walks = opts.walksPerCamera ?? Math.max(1, Math.round(o.durationSeconds / 3.5));
  // Each person walks past a camera at most once: a true identity per camera is one walk.
  const poolSize = Math.max(walks * 2, 8);
  const plan = planWorld({ identities: poolSize, views: 1, seed: o.seed });
  const people: Person[] = plan.identities.map((p) => ({
    personId: p.personId,
    attributes: p.attributes,
    skin: p.skin,
  }));
  const start = opts.start ?? '2026-12-04T08:15:00.000';
  const frames = Math.round(o.durationSeconds * o.fps);
  const lighting: number[] = [];
  const cameras = Array.from({ length: o.cameras }, (_, c) => {
    const rng = createRng(deriveSeed(o.seed, 'footage', 'camera', c));
    lighting.push(Math.round(rng.range(0.93, 1.07) * 1e4) / 1e4);
    const who = rng.shuffle(people).slice(0, walks);
    const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;
    // Most people walk with the camera's main flow, a few seconds apart, never catching up with the one
    // ahead; every fourth walks against it, entering soon after someone it then crosses. The first is
    // already in the picture when the video starts.
    const flow: 1 | -1 = rng.chance(0.5) ? 1 : -1;
    const pxSpeed = (w: Walk): number => w.speed * heightAt((w.footFrom + w.footTo) / 2, o.height);
    const list: Walk[] = [];
    let lead: Walk | null = null;
    let next = -rng.range(1, 3);
    for (const [j, p] of who.entries()) {
      const against = j % 4 === 1 && lead !== null;
      // The main flow walks nearer the camera, the few against it further back: when they cross, the far
      // one is small and mostly hidden, as on a pavement seen from above.
      const footFrom = against ? rng.range(0.6, 0.66) : rng.range(0.74, 0.95);
      const w: Walk = {
        personId: p.personId,
        enter: Math.round((against ? lead!.enter + rng.range(0.5, 2) : next) * 1000) / 1000,
        direction: against ? (-flow as 1 | -1) : flow,
        footFrom: r4(footFrom),
        footTo: r4(footFrom + rng.range(-0.03, 0.03)),
        speed: r4(rng.range(0.55, 0.85)),
      };
      if (!against) {
        if (lead && pxSpeed(w) > pxSpeed(lead)) w.speed = r4((w.speed * pxSpeed(lead)) / pxSpeed(w) - 1e-4);
        lead = w;
        next = w.enter + rng.range(3.5, 6);
      } else {
        // The next with the flow enters where this one leaves, once it has left: one crossing each.
        next = Math.max(next, w.enter + walkDuration(w, o.width, o.height));
      }
      list.push(w);
    }
    const name = `cam${pad2(c + 1)}`;
    const startLocal = addSeconds(start, c * 37);
    const stamp = startLocal.replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
    return {
      name,
      style: SCENE_STYLES[c % SCENE_STYLES.length]!.name,
      file: `${name}/${name}_${stamp}.mp4`,
      startLocal,
      frames,
      walks: list,
    };
  });
  return { people, cameras, fps: o.fps, width: o.width, height: o.height, lighting };
}

interface Placed {
  walk: Walk;
  foot: number;
  h: number;
  cx: number;
}

/** Where a walker is at time t (or null when out of the frame). */
function walkGeometry(w: Walk, width: number, height: number): { v: number; margin: number; span: number } {
  const hMean = heightAt((w.footFrom + w.footTo) / 2, height);
  const margin = hMean * 0.3;
  return { v: w.speed * hMean, margin, span: width + 2 * margin };
}

/** Seconds a walker takes from entering the frame to leaving it. */
export function walkDuration(w: Walk, width: number, height: number): number {
  const { v, span } = walkGeometry(w, width, height);
  return span / v;
}

function place(w: Walk, t: number, width: number, height: number): Placed | null {
  const { v, margin, span } = walkGeometry(w, width, height);
  const dt = t - w.enter;
  const dist = v * dt;
  if (dt < 0 || dist > span) return null;
  const progress = dist / span;
  const foot = w.footFrom + (w.footTo - w.footFrom) * progress;
  const cx = w.direction > 0 ? -margin + dist : width + margin - dist;
  return { walk: w, foot, h: heightAt(foot, height), cx };
}

/**
 * Renders one frame of a camera: the scene, then the walkers from far to near. Returns the pixels and the
 * frame's truth boxes.
 */
export function renderFootageFrame(
  scene: Buffer,
  camera: Omit<FootageCamera, 'boxes'>,
  people: Map<number, Person>,
  frame: number,
  fps: number,
  width: number,
  height: number,
  lighting: number,
  noiseSeed: number,
): { rgb: Buffer; boxes: TruthBox[] } {
  const rgb = Buffer.from(scene);
  const t = frame / fps;
  const placed = camera.walks
    .map((w) => place(w, t, width, height))
    .filter((p): p is Placed => p !== null)
    .sort((a, b) => a.foot - b.foot || a.walk.personId - b.walk.personId);
  // owner[i] = index in `placed` of the person seen at pixel i (−1: scene).
  const owner = new Int16Array(width * height).fill(-1);
  const totals: number[] = [];
  const boxes: (TruthBox & { k: number })[] = [];
  placed.forEach((p, k) => {
    const H = Math.max(24, Math.round(p.h));
    const W = Math.max(12, Math.round(H / 2));
    const phase = (2 * Math.PI * (t - p.walk.enter) * p.walk.speed * 0.9) % (2 * Math.PI);
    const person = people.get(p.walk.personId)!;
    const { rgb: body, labels } = renderPerson(
      {
        attributes: person.attributes,
        skin: person.skin,
        pose: {
          view: 'side',
          shift: 0,
          spread: Math.round((0.065 + 0.015 * Math.sin(phase)) * 1e4) / 1e4,
          arm: Math.round((0.13 + 0.03 * Math.sin(phase)) * 1e4) / 1e4,
        },
        background: { kind: 'flat', colour: 'teal', ground: 'denim', top: 1, bottom: 1, horizon: 0.8 },
        lighting,
        noiseSeed: (noiseSeed + frame * 7919 + p.walk.personId * 104729) >>> 0,
      },
      { width: W, height: H },
    );
    const left = Math.round(p.cx - W / 2);
    const top = Math.round(p.foot * height - H * 0.97);
    const mirror = p.walk.direction < 0;
    let total = 0;
    let bx1 = Infinity;
    let by1 = Infinity;
    let bx2 = -Infinity;
    let by2 = -Infinity;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sx = mirror ? W - 1 - x : x;
        if (labels[y * W + sx] === 0) continue;
        total++;
        const fx = left + x;
        const fy = top + y;
        if (fx < 0 || fy < 0 || fx >= width || fy >= height) continue;
        if (fx < bx1) bx1 = fx;
        if (fy < by1) by1 = fy;
        if (fx + 1 > bx2) bx2 = fx + 1;
        if (fy + 1 > by2) by2 = fy + 1;
        const i = fy * width + fx;
        owner[i] = k;
        const s = (y * W + sx) * 3;
        rgb[i * 3] = body[s]!;
        rgb[i * 3 + 1] = body[s + 1]!;
        rgb[i * 3 + 2] = body[s + 2]!;
      }
    }
    totals.push(total);
    if (bx2 > bx1 && by2 > by1)
      boxes.push({ frame, personId: p.walk.personId, box: [bx1, by1, bx2, by2], visibility: 0, k });
  });
  const visible = new Array<number>(placed.length).fill(0);
  for (let i = 0; i < owner.length; i++) if (owner[i]! >= 0) visible[owner[i]!]!++;
  return {
    rgb,
    boxes: boxes.map(({ k, ...b }) => ({
      ...b,
      visibility: Math.round((visible[k]! / totals[k]!) * 1e4) / 1e4,
    })),
  };
}

export interface GenerateFootageOptions extends FootageOptions {
  outDir: string;
  tools: VideoTools;
  /** Replace footage already in outDir. */
  overwrite?: boolean;
  onProgress?: (camera: number, frame: number, frames: number) => void;
  signal?: AbortSignal;
}

/** Renders, encodes and writes the footage world and its ground truth (FOOTAGE_TRUTH_FILE). */
export async function generateFootage(opts: GenerateFootageOptions): Promise<FootageTruth> {
  const plan = planFootage(opts);
  const outDir = path.resolve(opts.outDir);
  if (opts.overwrite) {
    for (const c of plan.cameras) await rm(path.join(outDir, c.name), { recursive: true, force: true });
  }
  const people = new Map(plan.people.map((p) => [p.personId, p]));
  const cameras: FootageCamera[] = [];
  for (const [c, cam] of plan.cameras.entries()) {
    const style = SCENE_STYLES[c % SCENE_STYLES.length]!;
    const scene = renderScene(style, plan.width, plan.height, deriveSeed(opts.seed, 'scene', c));
    const boxes: TruthBox[] = [];
    const noise = deriveSeed(opts.seed, 'noise', c);
    const lighting = plan.lighting[c]!;
    function* frames(): Generator<Buffer> {
      for (let f = 0; f < cam.frames; f++) {
        const r = renderFootageFrame(
          scene,
          cam,
          people,
          f,
          plan.fps,
          plan.width,
          plan.height,
          lighting,
          noise,
        );
        boxes.push(...r.boxes);
        opts.onProgress?.(c, f + 1, cam.frames);
        yield r.rgb;
      }
    }
    const file = path.join(outDir, cam.file);
    await mkdir(path.dirname(file), { recursive: true });
    await encodeVideo(opts.tools, file, frames(), {
      width: plan.width,
      height: plan.height,
      fps: plan.fps,
      creationTime: `${cam.startLocal}Z`,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    cameras.push({ ...cam, boxes });
  }
  const truth: FootageTruth = {
    version: 1,
    seed: opts.seed,
    fps: plan.fps,
    width: plan.width,
    height: plan.height,
    pattern: FOOTAGE_PATTERN,
    cameras,
    people: plan.people
      .filter((p) => cameras.some((c) => c.walks.some((w) => w.personId === p.personId)))
      .map((p) => ({ personId: p.personId, attributes: p.attributes })),
  };
  await writeFile(path.join(outDir, FOOTAGE_TRUTH_FILE), `${JSON.stringify(truth)}\n`);
  return truth;
}

/** The truth boxes of one frame of a camera. */
export function truthAt(camera: FootageCamera, frame: number): TruthBox[] {
  return camera.boxes.filter((b) => b.frame === frame);
}
