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

/** The same for the model's crop views (migration 015): their primary key's index is narrow. */
export const viewsFingerprint = (db: ReadableDb, modelId: number): { n: number; s: number } =>
  stmt(db, `SELECT count(*) AS n, total(image_id) AS s FROM crop_view_embeddings WHERE model_id = ?`).get(
    modelId,
  ) as { n: number; s: number };

/** Changes by this connection (total_changes) and by any other (data_version), as one string. */
export function changeState(db: ReadableDb): string {
  const changes = stmt(db, 'SELECT total_changes()', 'pluck').get() as number;
  return `${db.pragma('data_version', { simple: true }) as number}:${changes}`;
}

/**
 * Two row streams in image id order as one, an image's own vector before its views (both streams are read
 * in order from their tables' keys; one ORDER BY over their union would sort every blob in a temp table).
 */
function* byImage<T extends readonly [number, ...unknown[]]>(
  own: Iterator<T>,
  views: Iterator<T>,
): Generator<T> {
  try {
    let a = own.next();
    let b = views.next();
    while (!a.done || !b.done) {
      if (b.done || (!a.done && a.value[0] <= b.value[0])) {
        yield a.value as T;
        a = own.next();
      } else {
        yield b.value;
        b = views.next();
      }
    }
  } finally {
    // A reader that stops early (or throws) must not leave a statement open: the connection stays busy.
    own.return?.();
    views.return?.();
  }
}

/**
 * A model's vector rows with each image's dataset, in image id order: an image's own vector, then the
 * vectors of its views (footage crops, migration 015), which the stores rank as more rows of that image.
 */
export const modelVectors = (db: ReadableDb, modelId: number): Generator<[number, number, unknown]> =>
  byImage(
    stmt(
      db,
      `SELECT e.image_id, i.dataset_id, e.vector FROM embeddings e JOIN images i ON i.id = e.image_id
       WHERE e.model_id = ? ORDER BY e.image_id`,
      'raw',
    ).iterate(modelId) as IterableIterator<[number, number, unknown]>,
    stmt(
      db,
      `SELECT v.image_id, i.dataset_id, v.vector FROM crop_view_embeddings v JOIN images i ON i.id = v.image_id
       WHERE v.model_id = ? ORDER BY v.image_id, v.view`,
      'raw',
    ).iterate(modelId) as IterableIterator<[number, number, unknown]>,
  );

/** A row of a model's vector store as the workspace holds it: image, view, dataset, camera, time, split, vector. */
export type StoredVectorRow = [
  number,
  number,
  number,
  string | null,
  number | null,
  string | null,
  Uint8Array,
];

const STORED_ROWS = (table: string, view: string, where: string, order: string): string =>
  `SELECT e.image_id, ${view}, i.dataset_id, c.name, k.time_ms, i.split, e.vector
   FROM ${table} e JOIN images i ON i.id = e.image_id
   LEFT JOIN crops k ON k.image_id = e.image_id
   LEFT JOIN tracks t ON t.id = k.track_id
   LEFT JOIN cameras c ON c.id = t.camera_id
   WHERE e.model_id = @modelId AND ${where} ORDER BY ${order}`;

/**
 * A model's vectors with the columns a vector store filters on, in image id order (an image's views after
 * its own vector, view 0), in pages of `pageSize` images' own vectors with their views. Camera and time are
 * a footage crop's (its track's camera, its frame's wall-clock time; its views carry the same); null for
 * other images. Each page is read by two short queries that finish before it is handed out, so a caller
 * that awaits between pages (LanceDB writes) holds no statement open: the connection stays free for other
 * readers and its snapshot is not pinned for the length of the load.
 */
export function* modelVectorRowPages(
  db: ReadableDb,
  modelId: number,
  pageSize: number,
): Generator<StoredVectorRow[]> {
  const own = stmt(
    db,
    `${STORED_ROWS('embeddings', '0', 'e.image_id > @after', 'e.image_id')} LIMIT @limit`,
    'raw',
  );
  const views = stmt(
    db,
    STORED_ROWS(
      'crop_view_embeddings',
      'e.view',
      'e.image_id > @after AND e.image_id <= @upTo',
      'e.image_id, e.view',
    ),
    'raw',
  );
  for (let after = 0; ;) {
    const ownRows = own.all({ modelId, after, limit: pageSize }) as StoredVectorRow[];
    // The last page takes every view left, also of an image whose own vector is gone.
    const last = ownRows.length < pageSize;
    const upTo = last ? Number.MAX_SAFE_INTEGER : ownRows.at(-1)![0];
    const viewRows = views.all({ modelId, after, upTo }) as StoredVectorRow[];
    const rows = [...byImage(ownRows.values(), viewRows.values())];
    if (rows.length) yield rows;
    if (last) return;
    after = upTo;
  }
}

/** An image whose stored vector (its own, or one of its views') under the model is not `bytes` long, if any. */
export const wrongLengthVector = (db: ReadableDb, modelId: number, bytes: number): number | undefined =>
  stmt(
    db,
    `SELECT image_id FROM embeddings WHERE model_id = @modelId AND length(vector) != @bytes
     UNION ALL SELECT image_id FROM crop_view_embeddings WHERE model_id = @modelId AND length(vector) != @bytes
     LIMIT 1`,
    'pluck',
  ).get({ modelId, bytes }) as number | undefined;

/**
 * sqlite-vec's exact top k by cosine (ties by image id), of one dataset when given; an image scores the
 * best of its own vector and its views'.
 */
export const sqliteVecTopK = (
  db: ReadableDb,
  modelId: number,
  query: Buffer,
  datasetId: number | null,
  k: number,
): { imageId: number; score: number }[] =>
  stmt(
    db,
    `SELECT r.image_id AS imageId, max(1.0 - vec_distance_cosine(r.vector, @query)) AS score
     FROM (SELECT image_id, vector FROM embeddings WHERE model_id = @modelId
           UNION ALL SELECT image_id, vector FROM crop_view_embeddings WHERE model_id = @modelId) r
     JOIN images i ON i.id = r.image_id
     WHERE @datasetId IS NULL OR i.dataset_id = @datasetId
     GROUP BY r.image_id
     ORDER BY score DESC, r.image_id ASC LIMIT @k`,
  ).all({ query, modelId, datasetId, k }) as { imageId: number; score: number }[];

export const imageIdsInSplit = (db: ReadableDb, split: string): Set<number> =>
  new Set(stmt(db, `SELECT id FROM images WHERE split = ?`, 'pluck').all(split) as number[]);

export const imageIdsInDatasets = (db: ReadableDb, ids: readonly number[]): Set<number> =>
  new Set(
    stmt(db, `SELECT id FROM images WHERE dataset_id IN (SELECT value FROM json_each(?))`, 'pluck').all(
      JSON.stringify(ids),
    ) as number[],
  );
