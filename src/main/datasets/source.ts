// What an import brings in, in a stable order: the item list both the up-front checks and the job use.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DatasetFormat } from '#shared/library/types';
import { AppError } from '../errors';
import { FileReadError, readRegularFile } from '../files';
import { resolveInside } from '../media/paths';
import {
  cameraFromPath,
  detectFormat,
  parseJson,
  recordsToItems,
  type AnnotationFormat,
  type ImportItem,
  type ItemProblem,
} from './formats';
import { walkImages } from './walk';

export interface ImportListing {
  items: ImportItem[];
  /** Problems found while listing (bad records, symlink loops): reported once, when the job first runs. */
  problems: ItemProblem[];
}

const errCode = (err: unknown): string =>
  err instanceof Error && 'code' in err ? String(err.code) : 'error';

// The up-front checks on the folder are synchronous (one folder and a handful of paths); the annotation
// file is read asynchronously, off the thread that answers requests, and only if it is a regular file
// under the size cap: a named pipe or /dev/zero given as the annotation file is refused at once.

/**
 * Larger than any TBPS annotation file (CUHK-PEDES' reid_raw.json is ~20 MB, ICFG-PEDES' ~30 MB) by
 * a wide margin; parsing is in memory, so a file past this is refused as too large before any of it is read.
 */
export const MAX_ANNOTATION_BYTES = 256 * 1024 * 1024;

/** The image folder must exist, be a folder, and be listable. */
export function checkImageRoot(root: string): void {
  let st;
  try {
    st = statSync(root);
  } catch (err) {
    throw new AppError(
      'bad_request',
      errCode(err) === 'ENOENT'
        ? `Image folder ${root} does not exist. Check the path.`
        : `Image folder ${root} cannot be opened (${errCode(err)}). Check its permissions.`,
    );
  }
  if (!st.isDirectory()) {
    throw new AppError(
      'bad_request',
      `${root} is a file, not a folder. Give the folder that holds the images.`,
    );
  }
  try {
    accessSync(root, constants.R_OK | constants.X_OK);
    readdirSync(root);
  } catch (err) {
    throw new AppError(
      'bad_request',
      `Image folder ${root} cannot be read (${errCode(err)}). Check its permissions.`,
    );
  }
}

export interface AnnotationText {
  text: string;
  /** What was converted to read it (a byte-order mark removed, another encoding), one sentence each. */
  notes: string[];
}

/** Line and column of a byte offset, for "first bad byte at …". */
function lineAndColumn(bytes: Buffer, at: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return `line ${line}, column ${at - start + 1}`;
}

// Windows-1252 0x80–0x9F (the rest is Latin-1). Node's TextDecoder('windows-1252') decodes these as the
// C1 controls U+0080–U+009F (it uses its Latin-1 path), so the table is ours; 0x81 0x8D 0x8F 0x90 0x9D
// are unassigned and stay as they are.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

function decodeWindows1252(bytes: Buffer): string {
  const latin1 = bytes.toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

/** The first offset at which `bytes` stop being valid UTF-8. */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const n =
      b < 0x80
        ? 0
        : (b & 0xe0) === 0xc0 && b >= 0xc2
          ? 1
          : (b & 0xf0) === 0xe0
            ? 2
            : (b & 0xf8) === 0xf0 && b <= 0xf4
              ? 3
              : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return bytes.length;
}

/**
 * Text of an annotation file: UTF-8 (a byte-order mark removed), UTF-16 when a byte-order mark says
 * so, and otherwise — bytes that are not valid UTF-8, as files saved by older Windows tools are — read
 * as Windows-1252 (Latin-1 plus its printable extras) rather than turned into U+FFFD, with a note
 * saying so and where the first such byte is.
 */
export function decodeAnnotationBytes(bytes: Buffer): AnnotationText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return {
      ...decodeAnnotationBytes(bytes.subarray(3)),
      notes: ['a UTF-8 byte-order mark at the start was removed'],
    };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const le = bytes[0] === 0xff;
    return {
      text: new TextDecoder(le ? 'utf-16le' : 'utf-16be').decode(bytes.subarray(2)),
      notes: [
        `the file is UTF-16 (${le ? 'little' : 'big'}-endian, by its byte-order mark); it was read as such`,
      ],
    };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), notes: [] };
  } catch {
    const at = firstInvalidUtf8(bytes);
    return {
      text: decodeWindows1252(bytes),
      notes: [
        `the file is not valid UTF-8 (first bad byte 0x${(bytes[at] ?? 0).toString(16)} at ${lineAndColumn(bytes, at)}); ` +
          'it was read as Windows-1252 (Latin-1), so accented captions keep their letters. Check a few captions; ' +
          'if they look wrong, save the file as UTF-8 and import again',
      ],
    };
  }
}

/** Reads an annotation file's text: a regular file under the cap, off the calling thread. */
export async function readAnnotationFile(file: string): Promise<AnnotationText> {
  let bytes: Buffer;
  try {
    ({ bytes } = await readRegularFile(file, MAX_ANNOTATION_BYTES));
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    switch (err.reason) {
      case 'missing':
        throw new AppError('bad_request', `Annotation file ${file} does not exist. Check the path.`);
      case 'folder':
        throw new AppError('bad_request', `${file} is a folder; give the annotation JSON file itself.`);
      case 'not-regular':
        throw new AppError(
          'bad_request',
          `Annotation file ${file} ${err.message}; only a regular JSON file is read. Give the file itself (copy it out of the pipe or device first).`,
        );
      case 'too-large':
        throw new AppError(
          'bad_request',
          `Annotation file ${file} ${err.message}. TBPS annotation files are tens of MB; check that this is the right file, or split it.`,
        );
      case 'unreadable':
        throw new AppError(
          'bad_request',
          err.code === 'EACCES' || err.code === 'EPERM'
            ? `Annotation file ${file} cannot be read (${err.code}). Check its permissions.`
            : `Annotation file ${file} ${err.message}.`,
        );
    }
  }
  return decodeAnnotationBytes(bytes);
}

/** Reads, parses and identifies an annotation file; every failure says what to fix. */
export async function loadAnnotationFile(
  file: string,
  forced?: DatasetFormat,
): Promise<{ format: AnnotationFormat; records: unknown[]; notes: string[] }> {
  const { text, notes } = await readAnnotationFile(file);
  const data = parseJson(text, basename(file));
  const format = detectFormat(file, data, forced);
  return { format, records: data as unknown[], notes };
}

export async function listFolder(root: string): Promise<ImportListing> {
  const { files, problems } = await walkImages(root);
  return {
    items: files.map((relPath) => ({
      relPath,
      label: relPath,
      personId: null,
      split: null,
      camera: cameraFromPath(relPath),
      captions: [],
    })),
    problems,
  };
}

/**
 * Records → items, dropping (and reporting) any whose path would leave the image folder. What was read
 * liberally (`notes` of the reading and of the records) becomes one warning for the file.
 */
export function annotationItems(
  format: AnnotationFormat,
  records: readonly unknown[],
  root: string,
  file: string,
  readNotes: readonly string[] = [],
): ImportListing {
  const { items, problems, notes } = recordsToItems(format, records);
  const all = [...readNotes, ...notes];
  if (all.length > 0) {
    problems.unshift({
      severity: 'warning',
      item: basename(file),
      message: `read with conversions: ${all.join('; ')}.`,
    });
  }
  const inside = items.filter((item) => {
    if (resolveInside(root, item.relPath) !== null) return true;
    problems.push({
      severity: 'error',
      item: item.label,
      message:
        'its path leads outside the image folder; record skipped (paths must be relative to the image folder).',
    });
    return false;
  });
  return { items: inside, problems };
}

export async function listAnnotations(
  file: string,
  format: AnnotationFormat,
  root: string,
): Promise<ImportListing> {
  const { records, notes } = await loadAnnotationFile(file, format);
  return annotationItems(format, records, root, file, notes);
}

/**
 * Catches the usual mistake before a job is queued: the image folder is not the one the paths are
 * relative to (CUHK-PEDES and RSTPReid keep images in an `imgs/` folder beside the JSON file).
 */
export function checkPathsResolve(listing: ImportListing, root: string, file: string): void {
  if (listing.items.length === 0) {
    const first = listing.problems
      .filter((p) => p.severity === 'error')
      .slice(0, 3)
      .map((p) => `${p.item}: ${p.message}`);
    throw new AppError(
      'bad_request',
      `No usable record in ${basename(file)}. First problems:\n  ${first.join('\n  ')}`,
    );
  }
  const sample = listing.items.slice(0, 20);
  if (sample.some((i) => existsSync(join(root, i.relPath)))) return;
  const first = sample[0]?.relPath ?? '';
  const candidates = [join(root, 'imgs'), join(dirname(file), 'imgs'), dirname(file)];
  let hint = '';
  for (const c of candidates) {
    if (c !== root && existsSync(join(c, first))) {
      hint = ` They are under ${c}: use that as the image folder.`;
      break;
    }
  }
  throw new AppError(
    'bad_request',
    `None of the first ${sample.length} images named in ${basename(file)} exists under ${root} ` +
      `(e.g. ${join(root, first)}).${hint || ' Give the folder the paths in the file are relative to.'}`,
  );
}
