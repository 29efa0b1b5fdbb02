// Per-query results of MTI evaluations (migration 9): one row per finished query of an `eval-mti` job.
import type { Split } from '#shared/library/types';
import { asImageId, type ImageId, type JobId, type ModelId } from '#shared/ids';
import type { MtiEvalQueryResult } from '#shared/mti/types';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

interface EvalMtiQueryRow {
  query_index: number;
  caption_id: number;
  query: string;
  without_first: number | null;
  without_ap: number | null;
  without_inp: number | null;
  with_first: number | null;
  with_ap: number | null;
  with_inp: number | null;
  calls: number;
  ms: number;
  top1: number;
  anchor: number;
  anchor_correct: number;
  early_stop: number;
  fallback: number;
  refined: string | null;
}

const figures = (first: number | null, ap: number | null, inp: number | null): MtiEvalQueryResult['with'] =>
  first === null ? null : { first, ap: ap!, inp: inp! };

function toResult(r: EvalMtiQueryRow): MtiEvalQueryResult {
  return {
    captionId: r.caption_id,
    query: r.query,
    without: figures(r.without_first, r.without_ap, r.without_inp),
    with: figures(r.with_first, r.with_ap, r.with_inp),
    calls: r.calls,
    ms: r.ms,
    top1: r.top1,
    anchor: r.anchor === 1,
    anchorCorrect: r.anchor_correct === 1,
    earlyStop: r.early_stop === 1,
    fallback: r.fallback === 1,
    refined: r.refined,
  };
}

/**
 * Stores one finished query. A plain INSERT on purpose: a second result for the same query of the same
 * job is a bug (a query run twice), and failing on it beats counting it twice.
 */
export function insertEvalMtiQuery(
  db: WritableDb,
  jobId: JobId,
  queryIndex: number,
  r: MtiEvalQueryResult,
): void {
  stmt(
    db,
    `INSERT INTO eval_mti_queries (job_id, query_index, caption_id, query, without_first, without_ap, without_inp,
       with_first, with_ap, with_inp, calls, ms, top1, anchor, anchor_correct, early_stop, fallback, refined)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    jobId,
    queryIndex,
    r.captionId,
    r.query,
    r.without?.first ?? null,
    r.without?.ap ?? null,
    r.without?.inp ?? null,
    r.with?.first ?? null,
    r.with?.ap ?? null,
    r.with?.inp ?? null,
    r.calls,
    r.ms,
    r.top1,
    r.anchor ? 1 : 0,
    r.anchorCorrect ? 1 : 0,
    r.earlyStop ? 1 : 0,
    r.fallback ? 1 : 0,
    r.refined,
  );
}

/** The job's finished queries by query index. */
export function listEvalMtiQueries(db: ReadableDb, jobId: JobId): Map<number, MtiEvalQueryResult> {
  const rows = stmt(db, `SELECT * FROM eval_mti_queries WHERE job_id = ? ORDER BY query_index`).all(
    jobId,
  ) as EvalMtiQueryRow[];
  return new Map(rows.map((r) => [r.query_index, toResult(r)]));
}

/** Deletes the job's rows except those at `keep` (rows of queries that are no longer part of the evaluation). */
export function deleteEvalMtiQueriesExcept(db: WritableDb, jobId: JobId, keep: ReadonlySet<number>): number {
  const indices = stmt(db, `SELECT query_index FROM eval_mti_queries WHERE job_id = ?`)
    .pluck()
    .all(jobId) as number[];
  const del = stmt(db, `DELETE FROM eval_mti_queries WHERE job_id = ? AND query_index = ?`);
  let n = 0;
  for (const q of indices) if (!keep.has(q)) n += del.run(jobId, q).changes;
  return n;
}

export function countEvalMtiQueries(db: ReadableDb, jobId: JobId): number {
  return stmt(db, `SELECT count(*) FROM eval_mti_queries WHERE job_id = ?`).pluck().get(jobId) as number;
}

// The gallery: the split's images (of one dataset, when given; of a job's scope, when given), without the
// junk and distractors of re-ID datasets (issue 16: kept out of evaluation, as in eval.ts by default).
const GALLERY_WHERE = `i.split = @split AND (@datasetId IS NULL OR i.dataset_id = @datasetId)
  AND i.person_kind NOT IN ('junk', 'distractor')
  AND (@jobId IS NULL OR EXISTS (SELECT 1 FROM job_images j WHERE j.job_id = @jobId AND j.image_id = i.id))`;
// The queries: the human captions of gallery images that nobody rejected, in id order.
const QUERIES_WHERE = `${GALLERY_WHERE} AND c.source = 'human' AND c.status != 'rejected'`;

/** Which images an MTI evaluation covers: a split, of one dataset and of a job's scope when given. */
export interface MtiGalleryScope {
  split: Split;
  datasetId?: number | undefined;
  jobId?: JobId | undefined;
}
const galleryParams = (o: MtiGalleryScope): Record<string, unknown> => ({
  split: o.split,
  datasetId: o.datasetId ?? null,
  jobId: o.jobId ?? null,
});

/** The gallery's image ids in order: an `eval-mti` job's scope. */
export const listMtiGalleryImageIds = (db: ReadableDb, o: MtiGalleryScope): ImageId[] =>
  (
    stmt(db, `SELECT i.id FROM images i WHERE ${GALLERY_WHERE} ORDER BY i.id`, 'pluck').all(
      galleryParams(o),
    ) as number[]
  ).map(asImageId);

/** The usable query captions of the gallery's images. */
export const countMtiQueryCaptions = (db: ReadableDb, o: MtiGalleryScope): number =>
  stmt(
    db,
    `SELECT count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id WHERE ${QUERIES_WHERE}`,
    'pluck',
  ).get(galleryParams(o)) as number;

export interface MtiGalleryRow {
  image_id: number;
  dataset_id: number;
  rel_path: string;
  identity_id: number | null;
  /** Bytes of the image's vector from the model; null when it has none. */
  vector_bytes: number | null;
}

/** The gallery in image id order, with the size of each image's vector from `modelId` (null: none). */
export const listMtiGallery = (db: ReadableDb, modelId: ModelId, o: MtiGalleryScope): MtiGalleryRow[] =>
  stmt(
    db,
    `SELECT i.id AS image_id, i.dataset_id, i.rel_path, i.identity_id, length(e.vector) AS vector_bytes
       FROM images i LEFT JOIN embeddings e ON e.image_id = i.id AND e.model_id = @modelId
       WHERE ${GALLERY_WHERE} ORDER BY i.id`,
  ).all({ ...galleryParams(o), modelId }) as MtiGalleryRow[];

/** The query captions in id order. */
export const listMtiQueryCaptions = (
  db: ReadableDb,
  o: MtiGalleryScope,
): { id: number; image_id: number; text: string }[] =>
  stmt(
    db,
    `SELECT c.id, c.image_id, c.text FROM captions c JOIN images i ON i.id = c.image_id
       WHERE ${QUERIES_WHERE} ORDER BY c.id`,
  ).all(galleryParams(o)) as { id: number; image_id: number; text: string }[];
