import { isJobFinished, isJobStopped, type Job, type JobIssue, type JobKind } from '#shared/jobs/types';
import type { JobId } from '#shared/ids';
import { getJobRow, type JobRow } from '../db/repos/jobs';
import { AppError } from '../errors';
import type { Workspace } from '../workspace';
import type { CliIo } from './command';

/**
 * What the job commands (import, mtg, embed, export) share: they start or resume one job, run it in this
 * process with progress on stderr, let Ctrl-C cancel it, and report it once it settles.
 */

/** What every job command's --help says about its exit status (jobExitCode below). */
export const JOB_EXIT_CODES =
  'Exit status: 0 done; 3 done, but some items failed (their errors: ctgi jobs --issues ID); 1 the job failed;\n' +
  '2 refused before it started (bad arguments, nothing to do); 130 paused or cancelled (Ctrl-C).';

export interface ForegroundJobOptions {
  io: CliIo;
  /** The job's progress line; without it the job runs silently. */
  progressLine?: (job: Job) => string;
  /** Least time between two progress lines while the job runs. */
  everyMs: number;
  /**
   * On a terminal, redraw one line in place this often instead of printing a line each time
   * (a newline follows when the job settles). Off: lines are printed the same everywhere.
   */
  ttyEveryMs?: number;
  /** No progress lines at all (under --json, where a script reads the output). */
  quiet?: boolean;
  /** Also print a line for the state the job settles in. */
  showFinal?: boolean;
  /**
   * Said on the first Ctrl-C, which cancels the job (it stays resumable); a second Ctrl-C exits 130 at once.
   * Without it the first Ctrl-C cancels silently.
   */
  interruptMessage?: string;
  /** What the first Ctrl-C does: cancel (default), or pause (the job says `paused`, resumable). */
  onInterrupt?: 'cancel' | 'pause';
}

/** Runs `jobId` to its end in this process (it was started or resumed here) and resolves to its final state. */
export async function runJobInForeground(
  ws: Workspace,
  jobId: JobId,
  opts: ForegroundJobOptions,
): Promise<Job> {
  const { io } = opts;
  const redraw = opts.ttyEveryMs !== undefined && process.stderr.isTTY === true;
  const everyMs = redraw ? opts.ttyEveryMs! : opts.everyMs;
  let last = 0;
  const onProgress = (j: Job): void => {
    if (opts.quiet || !opts.progressLine) return;
    if (isJobStopped(j.status) && !opts.showFinal) return;
    const now = Date.now();
    // Only the flood of running updates is thinned; a change of state is always worth a line.
    if (j.status === 'running' && now - last < everyMs) return;
    last = now;
    if (redraw) process.stderr.write(`\r\x1b[K${opts.progressLine(j)}`);
    else io.err(opts.progressLine(j));
  };

  let interrupts = 0;
  const onSigint = (): void => {
    if (++interrupts > 1) process.exit(130);
    if (opts.interruptMessage !== undefined) io.err(opts.interruptMessage);
    void (opts.onInterrupt === 'pause' ? ws.jobs.pause(jobId) : ws.jobs.cancel(jobId));
  };
  process.on('SIGINT', onSigint);
  try {
    return await new Promise<Job>((resolve) => {
      const check = (j: Job): void => {
        if (j.id !== jobId) return;
        onProgress(j);
        if (isJobStopped(j.status)) {
          off();
          resolve(j);
        }
      };
      const off = ws.bus.on('jobs:progress', check);
      check(ws.jobs.get(jobId)); // it may have settled before we subscribed
    });
  } finally {
    process.off('SIGINT', onSigint);
    if (redraw) process.stderr.write('\n');
  }
}

/** Exit code of a job command, as JOB_EXIT_CODES says. */
export function jobExitCode(job: Job): number {
  switch (job.status) {
    case 'done':
      return 0;
    case 'done-with-failures':
      return 3;
    case 'paused':
    case 'cancelled':
      return 130;
    default:
      return 1;
  }
}

/** The job's stored row, refused unless it exists and is of `kind` (`noun` names that kind in the message). */
export function requireJob(ws: Workspace, id: JobId, kind: JobKind, noun: string): JobRow {
  const row = getJobRow(ws.db, id);
  if (!row) throw new AppError('not_found', `Job ${id} does not exist. \`ctgi jobs\` lists them.`);
  if (row.kind !== kind) throw new AppError('bad_request', `Job ${id} is a ${row.kind} job, not ${noun}.`);
  return row;
}

/**
 * Re-queues a job of `kind` for this process; it continues from its stored cursor (`whenDone` refuses one
 * that already finished). The runner refuses one
 * still running in a live process and takes over one whose process died (SIGKILL, crash).
 */
export function requeueJob(ws: Workspace, id: JobId, kind: JobKind, noun: string, whenDone: string): JobId {
  const row = requireJob(ws, id, kind, noun);
  if (isJobFinished(row.status)) throw new AppError('conflict', whenDone);
  ws.jobs.resume(id);
  return id;
}

/** The first issues of a job (as fetched for the report), and where to see all of them. */
export function printFirstIssues(io: CliIo, job: Job, issues: readonly JobIssue[]): void {
  if (job.issueCount === 0) return;
  io.out(`${job.issueCount} issue${job.issueCount === 1 ? '' : 's'}:`);
  for (const i of issues) io.out(`  ${i.severity.padEnd(7)} ${i.item}: ${i.message}`);
  if (job.issueCount > issues.length) io.out(`  … all of them: ctgi jobs --issues ${job.id}`);
}
