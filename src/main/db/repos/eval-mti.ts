// Per-query results of MTI evaluations (migration 9): one row per finished query of an `eval-mti` job.
import type { JobId } from '../../../shared/ids';
import type { MtiEvalQueryResult } from '../../../shared/mti';
import { stmt } from '../statements';
import type { Db } from '../types';

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
export function insertEvalMtiQuery(db: Db, jobId: JobId, queryIndex: number, r: MtiEvalQueryResult): void {
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
export function listEvalMtiQueries(db: Db, jobId: JobId): Map<number, MtiEvalQueryResult> {
  const rows = stmt(db, `SELECT * FROM eval_mti_queries WHERE job_id = ? ORDER BY query_index`).all(
    jobId,
  ) as EvalMtiQueryRow[];
  return new Map(rows.map((r) => [r.query_index, toResult(r)]));
}

/** Deletes the job's rows except those at `keep` (rows of queries that are no longer part of the evaluation). */
export function deleteEvalMtiQueriesExcept(db: Db, jobId: JobId, keep: ReadonlySet<number>): number {
  const indices = stmt(db, `SELECT query_index FROM eval_mti_queries WHERE job_id = ?`)
    .pluck()
    .all(jobId) as number[];
  const del = stmt(db, `DELETE FROM eval_mti_queries WHERE job_id = ? AND query_index = ?`);
  let n = 0;
  for (const q of indices) if (!keep.has(q)) n += del.run(jobId, q).changes;
  return n;
}

export function countEvalMtiQueries(db: Db, jobId: JobId): number {
  return stmt(db, `SELECT count(*) FROM eval_mti_queries WHERE job_id = ?`).pluck().get(jobId) as number;
}
