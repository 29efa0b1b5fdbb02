import type { Job, JobIssue, JobKind, JobStatus } from '#shared/jobs/types';
import { asJobId, type JobId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export interface JobRow {
  id: number;
  kind: JobKind;
  title: string;
  params: string;
  status: JobStatus;
  done: number;
  total: number | null;
  message: string | null;
  error: string | null;
  state: string | null;
  attempts: number;
  owner: string | null;
  heartbeat_at: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  /** 1 once the job's scope (job_images) is written. */
  scoped: 0 | 1;
}

export function insertJob(db: WritableDb, j: { kind: JobKind; title: string; params: unknown }): JobId {
  const now = Date.now();
  const r = stmt(
    db,
    `INSERT INTO jobs (kind, title, params, status, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?)`,
  ).run(j.kind, j.title, JSON.stringify(j.params), now, now);
  return asJobId(Number(r.lastInsertRowid));
}

export function getJobRow(db: ReadableDb, id: JobId): JobRow | undefined {
  return stmt(db, `SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
}

export function listJobRowsByStatus(db: ReadableDb, statuses: readonly JobStatus[]): JobRow[] {
  return stmt(
    db,
    `SELECT * FROM jobs WHERE status IN (${statuses.map(() => '?').join(',')}) ORDER BY id`,
  ).all(...statuses) as JobRow[];
}

export function listJobRows(db: ReadableDb, limit: number): JobRow[] {
  return stmt(db, `SELECT * FROM jobs ORDER BY id DESC LIMIT ?`).all(limit) as JobRow[];
}

/** Claims a queued job for `owner`; false when another process claimed it first. */
export function claimJob(db: WritableDb, id: JobId, owner: string): boolean {
  const now = Date.now();
  return (
    stmt(
      db,
      `UPDATE jobs SET status = 'running', owner = ?, heartbeat_at = ?, attempts = attempts + 1, started_at = ?,
           finished_at = NULL, error = NULL, updated_at = ? WHERE id = ? AND status = 'queued'`,
    ).run(owner, now, now, now, id).changes === 1
  );
}

export function touchJobHeartbeats(db: WritableDb, owner: string): void {
  stmt(db, `UPDATE jobs SET heartbeat_at = ? WHERE owner = ? AND status = 'running'`).run(Date.now(), owner);
}

/** The statuses a job ends in (a paused job has not ended: it waits to be resumed). */
export type JobEnd = 'done' | 'done-with-failures' | 'failed' | 'cancelled';

export function markJobFinished(db: WritableDb, id: JobId, status: JobEnd, error: string | null): void {
  const now = Date.now();
  stmt(
    db,
    `UPDATE jobs SET status = ?, error = ?, owner = NULL, finished_at = ?, updated_at = ? WHERE id = ?`,
  ).run(status, error, now, now, id);
}

/** Stopped by the user, to be resumed: no owner, not finished. */
export function markJobPaused(db: WritableDb, id: JobId): void {
  stmt(db, `UPDATE jobs SET status = 'paused', owner = NULL, updated_at = ? WHERE id = ?`).run(
    Date.now(),
    id,
  );
}

export function markJobQueued(db: WritableDb, id: JobId): void {
  stmt(
    db,
    `UPDATE jobs SET status = 'queued', owner = NULL, error = NULL, finished_at = NULL, updated_at = ? WHERE id = ?`,
  ).run(Date.now(), id);
}

export function updateJobProgress(
  db: WritableDb,
  id: JobId,
  p: { done: number; total: number | null; message: string | null; state: unknown },
): void {
  stmt(db, `UPDATE jobs SET done = ?, total = ?, message = ?, state = ?, updated_at = ? WHERE id = ?`).run(
    p.done,
    p.total,
    p.message,
    p.state === undefined ? null : JSON.stringify(p.state),
    Date.now(),
    id,
  );
}

// ── scope: the images a job covers, fixed when it is queued ──────────────────────────────────────

/**
 * Writes a job's scope and marks it written. Call in the transaction that inserts the job (or, for a job
 * queued before scopes existed, before it first runs again), so a job never runs without one.
 */
export function insertJobImages(db: WritableDb, id: JobId, imageIds: Iterable<number>): void {
  const insert = stmt(db, `INSERT OR IGNORE INTO job_images (job_id, image_id) VALUES (?, ?)`);
  for (const imageId of imageIds) insert.run(id, imageId);
  stmt(db, `UPDATE jobs SET scoped = 1 WHERE id = ?`).run(id);
}

export function countJobImages(db: ReadableDb, id: JobId): number {
  return (stmt(db, `SELECT count(*) AS n FROM job_images WHERE job_id = ?`).get(id) as { n: number }).n;
}

export function insertJobIssue(db: WritableDb, id: JobId, issue: JobIssue): void {
  stmt(db, `INSERT INTO job_issues (job_id, severity, item, message, created_at) VALUES (?, ?, ?, ?, ?)`).run(
    id,
    issue.severity,
    issue.item,
    issue.message,
    Date.now(),
  );
}

export function listJobIssues(db: ReadableDb, id: JobId, limit: number): JobIssue[] {
  return stmt(db, `SELECT severity, item, message FROM job_issues WHERE job_id = ? ORDER BY id LIMIT ?`).all(
    id,
    limit,
  ) as JobIssue[];
}

export function countJobIssues(db: ReadableDb, id: JobId, severity?: JobIssue['severity']): number {
  return (
    stmt(db, `SELECT count(*) AS n FROM job_issues WHERE job_id = ? AND (? IS NULL OR severity = ?)`).get(
      id,
      severity ?? null,
      severity ?? null,
    ) as { n: number }
  ).n;
}

export function toJob(db: ReadableDb, r: JobRow, rate: number | null): Job {
  return {
    id: asJobId(r.id),
    kind: r.kind,
    title: r.title,
    status: r.status,
    done: r.done,
    total: r.total,
    message: r.message,
    error: r.error,
    issueCount: countJobIssues(db, asJobId(r.id)),
    attempts: r.attempts,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    rate,
  };
}

/** Replaces a job's parameters (checked by its kind's schema first); for settings a user may change between runs. */
export function updateJobParams(db: WritableDb, id: JobId, params: unknown): void {
  stmt(db, `UPDATE jobs SET params = ?, updated_at = ? WHERE id = ?`).run(
    JSON.stringify(params),
    Date.now(),
    id,
  );
}

/** The newest job of `kind`, optionally only one whose params name this model. */
export const getNewestJobRowOfKind = (
  db: ReadableDb,
  kind: JobKind,
  modelId: number | null,
): JobRow | undefined =>
  stmt(
    db,
    `SELECT * FROM jobs WHERE kind = ? AND (? IS NULL OR json_extract(params, '$.modelId') = ?) ORDER BY id DESC LIMIT 1`,
  ).get(kind, modelId, modelId) as JobRow | undefined;
