import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Job, JobKind } from '#shared/jobs/types';
import { openDatabase } from '../../src/main/db/open';
import { EventBus } from '../../src/main/events';
import { isOrphaned, JobRunner, throwIfAborted, type JobDefinition } from '../../src/main/jobs/runner';
import type { WritableDb } from '../../src/main/db/types';

/** A job that counts to `n` in batches, saving its cursor; `gate` lets a test hold it mid-way. */
interface CountState {
  next: number;
}
function countingJob(
  log: number[],
  gate: { wait: Promise<void> | null },
): JobDefinition<{ n: number }, CountState> {
  return {
    kind: 'import' as JobKind,
    params: z.object({ n: z.number().int() }),
    title: (p) => `count to ${p.n}`,
    async run(ctx) {
      for (let i = ctx.state?.next ?? 0; i < ctx.params.n; i++) {
        if (i === 3 && gate.wait) await gate.wait;
        throwIfAborted(ctx.signal);
        ctx.db.transaction(() => {
          log.push(i);
          ctx.progress({ done: i + 1, total: ctx.params.n, state: { next: i + 1 } });
        })();
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

function setup(db: WritableDb, log: number[], gate: { wait: Promise<void> | null }) {
  const bus = new EventBus();
  const events: Job[] = [];
  bus.on('jobs:progress', (j) => events.push(j));
  const runner = new JobRunner(db, bus, [countingJob(log, gate)], { concurrency: 1 });
  return { runner, events };
}

describe('job runner', () => {
  it('runs a queued job to done, persisting progress and emitting status changes', async () => {
    const { db } = openDatabase(':memory:');
    const log: number[] = [];
    const { runner, events } = setup(db, log, { wait: null });
    const job = runner.enqueue('import', { n: 10 });
    await runner.idle();
    expect(log).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(runner.get(job.id)).toMatchObject({ status: 'done', done: 10, total: 10, attempts: 1 });
    expect(events.at(-1)).toMatchObject({ id: job.id, status: 'done' });
  });

  it('rejects bad parameters before anything is stored', () => {
    const { db } = openDatabase(':memory:');
    const { runner } = setup(db, [], { wait: null });
    expect(() => runner.enqueue('import', { n: 'ten' })).toThrow();
    expect(db.prepare('SELECT count(*) AS n FROM jobs').get()).toEqual({ n: 0 });
  });

  it('resumes from the saved cursor after a shutdown, repeating and skipping nothing', async () => {
    const { db } = openDatabase(':memory:');
    const log: number[] = [];
    let release!: () => void;
    const gate = { wait: new Promise<void>((r) => (release = r)) as Promise<void> | null };
    const first = setup(db, log, gate);
    const job = first.runner.enqueue('import', { n: 8 });
    await until(() => log.length === 3);
    const closing = first.runner.close();
    release();
    await closing;
    expect(first.runner.get(job.id).status).toBe('queued');

    // Next start: a fresh runner on the same database recovers the job and finishes it.
    gate.wait = null;
    const second = setup(db, log, gate);
    second.runner.recover();
    await second.runner.idle();
    expect(log).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(second.runner.get(job.id)).toMatchObject({ status: 'done', done: 8, attempts: 2 });
  });

  it('treats a job left "running" by a crash as interrupted and resumes it at start', async () => {
    const { db } = openDatabase(':memory:');
    const log: number[] = [];
    const { runner } = setup(db, log, { wait: null });
    // Owned by a process that no longer exists on this host.
    const id = db
      .prepare(
        `INSERT INTO jobs (kind, title, params, status, done, total, state, attempts, owner, heartbeat_at, created_at, updated_at)
                VALUES ('import', 'count', '{"n":5}', 'running', 2, 5, '{"next":2}', 1, ?, ?, 0, 0)`,
      )
      .run(`${hostname()}:2147483646:dead`, Date.now()).lastInsertRowid;
    runner.recover();
    await runner.idle();
    expect(log).toEqual([2, 3, 4]);
    expect(runner.get(Number(id) as never)).toMatchObject({ status: 'done', done: 5, attempts: 2 });
  });

  it('cancels a running job, keeps its cursor, and resumes it on request', async () => {
    const { db } = openDatabase(':memory:');
    const log: number[] = [];
    let release!: () => void;
    const gate = { wait: new Promise<void>((r) => (release = r)) as Promise<void> | null };
    const { runner } = setup(db, log, gate);
    const job = runner.enqueue('import', { n: 6 });
    await until(() => log.length === 3);
    const cancelling = runner.cancel(job.id);
    release();
    expect(await cancelling).toMatchObject({ status: 'cancelled', done: 3 });
    await runner.idle();
    gate.wait = null;
    runner.resume(job.id);
    await runner.idle();
    expect(log).toEqual([0, 1, 2, 3, 4, 5]);
    expect(runner.get(job.id).status).toBe('done');
  });

  it('pauses a running job without settling it, cancels the paused job, and resumes it from its cursor', async () => {
    const { db } = openDatabase(':memory:');
    const log: number[] = [];
    let release!: () => void;
    const gate = { wait: new Promise<void>((r) => (release = r)) as Promise<void> | null };
    const bus = new EventBus();
    const settled: string[] = [];
    const def = {
      ...countingJob(log, gate),
      settled: (_db: WritableDb, _p: unknown, status: string) => settled.push(status),
    };
    const runner = new JobRunner(db, bus, [def], { concurrency: 1 });
    const job = runner.enqueue('import', { n: 6 });
    await until(() => log.length === 3);
    const pausing = runner.pause(job.id);
    release();
    expect(await pausing).toMatchObject({ status: 'paused', done: 3 });
    expect(settled).toEqual([]); // a pause is not an end: an import's dataset stays as it is
    await runner.idle(); // a paused job is not waited for
    await expect(runner.pause(job.id)).resolves.toMatchObject({ status: 'paused' });

    expect(await runner.cancel(job.id)).toMatchObject({ status: 'cancelled', done: 3 });
    expect(settled).toEqual(['cancelled']);
    await expect(runner.pause(job.id)).rejects.toThrow(/is cancelled; only a queued or running job/);

    gate.wait = null;
    runner.resume(job.id);
    await runner.idle();
    expect(log).toEqual([0, 1, 2, 3, 4, 5]);
    expect(runner.get(job.id)).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('ends a job whose items failed as done-with-failures, with its summary, and does not resume it', async () => {
    const { db } = openDatabase(':memory:');
    const partly: JobDefinition<object, never> = {
      kind: 'import' as JobKind,
      params: z.object({}),
      title: () => 'partly',
      run: async (ctx) => {
        ctx.progress({ done: 5, total: 5 });
        return { failed: 2, summary: '2 of 5 items failed' };
      },
    };
    const runner = new JobRunner(db, new EventBus(), [partly]);
    const job = runner.enqueue('import', {});
    await runner.idle();
    expect(runner.get(job.id)).toMatchObject({
      status: 'done-with-failures',
      done: 5,
      error: '2 of 5 items failed',
    });
    expect(() => runner.resume(job.id)).toThrow(/already finished/);
  });

  it('records a failure with its message and refuses to resume a finished job', async () => {
    const { db } = openDatabase(':memory:');
    const bus = new EventBus();
    const failing: JobDefinition<object, never> = {
      kind: 'import' as JobKind,
      params: z.object({}),
      title: () => 'fails',
      run: async () => {
        throw new Error('disk full: free 2 GB and resume');
      },
    };
    const runner = new JobRunner(db, bus, [failing]);
    const job = runner.enqueue('import', {});
    await runner.idle();
    expect(runner.get(job.id)).toMatchObject({ status: 'failed', error: 'disk full: free 2 GB and resume' });
    const ok = new JobRunner(db, bus, [countingJob([], { wait: null })]);
    const done = ok.enqueue('import', { n: 1 });
    await ok.idle();
    expect(() => ok.resume(done.id)).toThrow(/already finished/);
  });

  it('leaves a job running in another live process alone, and refuses to resume or cancel it', async () => {
    const { db } = openDatabase(':memory:');
    const log: number[] = [];
    const { runner } = setup(db, log, { wait: null });
    const id = db
      .prepare(
        `INSERT INTO jobs (kind, title, params, status, done, total, state, attempts, owner, heartbeat_at, created_at, updated_at)
                VALUES ('import', 'count', '{"n":5}', 'running', 2, 5, '{"next":2}', 1, ?, ?, 0, 0)`,
      )
      .run(`${hostname()}:${process.pid}:other`, Date.now()).lastInsertRowid;
    runner.recover();
    await runner.idle();
    expect(log).toEqual([]);
    expect(() => runner.resume(Number(id) as never)).toThrow(/running in another process/);
    await expect(runner.cancel(Number(id) as never)).rejects.toThrow(/running in another process/);
  });

  it.skipIf(!existsSync('/proc/self/stat'))(
    'takes a job over at once when its pid now belongs to another process (a reused pid)',
    () => {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
      const row = (owner: string) => ({ status: 'running' as const, owner, heartbeat_at: Date.now() });
      // This process, by pid and start time: alive.
      expect(isOrphaned(row(`${hostname()}:${process.pid}:${start}:abcd1234`))).toBe(false);
      // The same pid, started at another time: the owner died and the pid was handed out again.
      expect(isOrphaned(row(`${hostname()}:${process.pid}:${Number(start) - 1}:abcd1234`))).toBe(true);
      // Owners written before the start time was recorded are judged by the pid alone.
      expect(isOrphaned(row(`${hostname()}:${process.pid}:abcd1234`))).toBe(false);
      expect(isOrphaned(row(`${hostname()}:2147483646:abcd1234`))).toBe(true);
    },
  );

  it('a runner that does not adopt queued work runs only the jobs it started', async () => {
    const { db } = openDatabase(':memory:');
    const log: number[] = [];
    const bus = new EventBus();
    const server = new JobRunner(db, bus, [countingJob(log, { wait: null })], { adoptQueued: true });
    const cli = new JobRunner(db, bus, [countingJob(log, { wait: null })], { adoptQueued: false });
    db.prepare(
      `INSERT INTO jobs (kind, title, params, status, created_at, updated_at)
                VALUES ('import', 'left queued', '{"n":2}', 'queued', 0, 0)`,
    ).run();
    const own = cli.enqueue('import', { n: 3 });
    await cli.idle();
    expect(cli.get(own.id).status).toBe('done');
    expect(log).toEqual([0, 1, 2]);
    server.recover();
    await server.idle();
    expect(log).toEqual([0, 1, 2, 0, 1]);
    await Promise.all([cli.close(), server.close()]);
  });
});
