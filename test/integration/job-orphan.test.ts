// A job held by a process that was killed is taken over at once, not ~30 s later when its heartbeat runs
// out. The killed `ctgi mtg` is kept a zombie (dead, not yet reaped by its parent — which is how it stays
// under an init that never reaps, as in many containers): `kill(pid, 0)` still succeeds on a zombie, so a
// pid check alone took it for alive.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertEndpoint } from '../../src/main/db/repos/llm';
import { startImport } from '../../src/main/jobs/import';
import { openWorkspace } from '../../src/main/workspace';
import type { JobId } from '#shared/ids';
import { startFakeOpenAi, type FakeOpenAi } from '../fixtures/fake-openai';
import { imageFolder, scriptedAnswer } from './mtg-helpers';

const CLI = join(process.cwd(), 'bin/ctgi.mjs');

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake.close());

function jobRow(file: string): { id: number; status: string; owner: string | null } | undefined {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT id, status, owner FROM jobs WHERE kind = 'mtg'`).get() as
      { id: number; status: string; owner: string | null } | undefined;
  } finally {
    db.close();
  }
}

/** The process state letter from /proc (R, S, Z, …), or null once the pid is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

describe('a job whose process died', () => {
  it.skipIf(!existsSync('/proc/self/stat'))(
    'is resumed at once after SIGKILL, while the dead process is still a zombie',
    async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'job-orphan-')), 'ws.sqlite');
      const setup = openWorkspace(file, { resumeJobs: false });
      await startImport(setup, { imageRoot: await imageFolder(3, 'job-orphan-imgs-') });
      await setup.jobs.idle();
      upsertEndpoint(setup.db, {
        name: 'hang',
        baseUrl: fake.url,
        model: 'fake-vl',
        role: 'both',
        temperature: 0.01,
        maxTokens: 64,
        concurrency: 4,
        requestsPerMinute: null,
        timeoutMs: 60_000,
        keyRef: { kind: 'none' },
      });
      await setup.close();

      fake.onChat = () => ({ hang: true });
      const child = spawn(process.execPath, [CLI, 'mtg', '--workspace', file, '--vqa', 'hang'], {
        stdio: 'ignore',
      });
      const pid = child.pid!;
      const end = Date.now() + 60_000;
      while (!jobRow(file)?.owner?.includes(`:${pid}:`)) {
        if (Date.now() > end) throw new Error('the child never claimed the job');
        await new Promise((r) => setTimeout(r, 50));
      }
      const id = jobRow(file)!.id as JobId;

      const ws = openWorkspace(file, { resumeJobs: false });
      try {
        child.kill('SIGKILL');
        // Spin without yielding to the event loop, so Node cannot reap the child: it stays a zombie.
        const until = Date.now() + 5000;
        while (procState(pid) !== 'Z' && Date.now() < until);
        expect(procState(pid)).toBe('Z');
        expect(jobRow(file)).toMatchObject({ status: 'running' });

        expect(() => ws.jobs.resume(id)).not.toThrow();
        fake.onChat = (body) => ({ content: scriptedAnswer(body) });
        await ws.jobs.idle();
        expect(ws.jobs.get(id)).toMatchObject({ status: 'done', done: 3, total: 3, attempts: 2 });
      } finally {
        await ws.close();
      }
    },
  );
});
