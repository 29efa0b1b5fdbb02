// Dataset files that IRRA/RDE-style trainers read unchanged (ALGORITHMS.md §6), built from the
// accepted captions. Pure functions: the export job gathers the rows, these shape and serialise them,
// and formats.ts (the import's parser) reads the result back as a self-check.
import type { CaptionSource, ImageRole, Split } from '#shared/library/types';
import type { ExportFormat } from '#shared/review/types';
import { SPLITS } from '#shared/library/types';
import { createRng, deriveSeed } from '../rng';

export interface ExportCaption {
  captionId: number;
  text: string;
  source: CaptionSource;
  /** Model, prompts, the text the model wrote, and the reviewer's decision (JSONL only). */
  provenance: Record<string, unknown>;
}

export interface ExportImage {
  imageId: number;
  datasetId: number;
  relPath: string;
  /** The source's person id; null when it has none (each such image is its own identity). */
  personId: string | null;
  split: Split | null;
  /** Carried by the JSONL export (the JSON formats have no field for them). */
  camera?: string | null;
  role?: ImageRole | null;
  sourceGroup?: string | null;
  captions: ExportCaption[];
}

export interface SplitRatios {
  train: number;
  val: number;
  test: number;
}

/** Where each trainer looks for the annotation file, relative to the dataset folder. */
export const ANNOTATION_FILE: Record<ExportFormat, string> = {
  'cuhk-pedes': 'reid_raw.json',
  'icfg-pedes': 'ICFG-PEDES.json',
  rstpreid: 'data_captions.json',
  jsonl: 'captions.jsonl',
};
/** IRRA's loaders join every image path to `<dataset>/imgs`. */
export const IMAGE_DIR = 'imgs';

const identityKey = (img: ExportImage): string =>
  img.personId === null ? `image:${img.imageId}` : `${img.datasetId}:${img.personId}`;

/**
 * What keeps images together when splits are assigned: the person; for images without one, their source
 * group (a LUPerson video's crops stay in one split), else the image alone.
 */
const splitKey = (img: ExportImage): string =>
  img.personId === null && img.sourceGroup ? `group:${img.datasetId}:${img.sourceGroup}` : identityKey(img);

/**
 * A split for every image: the source's where it has one; otherwise by identity (or source group), so no
 * person or video is in two splits. Identities are shuffled with a seeded RNG (same seed, same split) and cut by the ratios.
 * ICFG-PEDES has no val split: val goes to test there.
 */
export function assignSplits(
  images: readonly ExportImage[],
  ratios: SplitRatios,
  seed: number,
  format: ExportFormat,
): Map<number, Split> {
  const out = new Map<number, Split>();
  const keys = new Set<string>();
  for (const img of images) if (img.split === null) keys.add(splitKey(img));
  const sorted = [...keys].sort();
  const shuffled = createRng(deriveSeed('export-split', seed)).shuffle(sorted);
  const sum = ratios.train + ratios.val + ratios.test;
  const nTrain = Math.round((ratios.train / sum) * shuffled.length);
  const nVal = Math.round((ratios.val / sum) * shuffled.length);
  const byKey = new Map<string, Split>();
  shuffled.forEach((k, n) => byKey.set(k, n < nTrain ? 'train' : n < nTrain + nVal ? 'val' : 'test'));
  for (const img of images) {
    let s = img.split ?? byKey.get(splitKey(img))!;
    if (format === 'icfg-pedes' && s === 'val') s = 'test';
    out.set(img.imageId, s);
  }
  return out;
}

/**
 * Integer person ids as the trainers want them: IRRA asserts that training ids run 0..n-1 without gaps
 * (CUHK-PEDES files store them from 1; its loader subtracts 1). Identities with training images are
 * numbered first, then val, then test, each group in source order.
 */
export function numberIdentities(
  images: readonly ExportImage[],
  splits: ReadonlyMap<number, Split>,
  format: ExportFormat,
): Map<string, number> {
  const rank = new Map<string, number>();
  const order: string[] = [];
  for (const img of images) {
    const k = identityKey(img);
    const r = SPLITS.indexOf(splits.get(img.imageId)!);
    if (!rank.has(k)) order.push(k);
    rank.set(k, Math.min(rank.get(k) ?? r, r));
  }
  const sorted = order.map((k, n) => ({ k, n, r: rank.get(k)! })).sort((a, b) => a.r - b.r || a.n - b.n);
  const base = format === 'cuhk-pedes' ? 1 : 0;
  return new Map(sorted.map((e, n) => [e.k, base + n]));
}

/** Word tokens as CUHK-PEDES ships them in `processed_tokens`: lower case, punctuation left out. */
export function processedTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

/** The path a record names, relative to `imgs/`. Several datasets each get a folder of their own. */
export function exportRelPath(
  img: ExportImage,
  datasetFolder: string | null,
  split: Split,
  format: ExportFormat,
): string {
  const p = datasetFolder === null ? img.relPath : `${datasetFolder}/${img.relPath}`;
  // ICFG-PEDES paths start with their split's folder (and the importer recognises the format by it).
  if (format === 'icfg-pedes' && !/^(train|test)\//.test(p)) return `${split}/${p}`;
  return p;
}

export interface ExportRecordSet {
  format: ExportFormat;
  /** One per image (one per caption for JSONL). */
  records: Record<string, unknown>[];
  /** image id → its path under imgs/, for the image copy. */
  paths: Map<number, string>;
  captions: number;
}

export function buildRecords(
  format: ExportFormat,
  images: readonly ExportImage[],
  opts: { ratios: SplitRatios; seed: number; datasetFolders: ReadonlyMap<number, string> | null },
): ExportRecordSet {
  const splits = assignSplits(images, opts.ratios, opts.seed, format);
  const ids = numberIdentities(images, splits, format);
  const records: Record<string, unknown>[] = [];
  const paths = new Map<number, string>();
  let captions = 0;
  for (const img of images) {
    const split = splits.get(img.imageId)!;
    const id = ids.get(identityKey(img))!;
    const path = exportRelPath(img, opts.datasetFolders?.get(img.datasetId) ?? null, split, format);
    paths.set(img.imageId, path);
    const texts = img.captions.map((c) => c.text);
    captions += texts.length;
    switch (format) {
      case 'cuhk-pedes':
        records.push({
          split,
          captions: texts,
          file_path: path,
          processed_tokens: texts.map(processedTokens),
          id,
        });
        break;
      case 'icfg-pedes':
        records.push({
          id,
          file_path: path,
          captions: texts,
          processed_tokens: texts.map(processedTokens),
          split,
        });
        break;
      case 'rstpreid':
        records.push({ id, img_path: path, captions: texts, split });
        break;
      case 'jsonl':
        for (const c of img.captions) {
          records.push({
            id,
            person_id: img.personId,
            img_path: path,
            split,
            role: img.role ?? null,
            camera: img.camera ?? null,
            source_group: img.sourceGroup ?? null,
            caption: c.text,
            caption_id: c.captionId,
            source: c.source,
            ...c.provenance,
          });
        }
        break;
    }
  }
  return { format, records, paths, captions };
}

/** The file's text: a JSON list (one record a line, so diffs and `head` stay readable) or JSON Lines. */
export function serializeRecords(set: ExportRecordSet): string {
  if (set.format === 'jsonl')
    return set.records.map((r) => JSON.stringify(r)).join('\n') + (set.records.length ? '\n' : '');
  if (set.records.length === 0) return '[]\n';
  return `[\n${set.records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
}

/** A folder name for a dataset inside imgs/ when several datasets are exported together. */
export function datasetFolderName(id: number, name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `d${id}${slug ? `-${slug}` : ''}`;
}
