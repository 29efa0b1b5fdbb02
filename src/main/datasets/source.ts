// What an import brings in, in a stable order: the item list both the up-front checks and the job use.
import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DatasetFormat } from '../../shared/domain';
import { AppError } from '../errors';
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

// The up-front checks are synchronous: `import:start` answers at once, and they touch one folder,
// one file and a handful of paths.

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

/** Reads, parses and identifies an annotation file; every failure says what to fix. */
export function loadAnnotationFile(
  file: string,
  forced?: DatasetFormat,
): { format: AnnotationFormat; records: unknown[] } {
  let text: string;
  try {
    const st = statSync(file);
    if (st.isDirectory())
      throw new AppError('bad_request', `${file} is a folder; give the annotation JSON file itself.`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError(
      'bad_request',
      errCode(err) === 'ENOENT'
        ? `Annotation file ${file} does not exist. Check the path.`
        : `Annotation file ${file} cannot be read (${errCode(err)}). Check its permissions.`,
    );
  }
  const data = parseJson(text, basename(file));
  const format = detectFormat(file, data, forced);
  return { format, records: data as unknown[] };
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

/** Records → items, dropping (and reporting) any whose path would leave the image folder. */
export function annotationItems(
  format: AnnotationFormat,
  records: readonly unknown[],
  root: string,
): ImportListing {
  const { items, problems } = recordsToItems(format, records);
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

export function listAnnotations(file: string, format: AnnotationFormat, root: string): ImportListing {
  const { records } = loadAnnotationFile(file, format);
  return annotationItems(format, records, root);
}

/**
 * Catches the usual mistake before a job is queued: the image folder is not the one the paths are
 * relative to (CUHK-PEDES and RSTPReid keep images in an `imgs/` folder beside the JSON file).
 */
export function checkPathsResolve(listing: ImportListing, root: string, file: string): void {
  if (listing.items.length === 0) {
    const first = listing.problems.slice(0, 3).map((p) => `${p.item}: ${p.message}`);
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
