// The queries behind vector search (search/index.ts, search/store-search.ts, vectors/index.ts): a model's
// stored vectors read in image-id order, the fingerprint that says when they changed, the sqlite-vec exact
// path, and the id sets the memory index filters by.
import { stmt } from '../statements';
import type { ReadableDb } from '../types';

export function modelNameAndDim(db: ReadableDb, modelId: number): { name: string; dim: number } | undefined {
  return stmt(db, `SELECT name, embedding_dim AS dim FROM models WHERE id = ?`).get(modelId) as
    { name: string; dim: number } | undefined;
}

// Count and id sum of the model's rows: an insert or a delete (also by cascade from images) changes
// them. Read from the narrow (image_id, model_id) index: the table rows carry ~2 KB blobs, so even a
// count over the primary key would read hundreds of MB at a million vectors; and created_at sits after
// the blob, so max(created_at) would read the blobs themselves.
const FINGERPRINT_SQL = `SELECT count(*) AS n, total(image_id) AS s FROM embeddings INDEXED BY embeddings_by_image
  WHERE model_id = ?`;
const FINGERPRINT_FALLBACK_SQL = `SELECT count(*) AS n, total(image_id) AS s FROM embeddings WHERE model_id = ?`;

export function embeddingsFingerprint(db: ReadableDb, modelId: number): { n: number; s: number } {
  let s;
  try {
    s = stmt(db, FINGERPRINT_SQL);
  } catch {
    s = stmt(db, FINGERPRINT_FALLBACK_SQL); // the index was renamed or dropped: correct, only slower
  }
  return s.get(modelId) as { n: number; s: number };
}

/** Changes by this connection (total_changes) and by any other (data_version), as one string. */
export function changeState(db: ReadableDb): string {
  const changes = stmt(db, 'SELECT total_changes()', 'pluck').get() as number;
  return `${db.pragma('data_version', { simple: true }) as number}:${changes}`;
}

/** A model's vectors with each image's dataset, in image id order. */
export const modelVectors = (db: ReadableDb, modelId: number): IterableIterator<[number, number, unknown]> =>
  stmt(
    db,
    `SELECT e.image_id, i.dataset_id, e.vector FROM embeddings e JOIN images i ON i.id = e.image_id
     WHERE e.model_id = ? ORDER BY e.image_id`,
    'raw',
  ).iterate(modelId) as IterableIterator<[number, number, unknown]>;

/**
 * A model's vectors with the columns a vector store filters on, in image id order. Camera and time are a
 * footage crop's (its track's camera, its frame's wall-clock time); null for other images.
 */
export const modelVectorRows = (
  db: ReadableDb,
  modelId: number,
): IterableIterator<[number, number, string | null, number | null, string | null, Uint8Array]> =>
  stmt(
    db,
    `SELECT e.image_id, i.dataset_id, c.name, k.time_ms, i.split, e.vector
     FROM embeddings e JOIN images i ON i.id = e.image_id
     LEFT JOIN crops k ON k.image_id = e.image_id
     LEFT JOIN tracks t ON t.id = k.track_id
     LEFT JOIN cameras c ON c.id = t.camera_id
     WHERE e.model_id = ? ORDER BY e.image_id`,
    'raw',
  ).iterate(modelId) as IterableIterator<
    [number, number, string | null, number | null, string | null, Uint8Array]
  >;

/** An image whose stored vector under the model is not `bytes` long, if any. */
export const wrongLengthVector = (db: ReadableDb, modelId: number, bytes: number): number | undefined =>
  stmt(db, `SELECT image_id FROM embeddings WHERE model_id = ? AND length(vector) != ? LIMIT 1`, 'pluck').get(
    modelId,
    bytes,
  ) as number | undefined;

/** sqlite-vec's exact top k by cosine (ties by image id), of one dataset when given. */
export const sqliteVecTopK = (
  db: ReadableDb,
  modelId: number,
  query: Buffer,
  datasetId: number | null,
  k: number,
): { imageId: number; score: number }[] =>
  stmt(
    db,
    `SELECT e.image_id AS imageId, 1.0 - vec_distance_cosine(e.vector, ?) AS score
     FROM embeddings e JOIN images i ON i.id = e.image_id
     WHERE e.model_id = ? AND (? IS NULL OR i.dataset_id = ?)
     ORDER BY score DESC, e.image_id ASC LIMIT ?`,
  ).all(query, modelId, datasetId, datasetId, k) as { imageId: number; score: number }[];

export const imageIdsInSplit = (db: ReadableDb, split: string): Set<number> =>
  new Set(stmt(db, `SELECT id FROM images WHERE split = ?`, 'pluck').all(split) as number[]);

export const imageIdsInDatasets = (db: ReadableDb, ids: readonly number[]): Set<number> =>
  new Set(
    stmt(db, `SELECT id FROM images WHERE dataset_id IN (SELECT value FROM json_each(?))`, 'pluck').all(
      JSON.stringify(ids),
    ) as number[],
  );
