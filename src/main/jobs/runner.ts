import type { z } from 'zod';
import type { Job, JobIssue, JobKind } from '#shared/jobs/types';
import type { ImageId, JobId } from '#shared/ids';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  claimJob,
  getJobRow,
  insertJob,
  insertJobImages,
  insertJobIssue,
  listJobRowsByStatus,
  markJobFinished,
  markJobPaused,
  markJobQueued,
  toJob,
  touchJobHeartbeats,
  updateJobProgress,
  type JobEnd,
  type JobRow,
} from '../db/repos/jobs';
import type { WritableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import type { EventBus } from '../events';
import type { WorkspaceServices } from '../services';

export interface JobProgress<S> {
  done: number;
  total?: number | null;
  message?: string | null;
  /** Resume cursor: handed back as `ctx.state` when the job runs again after a crash or a cancel. */
  state?: S;
}

export interface JobContext<P, S> {
  readonly db: WritableDb;
  readonly jobId: JobId;
  readonly params: P;
  /** The last cursor saved by `progress`, from an earlier attempt; undefined on a first run. */
  readonly state: S | undefined;
  readonly signal: AbortSignal;
  /** The workspace's services (LLM runtime, key store, …); a runner made without them throws on use. */
  readonly services: WorkspaceServices;
  /**
   * Persists progress and the cursor. Call it inside the transaction that writes the batch it
   * describes, so that data and cursor survive (or vanish) together.
   */
  progress(p: JobProgress<S>): void;
  issue(i: JobIssue): void;
  /**
   * Pauses the job from inside, as the user's pause would (the job's signal aborts; the job is then
   * 'paused', resumable), with `why` as its message: e.g. a budget cap reached.
   */
  pause(why: string): void;
}

/** What a job that ran to its end reports: items that failed (each one of its issues) end it 'done-with-failures'. */
export interface JobOutcome {
  failed: number;
  /** Said as the job's error line when `failed` > 0: how many, of what, and what to do about them. */
  summary: string;
}

/** What a title may say about the job's scope: the database (as queued) and how many images it covers. */
export interface JobTitleContext {
  db: WritableDb;
  /** Images in its scope; null for a kind without one. */
  images: number | null;
  /** The caller named the images (enqueue's `chosen`). */
  chosen: boolean;
}

export interface JobDefinition<P, S> {
  kind: JobKind;
  params: z.ZodType<P>;
  /** Said once, when the job is queued (its scope is written by then). */
  title(params: P, scope: JobTitleContext): string;
  /**
   * The images the job covers, fixed when it is queued (job_images, in the transaction that inserts the
   * job): the job walks these and no image imported later. `chosen` is an explicit list from the caller
   * (enqueue's third argument), which the job narrows by its own rule.
   */
  scope?(db: WritableDb, params: P, chosen: readonly ImageId[] | undefined): readonly ImageId[];
  run(ctx: JobContext<P, S>): Promise<JobOutcome | void>;
  /** After the job ends in any way other than a shutdown or a pause: e.g. mark its dataset ready or incomplete. */
  settled?(db: WritableDb, params: P, status: JobEnd): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<any, any>;

/**
 * Why a running job was aborted: the user cancelled it, or paused it (resume on request), or the app is
 * closing (resume at the next start).
 */
type AbortReason = 'cancel' | 'pause' | 'shutdown';

interface Running {
  controller: AbortController;
  promise: Promise<void>;
  startedAt: number;
  doneAtStart: number;
}

const EMIT_INTERVAL_MS = 100;
const HEARTBEAT_MS = 5_000;
/** A running job whose owner has not said anything for this long is taken to be orphaned. */
const ORPHAN_AFTER_MS = 30_000;

export interface JobRunnerOptions {
  concurrency?: number;
  /**
   * Run every queued job of the workspace (the app and the server), or only the jobs this runner
   * enqueued or resumed (a one-shot CLI beside a running server must not take the server's work).
   */
  adoptQueued?: boolean;
  /** The workspace's services, handed to each job (the workspace passes them; a bare runner has none). */
  services?: WorkspaceServices;
}

/**
 * What the kernel says of process `pid`: gone, alive, or (no procfs) unknown beyond "the pid exists". A
 * zombie is gone: it has exited and only waits for its parent to reap it — under an init that does not
 * reap (a container's shell or `sleep` as pid 1) it waits forever, and `kill(pid, 0)` still succeeds on it.
 * A process whose start time is not `start` is gone too: its pid was given to another process (a
 * restarted container hands out the same small pids again).
 */
function ownerProcess(pid: number, start: string | undefined): 'alive' | 'gone' {
  let stat: string | null = null;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    if (HAS_PROCFS) return 'gone';
  }
  if (stat !== null) {
    // "pid (comm) state ppid … starttime …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return 'gone';
    if (start !== undefined && start !== '' && fields[19] !== start) return 'gone';
    return 'alive';
  }
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  return 'alive';
}

const HAS_PROCFS = existsSync('/proc/self/stat');

/** This process's start time in clock ticks since boot (field 22 of /proc/self/stat); '' without procfs. */
function processStart(): string {
  if (!HAS_PROCFS) return '';
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/**
 * True when the process that owns a running job is gone: on this host, its pid is dead, a zombie, or now
 * another process's; anywhere, silent too long. Owners are `host:pid:start:runner` (before migration 10,
 * `host:pid:runner`, without the start time).
 */
export function isOrphaned(
  row: Pick<JobRow, 'status' | 'owner' | 'heartbeat_at'>,
  now = Date.now(),
): boolean {
  if (row.status !== 'running') return false;
  if (row.owner === null || row.heartbeat_at === null) return true;
  const parts = row.owner.split(':');
  const pid = Number(parts[1]);
  if (parts[0] === hostname() && Number.isInteger(pid) && pid > 0) {
    if (ownerProcess(pid, parts.length >= 4 ? parts[2] : undefined) === 'gone') return true;
  }
  return now - row.heartbeat_at > ORPHAN_AFTER_MS;
}

/**
 * Persisted jobs with bounded concurrency. A job found `running` whose process died is queued again
 * and resumes from its saved cursor; nothing is restarted from zero. Several processes may open one
 * workspace (the app or `ctgi serve` beside a CLI command): a job is claimed atomically by one
 * runner, which keeps a heartbeat on it, so no job ever runs twice at once.
 */
export class JobRunner {
  private readonly defs = new Map<JobKind, AnyJobDefinition>();
  private readonly running = new Map<JobId, Running>();
  private readonly lastEmit = new Map<JobId, number>();
  /** Jobs this runner enqueued or resumed; the only ones it runs unless it adopts all queued work. */
  private readonly mine = new Set<JobId>();
  private readonly owner = `${hostname()}:${process.pid}:${processStart()}:${randomUUID().slice(0, 8)}`;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly concurrency: number;
  private readonly adoptQueued: boolean;
  private readonly services: WorkspaceServices | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: WritableDb,
    private readonly bus: EventBus,
    defs: readonly AnyJobDefinition[],
    opts: JobRunnerOptions = {},
  ) {
    for (const d of defs) this.defs.set(d.kind, d);
    this.concurrency = opts.concurrency ?? 2;
    this.adoptQueued = opts.adoptQueued ?? true;
    this.services = opts.services;
    this.heartbeat = setInterval(() => {
      if (this.running.size > 0) touchJobHeartbeats(this.db, this.owner);
    }, HEARTBEAT_MS).unref();
  }

  /** Requeues jobs whose process died under them, then starts whatever is queued. */
  recover(): void {
    for (const row of listJobRowsByStatus(this.db, ['running'])) {
      if (isOrphaned(row)) markJobQueued(this.db, row.id as JobId);
    }
    this.pump();
  }

  /** Queues a job; its scope (if its kind has one) is fixed now, from `chosen` images when given. */
  enqueue<P>(kind: JobKind, rawParams: unknown, chosen?: readonly ImageId[]): Job {
    const def = this.definition(kind);
    const params = def.params.parse(rawParams) as P;
    const id = this.db.transaction(() => {
      const scope = def.scope?.(this.db, params, chosen);
      const title = def.title(params, {
        db: this.db,
        images: scope?.length ?? null,
        chosen: chosen !== undefined,
      });
      const jobId = insertJob(this.db, { kind, title, params });
      if (scope) insertJobImages(this.db, jobId, scope);
      return jobId;
    })();
    this.mine.add(id);
    this.emit(id, true);
    this.pump();
    return this.get(id);
  }

  get(id: JobId): Job {
    const row = getJobRow(this.db, id);
    if (!row) throw notFound(`Job ${id}`);
    return this.view(row);
  }

  view(row: JobRow): Job {
    const run = this.running.get(row.id as JobId);
    let rate: number | null = null;
    if (run && row.status === 'running') {
      const seconds = (Date.now() - run.startedAt) / 1000;
      const done = row.done - run.doneAtStart;
      rate = done > 0 && seconds > 0 ? done / seconds : null;
    }
    return toJob(this.db, row, rate);
  }

  /**
   * Stops a job for good (a paused one too). Resolves once it has really stopped, so the answer never
   * says `running` for a cancelled job.
   */
  async cancel(id: JobId): Promise<Job> {
    const row = getJobRow(this.db, id);
    if (!row) throw notFound(`Job ${id}`);
    const run = this.running.get(id);
    if (run) {
      run.controller.abort('cancel' satisfies AbortReason);
      await run.promise;
    } else if (row.status === 'running' && !isOrphaned(row)) throw runningElsewhere(row);
    else if (row.status === 'queued' || row.status === 'running' || row.status === 'paused') {
      markJobFinished(this.db, id, 'cancelled', null);
      this.settle(row, 'cancelled');
      this.emit(id, true);
    }
    return this.get(id);
  }

  /** Stops a queued or running job so that `resume` continues it from its cursor; resolves once it has stopped. */
  async pause(id: JobId): Promise<Job> {
    const row = getJobRow(this.db, id);
    if (!row) throw notFound(`Job ${id}`);
    const run = this.running.get(id);
    if (run) {
      run.controller.abort('pause' satisfies AbortReason);
      await run.promise;
    } else if (row.status === 'running' && !isOrphaned(row)) throw runningElsewhere(row);
    else if (row.status === 'queued' || row.status === 'running') {
      markJobPaused(this.db, id);
      this.emit(id, true);
    } else if (row.status !== 'paused')
      throw new AppError(
        'conflict',
        `Job ${id} is ${row.status}; only a queued or running job can be paused.`,
      );
    return this.get(id);
  }

  resume(id: JobId): Job {
    const row = getJobRow(this.db, id);
    if (!row) throw notFound(`Job ${id}`);
    if (row.status === 'running' && !isOrphaned(row)) throw runningElsewhere(row);
    if (row.status === 'done' || row.status === 'done-with-failures')
      throw new AppError('conflict', `Job ${id} has already finished; there is nothing to resume.`);
    markJobQueued(this.db, id);
    this.mine.add(id);
    this.emit(id, true);
    this.pump();
    return this.get(id);
  }

  /** Resolves when no job is running or queued (the CLI waits on this; tests too). */
  idle(): Promise<void> {
    const waiting = listJobRowsByStatus(this.db, ['queued']).some(
      (r) => this.adoptQueued || this.mine.has(r.id as JobId),
    );
    if (this.running.size === 0 && !waiting) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops running jobs without cancelling them: they stay resumable and continue at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const run of this.running.values()) run.controller.abort('shutdown' satisfies AbortReason);
    await Promise.allSettled([...this.running.values()].map((r) => r.promise));
  }

  private definition(kind: JobKind): AnyJobDefinition {
    const def = this.defs.get(kind);
    if (!def) throw new AppError('bad_request', `No job kind "${kind}" is registered.`);
    return def;
  }

  private pump(): void {
    if (this.closed) return;
    while (this.running.size < this.concurrency) {
      const next = listJobRowsByStatus(this.db, ['queued']).find(
        (r) => !this.running.has(r.id as JobId) && (this.adoptQueued || this.mine.has(r.id as JobId)),
      );
      if (!next) break;
      if (!claimJob(this.db, next.id as JobId, this.owner)) continue;
      this.start(next);
    }
    if (this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private start(row: JobRow): void {
    const id = row.id as JobId;
    const def = this.definition(row.kind);
    const controller = new AbortController();
    const parsed = def.params.safeParse(JSON.parse(row.params));
    if (!parsed.success) {
      // Stored by an older version with other parameters: fail it visibly rather than crash the runner.
      markJobFinished(
        this.db,
        id,
        'failed',
        `Stored parameters are no longer valid: ${parsed.error.message}`,
      );
      this.emit(id, true);
      return;
    }
    const params: unknown = parsed.data;
    if (def.scope && row.scoped === 0) {
      // Queued before scopes existed: fixed now, before its first step under this version.
      this.db.transaction(() => insertJobImages(this.db, id, def.scope!(this.db, params, undefined)))();
    }
    let state: unknown = row.state === null ? undefined : JSON.parse(row.state);
    let done = row.done;
    let total = row.total;
    let message = row.message;
    const services = this.services;
    const ctx: JobContext<unknown, unknown> = {
      db: this.db,
      jobId: id,
      params,
      state,
      signal: controller.signal,
      get services(): WorkspaceServices {
        if (!services)
          throw new Error(`Job ${id}: this job runner was made without the workspace's services.`);
        return services;
      },
      progress: (p) => {
        done = p.done;
        if (p.total !== undefined) total = p.total;
        if (p.message !== undefined) message = p.message;
        if (p.state !== undefined) state = p.state;
        updateJobProgress(this.db, id, { done, total, message, state });
        this.emit(id, false);
      },
      issue: (i) => insertJobIssue(this.db, id, i),
      pause: (why) => {
        if (controller.signal.aborted) return;
        message = why;
        updateJobProgress(this.db, id, { done, total, message, state });
        controller.abort('pause' satisfies AbortReason);
      },
    };
    const run: Running = {
      controller,
      startedAt: Date.now(),
      doneAtStart: row.done,
      promise: Promise.resolve(),
    };
    this.running.set(id, run);
    this.emit(id, true);
    run.promise = (async () => {
      try {
        const outcome = await def.run(ctx);
        if (controller.signal.aborted) throw controller.signal.reason;
        if (outcome && outcome.failed > 0)
          this.finish(id, def, params, 'done-with-failures', outcome.summary);
        else this.finish(id, def, params, 'done', null);
      } catch (err) {
        const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason) : null;
        if (reason === 'shutdown') markJobQueued(this.db, id);
        else if (reason === 'pause') markJobPaused(this.db, id);
        else if (reason === 'cancel') this.finish(id, def, params, 'cancelled', null);
        else this.finish(id, def, params, 'failed', err instanceof Error ? err.message : String(err));
      } finally {
        this.running.delete(id);
        this.emit(id, true);
        this.pump();
      }
    })();
  }

  private finish(
    id: JobId,
    def: AnyJobDefinition,
    params: unknown,
    status: JobEnd,
    error: string | null,
  ): void {
    markJobFinished(this.db, id, status, error);
    def.settled?.(this.db, params, status);
    this.bus.emit('library:changed', { datasetId: null });
  }

  private settle(row: JobRow, status: 'cancelled'): void {
    const def = this.definition(row.kind);
    def.settled?.(this.db, def.params.parse(JSON.parse(row.params)), status);
  }

  /** Progress events are throttled per job; status changes always go out. */
  private emit(id: JobId, force: boolean): void {
    const now = Date.now();
    if (!force && now - (this.lastEmit.get(id) ?? 0) < EMIT_INTERVAL_MS) return;
    this.lastEmit.set(id, now);
    const row = getJobRow(this.db, id);
    if (row) this.bus.emit('jobs:progress', this.view(row));
  }
}

function runningElsewhere(row: JobRow): AppError {
  const [host, pid] = row.owner?.split(':') ?? [];
  if (host === hostname())
    return new AppError(
      'conflict',
      `Job ${row.id} is running in another process on this machine (pid ${pid}). Stop it there (Ctrl-C in ` +
        'a `ctgi` command pauses it), then resume it here; a process that has died hands the job over at once.',
    );
  return new AppError(
    'conflict',
    `Job ${row.id} is running on ${host ?? 'another machine'} (pid ${pid ?? '?'}). Stop it there, or wait: if that ` +
      'process has died, the job can be resumed about 30 seconds after its last heartbeat.',
  );
}

/** Throws the abort reason if the job was cancelled or the app is closing; call between batches. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
}
