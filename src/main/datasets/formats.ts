// TBPS annotation files as they are in the wild (ALGORITHMS.md §6): parse, detect, check shape, and
// turn records into import items. Pure functions over already-read text, so they are unit-testable.
import { basename } from 'node:path';
import type { DatasetFormat, ImageRole, PersonKind, Split } from '#shared/library/types';
import { SPLITS } from '#shared/library/types';
import { AppError } from '../errors';

export type AnnotationFormat = Exclude<DatasetFormat, 'folder'>;

export const FORMAT_LABELS: Record<DatasetFormat, string> = {
  folder: 'a plain image folder',
  'cuhk-pedes': 'CUHK-PEDES (reid_raw.json / caption_all.json)',
  'icfg-pedes': 'ICFG-PEDES (ICFG-PEDES.json)',
  rstpreid: 'RSTPReid (data_captions.json)',
};

/** The fields each format's records must carry; `split` is optional everywhere (caption_all.json lacks it). */
const REQUIRED_FIELDS: Record<AnnotationFormat, readonly string[]> = {
  'cuhk-pedes': ['id', 'file_path', 'captions'],
  'icfg-pedes': ['id', 'file_path', 'captions'],
  rstpreid: ['id', 'img_path', 'captions'],
};

export const pathField = (f: AnnotationFormat): 'file_path' | 'img_path' =>
  f === 'rstpreid' ? 'img_path' : 'file_path';

/** One image the import should bring in, from an annotation record or a folder walk. */
export interface ImportItem {
  relPath: string;
  /** How issues name it: the path, plus the record number for annotation files. */
  label: string;
  personId: string | null;
  split: Split | null;
  camera: string | null;
  captions: string[];
  /** Re-ID layouts (issue 16): the image's role, what its person id is, its source group. */
  role?: ImageRole | null;
  personKind?: PersonKind;
  sourceGroup?: string | null;
  /** Said once the image is imported (a name that does not follow the layout's pattern). */
  warning?: string;
}

export interface ItemProblem {
  severity: 'error' | 'warning';
  item: string;
  message: string;
}

/** JSON.parse with the error position turned into line and column, which is what an editor shows. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = /at position (\d+)/.exec(message);
    let where = '';
    if (at) {
      const pos = Number(at[1]);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const column = pos - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${column}`;
    } else if (/end of JSON input/i.test(message)) {
      where = ' at the end of the file (is it cut short?)';
    }
    throw new AppError(
      'bad_request',
      `${file} is not valid JSON${where}: ${message.replace(/ in JSON at position \d+.*$/, '')}. ` +
        'Fix the file (or re-download it) and import again.',
    );
  }
}

/** Annotation formats by their usual file names; null when the name says nothing. */
export function formatFromFileName(file: string): AnnotationFormat | null {
  const name = basename(file).toLowerCase();
  if (name === 'reid_raw.json' || name === 'caption_all.json') return 'cuhk-pedes';
  if (name === 'icfg-pedes.json' || name === 'icfg_pedes.json') return 'icfg-pedes';
  if (name === 'data_captions.json') return 'rstpreid';
  return null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field names seen across the first records, for error messages. */
function fieldsSeen(records: readonly unknown[]): string[] {
  const seen = new Set<string>();
  for (const r of records.slice(0, 50)) if (isRecord(r)) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

function looksLike(records: readonly unknown[], format: AnnotationFormat): boolean {
  const sample = records.slice(0, 50).filter(isRecord);
  return sample.length > 0 && sample.some((r) => REQUIRED_FIELDS[format].every((f) => f in r));
}

/** ICFG-PEDES paths start with its split folder (`test/0027/0027_010_05_….jpg`); CUHK-PEDES paths do not. */
function looksLikeIcfg(records: readonly unknown[]): boolean {
  const paths = records
    .slice(0, 50)
    .filter(isRecord)
    .map((r) => r.file_path)
    .filter((p): p is string => typeof p === 'string');
  return paths.length > 0 && paths.every((p) => /^(train|test)[/\\]/.test(p));
}

/**
 * Picks the format (the forced one, else the file name, else the records' fields) and checks that
 * the records carry that format's fields — so an RSTPReid file given as CUHK-PEDES fails up front,
 * naming the fields expected and found, rather than as one error per record.
 */
export function detectFormat(file: string, data: unknown, forced?: DatasetFormat): AnnotationFormat {
  if (forced === 'folder') {
    throw new AppError(
      'bad_request',
      'Format "folder" takes no annotation file: leave the annotation file out.',
    );
  }
  if (!Array.isArray(data)) {
    const keys = isRecord(data) ? Object.keys(data).slice(0, 8).join(', ') : typeof data;
    throw new AppError(
      'bad_request',
      `${basename(file)} should hold a JSON list of records (as CUHK-PEDES, ICFG-PEDES and RSTPReid files do), ` +
        `but its top level is ${isRecord(data) ? `an object with keys ${keys}` : keys}.`,
    );
  }
  if (data.length === 0)
    throw new AppError('bad_request', `${basename(file)} holds no records; nothing to import.`);
  const byContent: AnnotationFormat | null = looksLike(data, 'rstpreid')
    ? 'rstpreid'
    : looksLike(data, 'cuhk-pedes')
      ? looksLikeIcfg(data)
        ? 'icfg-pedes'
        : 'cuhk-pedes'
      : null;
  const format = forced ?? formatFromFileName(file) ?? byContent;
  if (format === null || !looksLike(data, format)) {
    const found = fieldsSeen(data);
    const expected = format ? REQUIRED_FIELDS[format] : REQUIRED_FIELDS['cuhk-pedes'];
    const as = format ? `as ${FORMAT_LABELS[format]}` : 'as any known format';
    const hint =
      byContent && byContent !== format
        ? ` It looks like ${FORMAT_LABELS[byContent]}: choose that format (or leave the format to detection).`
        : format === null
          ? ` RSTPReid records need ${REQUIRED_FIELDS.rstpreid.join(', ')}.`
          : '';
    throw new AppError(
      'bad_request',
      `${basename(file)} cannot be read ${as}: its records need the fields ${expected.join(', ')}, ` +
        `but have ${found.length ? found.join(', ') : 'no fields'}.${hint}`,
    );
  }
  return format;
}

/** Dataset paths are stored with forward slashes and without a leading `./`. */
export function normalizeRelPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/**
 * The camera, where the file name encodes it: Market-1501 / RSTPReid `0001_c1s1_…` / `3903_c14_0007`
 * → `c1` / `c14`; MSMT17 (ICFG-PEDES) `0027_010_05_0303afternoon_…` → `05`; VIPeR `cam_a/…` → `cam_a`.
 */
export function cameraFromPath(relPath: string): string | null {
  const name = relPath.split('/').pop() ?? relPath;
  const market = /^-?\d+_(c\d+)(?:s\d+)?_/i.exec(name);
  if (market?.[1]) return market[1].toLowerCase();
  const msmt = /^\d{4}_\d{3}_(\d{2})_\d{4}(?:morning|noon|afternoon)/i.exec(name);
  if (msmt?.[1]) return msmt[1];
  const viper = /(?:^|\/)(cam_[ab])\//i.exec(relPath);
  if (viper?.[1]) return viper[1].toLowerCase();
  return null;
}

const describe = (v: unknown): string =>
  v === undefined ? 'missing' : (JSON.stringify(v)?.slice(0, 60) ?? String(v));

/** Fields each format's loaders read beyond the required ones; anything else is noted as ignored. */
const KNOWN_FIELDS: Record<AnnotationFormat, readonly string[]> = {
  'cuhk-pedes': [...REQUIRED_FIELDS['cuhk-pedes'], 'split', 'processed_tokens'],
  'icfg-pedes': [...REQUIRED_FIELDS['icfg-pedes'], 'split', 'processed_tokens'],
  rstpreid: [...REQUIRED_FIELDS.rstpreid, 'split'],
};

/** Counts of the liberal readings of one file, turned into one sentence each. */
class Conversions {
  private readonly counts = new Map<string, number>();
  private readonly extra = new Map<string, number>();
  add(kind: keyof typeof CONVERSION_TEXT, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }
  field(name: string): void {
    this.extra.set(name, (this.extra.get(name) ?? 0) + 1);
  }
  sentences(): string[] {
    const out = [...this.counts].map(([kind, n]) => CONVERSION_TEXT[kind as keyof typeof CONVERSION_TEXT](n));
    if (this.extra.size > 0) {
      const list = [...this.extra].map(([f, n]) => `"${f}" (${n} record${n === 1 ? '' : 's'})`).join(', ');
      out.push(`fields the import does not use were ignored: ${list}`);
    }
    return out;
  }
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
const CONVERSION_TEXT = {
  captionString: (n: number) =>
    `${plural(n, 'caption given as a string was', 'captions given as a string were')} read as one-caption lists`,
  captionNull: (n: number) =>
    `${plural(n, 'null caption in a caption list was', 'null captions in caption lists were')} left out`,
  idString: (n: number) =>
    `${plural(n, 'id given as a numeric string was', 'ids given as numeric strings were')} read as numbers ("0012" → 12)`,
  backslash: (n: number) =>
    `${plural(n, 'path with Windows separators (\\) was', 'paths with Windows separators (\\) were')} read with /`,
  dotSlash: (n: number) =>
    `${plural(n, 'path starting with ./ was', 'paths starting with ./ were')} read without it`,
  splitCase: (n: number) =>
    `${plural(n, 'split written in another case or with spaces was', 'splits written in another case or with spaces were')} read as train/val/test`,
} as const;

/**
 * Records → items. The formats are read liberally where the meaning is plain — one caption given as a
 * string, an id given as a numeric string, Windows separators or a leading `./` in a path, null entries in
 * a caption list, a split in capitals, fields the import does not use — and each such reading is counted
 * into `notes` (one sentence per kind, for the whole file). A record is skipped, as a problem, only when
 * its meaning is unclear: no path, no id, captions that are neither text nor a list of text, an unknown
 * split, a path already named by an earlier record.
 */
export function recordsToItems(
  format: AnnotationFormat,
  records: readonly unknown[],
): { items: ImportItem[]; problems: ItemProblem[]; notes: string[] } {
  const items: ImportItem[] = [];
  const problems: ItemProblem[] = [];
  const conv = new Conversions();
  const known = new Set(KNOWN_FIELDS[format]);
  const firstRecordOf = new Map<string, number>();
  const field = pathField(format);
  records.forEach((r, index) => {
    const n = index + 1;
    const bad = (message: string, path?: string): void => {
      problems.push({ severity: 'error', item: `record ${n}${path ? ` (${path})` : ''}`, message });
    };
    if (!isRecord(r))
      return bad(`is ${describe(r)}, not an object with ${REQUIRED_FIELDS[format].join(', ')}.`);
    const rawPath = r[field];
    if (typeof rawPath !== 'string' || rawPath.trim() === '') {
      return bad(`"${field}" should be a relative image path, but is ${describe(rawPath)}; record skipped.`);
    }
    const trimmedPath = rawPath.trim();
    if (trimmedPath.includes('\\')) conv.add('backslash');
    const relPath = normalizeRelPath(trimmedPath);
    if (/^(\.[/\\])+/.test(trimmedPath)) conv.add('dotSlash');
    let id = r.id;
    if (typeof id === 'string' && /^\s*\d{1,15}\s*$/.test(id)) {
      id = Number(id.trim());
      conv.add('idString');
    }
    if (!((typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.trim() !== ''))) {
      return bad(
        `"id" should be a person id (number or text), but is ${describe(r.id)}; record skipped.`,
        relPath,
      );
    }
    let caps = r.captions;
    if (typeof caps === 'string') {
      caps = [caps];
      conv.add('captionString');
    } else if (Array.isArray(caps) && caps.some((c) => c === null)) {
      conv.add('captionNull', caps.filter((c) => c === null).length);
      caps = caps.filter((c) => c !== null);
    }
    if (!Array.isArray(caps) || !caps.every((c) => typeof c === 'string')) {
      return bad(
        `"captions" should be a list of strings (or one string), but is ${describe(r.captions)}; record skipped.`,
        relPath,
      );
    }
    const captions = caps.map((c) => c.trim()).filter((c) => c !== '');
    if (captions.length < caps.length) {
      problems.push({
        severity: 'warning',
        item: `record ${n} (${relPath})`,
        message: `${caps.length - captions.length} empty caption(s) left out.`,
      });
    }
    let split: Split | null = null;
    if (r.split !== undefined && r.split !== null) {
      const s = typeof r.split === 'string' ? r.split.trim().toLowerCase() : r.split;
      if (!SPLITS.includes(s as Split)) {
        return bad(
          `"split" should be one of ${SPLITS.join(', ')}, but is ${describe(r.split)}; record skipped.`,
          relPath,
        );
      }
      if (s !== r.split) conv.add('splitCase');
      split = s as Split;
    }
    for (const k of Object.keys(r)) if (!known.has(k)) conv.field(k);
    const earlier = firstRecordOf.get(relPath);
    if (earlier !== undefined) {
      problems.push({
        severity: 'warning',
        item: `record ${n} (${relPath})`,
        message: `repeats the image of record ${earlier}; skipped (the first record's id and captions are kept).`,
      });
      return;
    }
    firstRecordOf.set(relPath, n);
    items.push({
      relPath,
      label: `record ${n} (${relPath})`,
      personId: String(typeof id === 'string' ? id.trim() : id),
      split,
      camera: cameraFromPath(relPath),
      captions,
    });
  });
  return { items, problems, notes: conv.sentences() };
}
