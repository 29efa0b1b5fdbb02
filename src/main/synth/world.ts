// The synthetic world as TBPS datasets on disk: rendered crops under imgs/, the same people described
// in the RSTPReid (data_captions.json) and CUHK-PEDES (reid_raw.json) formats, and the ground truth
// (attributes.json). Everything is a pure function of the seed: equal options give equal bytes, and
// identity i is the same person whether the world has 10 identities or 10,000.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SPLITS, type Split } from '#shared/library/types';
import { AppError } from '../errors';
import {
  ATTRIBUTES_FILE,
  attributeKey,
  COLOUR_NAMES,
  describeAttributes,
  sampleAttributes,
  templateCaption,
  tokenizeCaption,
  type AttributeTruth,
  type ColourName,
  type PersonAttributes,
  type Rgb,
} from '../pipelines/attributes';
import {
  DEFAULT_SIZE,
  encodeImage,
  renderPerson,
  sampleScene,
  SKIN_TONES,
  VIEWS,
  type ImageFormat,
  type RenderSize,
  type Scene,
  type View,
} from './render';
import { createRng, deriveSeed } from '../rng';

export interface WorldOptions {
  identities: number;
  /** Images per identity; orientations cycle front/back/side from a per-identity offset. */
  views: number;
  seed: number | string;
  /** Identity shares per split (normalised). Default 0.6 / 0.2 / 0.2. */
  splits?: Record<Split, number>;
  size?: RenderSize;
  /**
   * Share of captions (0–1, default 0) written with one mistake, as annotators make them: the colour of
   * the top, the trousers or skirt, or the shoes is named wrong. Each is listed in attributes.json.
   */
  captionMistakes?: number;
}

/** A caption written with a wrong colour on purpose (WorldOptions.captionMistakes). */
export interface CaptionMistake {
  /** Which of the image's two captions. */
  caption: 0 | 1;
  garment: MistakenGarment;
  said: ColourName;
  truth: ColourName;
}
const MISTAKEN_GARMENTS = ['top', 'bottom', 'shoes'] as const;
type MistakenGarment = (typeof MISTAKEN_GARMENTS)[number];

export interface GenerateWorldOptions extends WorldOptions {
  outDir: string;
  /** 'mixed' writes every tenth image as PNG, the rest as JPEG (importers meet both in the wild). */
  imageFormat?: ImageFormat | 'mixed';
  /** Replace a world already in outDir instead of refusing. */
  overwrite?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface WorldIdentity {
  /** 1-based, as CUHK-PEDES ids are. */
  personId: number;
  split: Split;
  attributes: PersonAttributes;
  /** Rendering only; not an attribute any caption or question mentions. */
  skin: Rgb;
}

export interface WorldImage {
  /** Relative to the image root (outDir/imgs), forward slashes. */
  file: string;
  personId: number;
  /** 0-based index among the identity's images. */
  view: number;
  orientation: View;
  split: Split;
  format: ImageFormat;
  captions: [string, string];
  /** The captions written wrong on purpose; empty unless WorldOptions.captionMistakes is set. */
  mistakes: CaptionMistake[];
  scene: Scene;
}

export interface WorldPlan {
  seed: number | string;
  size: RenderSize;
  identities: WorldIdentity[];
  images: WorldImage[];
}

export interface WorldSummary {
  outDir: string;
  imageRoot: string;
  seed: number | string;
  identities: number;
  images: number;
  splits: Record<Split, { identities: number; images: number }>;
  files: { rstpreid: string; cuhkPedes: string; attributes: string };
  elapsedMs: number;
}

export const IMAGE_ROOT = 'imgs';
export const WORLD_FILES = {
  rstpreid: 'data_captions.json',
  cuhkPedes: 'reid_raw.json',
  attributes: ATTRIBUTES_FILE,
} as const;

const DEFAULT_SPLITS: Record<Split, number> = { train: 0.6, val: 0.2, test: 0.2 };

function validate(opts: WorldOptions): void {
  if (!Number.isInteger(opts.identities) || opts.identities < 1 || opts.identities > 1_000_000) {
    throw new AppError(
      'bad_request',
      `identities must be a whole number from 1 to 1,000,000, got ${opts.identities}.`,
    );
  }
  if (!Number.isInteger(opts.views) || opts.views < 1 || opts.views > 99) {
    throw new AppError('bad_request', `views must be a whole number from 1 to 99, got ${opts.views}.`);
  }
  const s = opts.splits ?? DEFAULT_SPLITS;
  const m = opts.captionMistakes ?? 0;
  if (!(m >= 0 && m <= 1)) {
    throw new AppError('bad_request', `captionMistakes is a share from 0 to 1, got ${m}.`);
  }
  if (SPLITS.some((k) => !(s[k] >= 0)) || s.train + s.val + s.test <= 0) {
    throw new AppError(
      'bad_request',
      'split shares must be non-negative numbers with a positive sum, e.g. {train: 0.6, val: 0.2, test: 0.2}.',
    );
  }
}

/** Split of every identity (index 0-based): shares rounded, every non-zero share gets one if it can. */
function assignSplits(n: number, shares: Record<Split, number>, seed: number | string): Split[] {
  const sum = shares.train + shares.val + shares.test;
  const counts = { val: Math.round((n * shares.val) / sum), test: Math.round((n * shares.test) / sum) };
  if (n >= 3) {
    if (shares.val > 0 && counts.val === 0) counts.val = 1;
    if (shares.test > 0 && counts.test === 0) counts.test = 1;
  }
  if (counts.val + counts.test > n) counts.val = Math.max(0, n - counts.test);
  if (shares.train > 0 && n >= 3 && counts.val + counts.test >= n)
    counts.val = Math.max(0, n - counts.test - 1);
  const order = createRng(deriveSeed(seed, 'splits', n)).shuffle(Array.from({ length: n }, (_, i) => i));
  const out: Split[] = new Array<Split>(n).fill('train');
  order.forEach((identity, rank) => {
    if (rank < counts.test) out[identity] = 'test';
    else if (rank < counts.test + counts.val) out[identity] = 'val';
  });
  return out;
}

/**
 * Rewrites a share of `captions` in place with one garment's colour named wrong, and says which. The
 * caption keeps its wording: the garment's phrase ("red t-shirt") is swapped for the wrong one ("blue
 * t-shirt"). The draws come from a stream of their own, so the rest of the world is the same with or
 * without mistakes.
 */
function plantMistakes(
  captions: [string, string],
  attributes: PersonAttributes,
  share: number,
  seed: number,
): CaptionMistake[] {
  const rng = createRng(seed);
  const mistakes: CaptionMistake[] = [];
  for (const caption of [0, 1] as const) {
    if (!rng.chance(share)) continue;
    const garment = rng.pick(MISTAKEN_GARMENTS);
    const truth = attributes[garment].colour;
    const said = rng.pick(COLOUR_NAMES.filter((c) => c !== truth));
    const from = describeAttributes(attributes)[garment];
    const to = describeAttributes({ ...attributes, [garment]: { ...attributes[garment], colour: said } })[
      garment
    ];
    const text = captions[caption];
    // Every canonical phrase appears once in a template caption; anything else would be a template bug.
    if (text.split(from).length !== 2) throw new Error(`"${from}" is not once in "${text}"`);
    captions[caption] = text.replace(from, to);
    mistakes.push({ caption, garment, said, truth });
  }
  return mistakes;
}

/** Everything about the world except its pixels: people, splits, scenes and captions. */
export function planWorld(opts: WorldOptions): WorldPlan {
  validate(opts);
  const size = opts.size ?? DEFAULT_SIZE;
  const splits = assignSplits(opts.identities, opts.splits ?? DEFAULT_SPLITS, opts.seed);
  const pad = Math.max(4, String(opts.identities).length);
  const seen = new Set<string>();
  const identities: WorldIdentity[] = [];
  const images: WorldImage[] = [];
  for (let i = 0; i < opts.identities; i++) {
    const rng = createRng(deriveSeed(opts.seed, 'identity', i));
    // Retry until this attribute set is new; past a few hundred thousand people duplicates become
    // unavoidable in places, and then the last draw is kept.
    let attributes = sampleAttributes(rng);
    for (let tries = 0; tries < 200 && seen.has(attributeKey(attributes)); tries++)
      attributes = sampleAttributes(rng);
    seen.add(attributeKey(attributes));
    const identity: WorldIdentity = {
      personId: i + 1,
      split: splits[i] as Split,
      attributes,
      skin: rng.pick(SKIN_TONES),
    };
    identities.push(identity);
    const offset = rng.int(VIEWS.length);
    for (let v = 0; v < opts.views; v++) {
      const orientation = VIEWS[(offset + v) % VIEWS.length] as View;
      const imageRng = createRng(deriveSeed(opts.seed, 'image', i, v));
      const scene = sampleScene(orientation, imageRng);
      const captions: [string, string] = [templateCaption(attributes, imageRng), ''];
      captions[1] = templateCaption(attributes, imageRng);
      for (let tries = 0; tries < 8 && captions[1] === captions[0]; tries++)
        captions[1] = templateCaption(attributes, imageRng);
      const mistakes = opts.captionMistakes
        ? plantMistakes(
            captions,
            attributes,
            opts.captionMistakes,
            deriveSeed(opts.seed, 'caption-mistake', i, v),
          )
        : [];
      images.push({
        file: `${String(identity.personId).padStart(pad, '0')}/${String(v + 1).padStart(2, '0')}_${orientation}`,
        personId: identity.personId,
        view: v,
        orientation,
        split: identity.split,
        format: 'jpg',
        captions,
        mistakes,
        scene,
      });
    }
  }
  return { seed: opts.seed, size, identities, images };
}

async function prepareOutDir(outDir: string, overwrite: boolean): Promise<void> {
  if (existsSync(outDir)) {
    const entries = await readdir(outDir);
    if (entries.length > 0) {
      const ours = entries.every((e) => e === IMAGE_ROOT || Object.values(WORLD_FILES).includes(e as never));
      if (!overwrite || !ours) {
        throw new AppError(
          'conflict',
          ours
            ? `${outDir} already holds a synthetic world. Pass --force (overwrite: true) to replace it, or choose another --out.`
            : `${outDir} is not empty and holds files that are not a synthetic world. Choose an empty or new --out directory.`,
        );
      }
      await rm(path.join(outDir, IMAGE_ROOT), { recursive: true, force: true });
    }
  }
  await mkdir(path.join(outDir, IMAGE_ROOT), { recursive: true });
}

/** Renders and writes the world; see the file comment for the layout. */
export async function generateWorld(opts: GenerateWorldOptions): Promise<WorldSummary> {
  const started = performance.now();
  const plan = planWorld(opts);
  const outDir = path.resolve(opts.outDir);
  await prepareOutDir(outDir, opts.overwrite ?? false);
  const imageFormat = opts.imageFormat ?? 'jpg';
  plan.images.forEach((img, k) => {
    img.format = imageFormat === 'mixed' ? (k % 10 === 9 ? 'png' : 'jpg') : imageFormat;
    img.file = `${img.file}.${img.format}`;
  });

  const byId = new Map(plan.identities.map((p) => [p.personId, p]));
  const root = path.join(outDir, IMAGE_ROOT);
  const made = new Set<string>();
  // Rendering is synchronous JS; encoding and writing run on libuv's pool. Keeping a few in flight
  // overlaps the two without holding thousands of buffers.
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  for (const img of plan.images) {
    const person = byId.get(img.personId) as WorldIdentity;
    const dir = path.dirname(img.file);
    if (!made.has(dir)) {
      await mkdir(path.join(root, dir), { recursive: true });
      made.add(dir);
    }
    const { rgb } = renderPerson(
      { ...img.scene, attributes: person.attributes, skin: person.skin },
      plan.size,
    );
    const task = encodeImage(rgb, plan.size, img.format)
      .then((bytes) => writeFile(path.join(root, img.file), bytes))
      .then(() => {
        done++;
        opts.onProgress?.(done, plan.images.length);
      });
    const tracked: Promise<void> = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= 6) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);

  await writeFile(path.join(outDir, WORLD_FILES.rstpreid), toJson(toRstpReid(plan)));
  await writeFile(path.join(outDir, WORLD_FILES.cuhkPedes), toJson(toCuhkPedes(plan)));
  await writeFile(path.join(outDir, WORLD_FILES.attributes), toJson(toGroundTruth(plan)));

  const splits = Object.fromEntries(
    SPLITS.map((s) => [s, { identities: 0, images: 0 }]),
  ) as WorldSummary['splits'];
  for (const p of plan.identities) splits[p.split].identities++;
  for (const img of plan.images) splits[img.split].images++;
  return {
    outDir,
    imageRoot: root,
    seed: plan.seed,
    identities: plan.identities.length,
    images: plan.images.length,
    splits,
    files: {
      rstpreid: path.join(outDir, WORLD_FILES.rstpreid),
      cuhkPedes: path.join(outDir, WORLD_FILES.cuhkPedes),
      attributes: path.join(outDir, WORLD_FILES.attributes),
    },
    elapsedMs: Math.round(performance.now() - started),
  };
}

const toJson = (value: unknown): string => `${JSON.stringify(value, null, 1)}\n`;

/** RSTPReid's data_captions.json: `img_path` (not file_path), two captions, split by identity. */
export function toRstpReid(
  plan: WorldPlan,
): { id: number; img_path: string; captions: string[]; split: Split }[] {
  return plan.images.map((img) => ({
    id: img.personId,
    img_path: img.file,
    captions: img.captions,
    split: img.split,
  }));
}

/** CUHK-PEDES reid_raw.json: ids from 1, file_path under the image root, lower-case word tokens. */
export function toCuhkPedes(
  plan: WorldPlan,
): { split: Split; captions: string[]; file_path: string; processed_tokens: string[][]; id: number }[] {
  return plan.images.map((img) => ({
    split: img.split,
    captions: img.captions,
    file_path: img.file,
    processed_tokens: img.captions.map(tokenizeCaption),
    id: img.personId,
  }));
}

export interface GroundTruth extends AttributeTruth {
  version: 1;
  seed: number | string;
  imageRoot: string;
  size: RenderSize;
  identities: { personId: number; split: Split; attributes: PersonAttributes }[];
  images: {
    file: string;
    personId: number;
    view: number;
    orientation: View;
    split: Split;
    attributes: PersonAttributes;
    scene: Scene;
    /** Present only in a world made with captionMistakes, on images with a caption written wrong. */
    captionMistakes?: CaptionMistake[];
  }[];
}

export function toGroundTruth(plan: WorldPlan): GroundTruth {
  const byId = new Map(plan.identities.map((p) => [p.personId, p]));
  return {
    version: 1,
    seed: plan.seed,
    imageRoot: IMAGE_ROOT,
    size: plan.size,
    identities: plan.identities.map((p) => ({
      personId: p.personId,
      split: p.split,
      attributes: p.attributes,
    })),
    images: plan.images.map((img) => ({
      file: img.file,
      personId: img.personId,
      view: img.view,
      orientation: img.orientation,
      split: img.split,
      attributes: (byId.get(img.personId) as WorldIdentity).attributes,
      scene: img.scene,
      ...(img.mistakes.length > 0 ? { captionMistakes: img.mistakes } : {}),
    })),
  };
}
