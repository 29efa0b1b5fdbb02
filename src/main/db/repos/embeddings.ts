import type { DatasetId, ImageId, JobId, ModelId } from '#shared/ids';
import { asImageId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

/** float32 little-endian, as stored in `embeddings.vector` (and as sqlite-vec reads it). */
export const vectorToBlob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
export function blobToVector(b: Buffer): Float32Array {
  // Copy into an aligned buffer: a Buffer's offset inside its pool need not be a multiple of 4.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export interface ImageToEmbed {
  id: ImageId;
  relPath: string;
  root: string;
  /** What the file held at import: the encoder refuses a file that no longer matches. */
  sha256: string;
  bytes: number;
}

/** Images without a vector from `modelId`, optionally in one dataset, in id order: an embed job's scope. */
export function listImageIdsMissingEmbedding(
  db: ReadableDb,
  modelId: ModelId,
  datasetId: DatasetId | undefined,
): ImageId[] {
  return (
    stmt(
      db,
      `SELECT i.id FROM images i WHERE (? IS NULL OR i.dataset_id = ?)
           AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = ? AND e.image_id = i.id)
         ORDER BY i.id`,
    )
      .pluck()
      .all(datasetId ?? null, datasetId ?? null, modelId) as number[]
  ).map(asImageId);
}

const JOB_MISSING = `FROM job_images s JOIN images i ON i.id = s.image_id JOIN datasets d ON d.id = i.dataset_id
  WHERE s.job_id = ? AND s.image_id > ?
    AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = ? AND e.image_id = s.image_id)`;

/**
 * Images of the job's scope after `afterId` (in id order) that still have no vector from `modelId`. The
 * job walks this with a cursor, so a resumed job continues where it stopped and never repeats work.
 */
export function listJobImagesMissingEmbedding(
  db: ReadableDb,
  modelId: ModelId,
  jobId: JobId,
  afterId: number,
  limit: number,
): ImageToEmbed[] {
  const rows = stmt(
    db,
    `SELECT i.id, i.rel_path, i.sha256, i.bytes, d.root ${JOB_MISSING} ORDER BY s.image_id LIMIT ?`,
  ).all(jobId, afterId, modelId, limit) as {
    id: number;
    rel_path: string;
    root: string;
    sha256: string;
    bytes: number;
  }[];
  return rows.map((r) => ({
    id: asImageId(r.id),
    relPath: r.rel_path,
    root: r.root,
    sha256: r.sha256,
    bytes: r.bytes,
  }));
}

export function countJobImagesMissingEmbedding(
  db: ReadableDb,
  modelId: ModelId,
  jobId: JobId,
  afterId: number,
): number {
  return (stmt(db, `SELECT count(*) AS n ${JOB_MISSING}`).get(jobId, afterId, modelId) as { n: number }).n;
}

export function countImagesMissingEmbedding(
  db: ReadableDb,
  modelId: ModelId,
  datasetId: DatasetId | undefined,
): number {
  return (
    stmt(
      db,
      `SELECT count(*) AS n FROM images i WHERE (? IS NULL OR i.dataset_id = ?)
           AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = ? AND e.image_id = i.id)`,
    ).get(datasetId ?? null, datasetId ?? null, modelId) as { n: number }
  ).n;
}

export function upsertEmbedding(
  db: WritableDb,
  modelId: ModelId,
  imageId: ImageId,
  vector: Float32Array,
): void {
  stmt(
    db,
    `INSERT INTO embeddings (model_id, image_id, vector, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (model_id, image_id) DO UPDATE SET vector = excluded.vector, created_at = excluded.created_at`,
  ).run(modelId, imageId, vectorToBlob(vector), Date.now());
}

export function getEmbedding(db: ReadableDb, modelId: ModelId, imageId: ImageId): Float32Array | undefined {
  const r = stmt(db, `SELECT vector FROM embeddings WHERE model_id = ? AND image_id = ?`).get(
    modelId,
    imageId,
  ) as { vector: Buffer } | undefined;
  return r ? blobToVector(r.vector) : undefined;
}

export function countEmbeddings(db: ReadableDb, modelId: ModelId): number {
  return (stmt(db, `SELECT count(*) AS n FROM embeddings WHERE model_id = ?`).get(modelId) as { n: number })
    .n;
}

/** The images with a vector from the model (of one dataset, when given), ascending: MTI's gallery. */
export function listEmbeddedImageIds(
  db: ReadableDb,
  modelId: ModelId,
  datasetId: DatasetId | null,
): Int32Array {
  return Int32Array.from(
    stmt(
      db,
      `SELECT e.image_id FROM embeddings e JOIN images i ON i.id = e.image_id
         WHERE e.model_id = ? AND (? IS NULL OR i.dataset_id = ?) ORDER BY e.image_id`,
    )
      .pluck()
      .all(modelId, datasetId, datasetId) as number[],
  );
}

/** How many images (of one dataset, when given) have a vector from the model. */
export function countEmbeddedImages(db: ReadableDb, modelId: ModelId, datasetId: DatasetId | null): number {
  return (
    stmt(
      db,
      `SELECT count(*) AS n FROM embeddings e JOIN images i ON i.id = e.image_id
         WHERE e.model_id = ? AND (? IS NULL OR i.dataset_id = ?)`,
    ).get(modelId, datasetId, datasetId) as { n: number }
  ).n;
}

/** Images (of one dataset, or all) with a vector from `modelId`. */
export const countEmbeddedInScope = (
  db: ReadableDb,
  modelId: ModelId,
  datasetId: DatasetId | undefined,
): number =>
  stmt(
    db,
    `SELECT count(*) AS n FROM embeddings e JOIN images i ON i.id = e.image_id
         WHERE e.model_id = ? AND (? IS NULL OR i.dataset_id = ?)`,
    'pluck',
  ).get(modelId, datasetId ?? null, datasetId ?? null) as number;
