import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export type BatchStatus =
  | 'preparing'
  | 'submitted'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelled'
  | 'collected';

export interface LlmBatchRow {
  id: number;
  job_id: number | null;
  endpoint_id: number | null;
  round: number;
  try: number;
  provider_batch_id: string | null;
  input_file_id: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  status: BatchStatus;
  request_count: number;
  completed_count: number;
  failed_count: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export function insertBatch(
  db: WritableDb,
  b: { jobId: number | null; endpointId: number | null; round: number; try: number; requestCount: number },
): LlmBatchRow {
  const now = Date.now();
  return stmt(
    db,
    `INSERT INTO llm_batches (job_id, endpoint_id, round, try, status, request_count, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'preparing', ?, ?, ?) RETURNING *`,
  ).get(b.jobId, b.endpointId, b.round, b.try, b.requestCount, now, now) as LlmBatchRow;
}

export function updateBatch(
  db: WritableDb,
  id: number,
  patch: Partial<
    Pick<
      LlmBatchRow,
      | 'provider_batch_id'
      | 'input_file_id'
      | 'output_file_id'
      | 'error_file_id'
      | 'status'
      | 'completed_count'
      | 'failed_count'
      | 'error'
    >
  >,
): void {
  const keys = Object.keys(patch) as (keyof typeof patch)[];
  if (keys.length === 0) return;
  stmt(
    db,
    `UPDATE llm_batches SET ${keys.map((k) => `${k} = @${k}`).join(', ')}, updated_at = @now WHERE id = @id`,
  ).run({ ...patch, now: Date.now(), id });
}

/** A job's batches that were (or may have been) submitted and are not collected yet: poll these, never resubmit. */
export function listOpenBatches(db: ReadableDb, jobId: number): LlmBatchRow[] {
  return stmt(
    db,
    `SELECT * FROM llm_batches WHERE job_id = ? AND status NOT IN ('collected', 'failed', 'cancelled') ORDER BY id`,
  ).all(jobId) as LlmBatchRow[];
}

export function listJobBatches(db: ReadableDb, jobId: number): LlmBatchRow[] {
  return stmt(db, `SELECT * FROM llm_batches WHERE job_id = ? ORDER BY id`).all(jobId) as LlmBatchRow[];
}

export function nextBatchRound(db: ReadableDb, jobId: number): number {
  const r = stmt(db, `SELECT coalesce(max(round) + 1, 0) AS n FROM llm_batches WHERE job_id = ?`).get(
    jobId,
  ) as {
    n: number;
  };
  return r.n;
}
