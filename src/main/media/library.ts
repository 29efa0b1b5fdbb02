// Library images by id: the database row gives the dataset folder, the stored path and the bytes'
// hash; `readImage` does the rest (real path inside the folder, regular file, size cap, same bytes).
import type { ImageId } from '#shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import { getImageRow, type ImageRow } from '../db/repos/images';
import type { ReadableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import { llmImage, type LlmImage } from '../llm/hash';
import { forMllm } from './encode';
import { ImageReadError, readImage, type ImageBytes, type StoredImage } from './image';

/** The stored facts `readImage` checks against, for an image row and its dataset folder. */
export const storedImage = (
  row: Pick<ImageRow, 'rel_path' | 'sha256' | 'bytes'>,
  root: string,
): StoredImage => ({
  root,
  relPath: row.rel_path,
  sha256: row.sha256,
  bytes: row.bytes,
});

/** Looks an image up; null when the id names no image (or its dataset is gone). */
export function findStoredImage(db: ReadableDb, id: ImageId): { row: ImageRow; stored: StoredImage } | null {
  const row = getImageRow(db, id);
  const dataset = row && getDatasetRow(db, row.dataset_id as never);
  if (!row || !dataset) return null;
  return { row, stored: storedImage(row, dataset.root) };
}

/** An ImageReadError as the API reports it: a missing file is not_found, every other refusal a bad request. */
export function imageAppError(err: unknown, label: string): unknown {
  if (!(err instanceof ImageReadError)) return err;
  return new AppError(err.problem === 'missing' ? 'not_found' : 'bad_request', `${label}: ${err.message}`);
}

/** The checked bytes of a library image; AppErrors that name the image. */
export async function readLibraryImage(db: ReadableDb, id: ImageId): Promise<ImageBytes & { row: ImageRow }> {
  const found = findStoredImage(db, id);
  if (!found) throw notFound(`Image ${id}`);
  try {
    return { ...(await readImage(found.stored)), row: found.row };
  } catch (err) {
    throw imageAppError(err, `Image ${id}`);
  }
}

/** A stored image as an MLLM gets it (see `forMllm`), with the hash the LLM cache keys on. */
export async function mllmImageOf(stored: StoredImage): Promise<LlmImage> {
  const img = await readImage(stored);
  const sent = await forMllm(img.bytes, img.format).catch((err: unknown) => {
    if (err instanceof ImageReadError)
      throw new ImageReadError(err.problem, `${img.path} ${err.message}; re-export it or leave it out.`);
    throw err;
  });
  return llmImage(sent.bytes, sent.mime);
}

/** A library image by id as an MLLM gets it. */
export async function mllmImage(db: ReadableDb, id: ImageId): Promise<LlmImage> {
  const found = findStoredImage(db, id);
  if (!found) throw notFound(`Image ${id}`);
  try {
    return await mllmImageOf(found.stored);
  } catch (err) {
    throw imageAppError(err, `Image ${id}`);
  }
}

/**
 * Library images as an MLLM gets them, each read and encoded once per reader (an MTI search asks about the
 * same anchor several times); a failed read is retried on the next ask.
 */
export function mllmImageReader(db: ReadableDb): (id: ImageId) => Promise<LlmImage> {
  const images = new Map<number, Promise<LlmImage>>();
  return (id) => {
    let p = images.get(id);
    if (!p) {
      p = mllmImage(db, id);
      images.set(id, p);
      p.catch(() => images.delete(id));
    }
    return p;
  };
}
