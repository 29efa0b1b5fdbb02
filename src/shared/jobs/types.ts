// The jobs feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { JobId } from '../ids';

export const JOB_KINDS = ['import', 'embed', 'mtg', 'export', 'score', 'eval-mti', 'footage'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * `paused`: stopped by the user, resumable from its cursor. `done-with-failures`: finished, but some
 * items failed (each is one of the job's issues); the CLI exits non-zero on it. `cancelled`: stopped for good
 * (it can still be resumed).
 */
export const JOB_STATUSES = [
  'queued',
  'running',
  'paused',
  'done',
  'done-with-failures',
  'failed',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** True when a job no longer runs by itself: it finished, failed, or was paused or cancelled. */
export const isJobStopped = (status: JobStatus): boolean => status !== 'queued' && status !== 'running';

/** True when a job ran to its end (some items may have failed). */
export const isJobFinished = (status: JobStatus): boolean =>
  status === 'done' || status === 'done-with-failures';

export interface JobIssue {
  severity: 'error' | 'warning';
  item: string;
  message: string;
}

export interface Job {
  id: JobId;
  kind: JobKind;
  title: string;
  status: JobStatus;
  done: number;
  total: number | null;
  message: string | null;
  error: string | null;
  issueCount: number;
  attempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Items per second over the current attempt; null before the first item. */
  rate: number | null;
}
