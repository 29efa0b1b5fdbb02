// A real process, really killed: `ctgi import` gets SIGKILL mid-way (no cleanup, no shutdown hook),
// and `ctgi import --resume` must finish the library with every image exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const N = 3000;
const CLI = join(process.cwd(), 'bin/ctgi.mjs');

let imageRoot: string;

beforeAll(async () => {
  imageRoot = mkdtempSync(join(tmpdir(), 'ctgi-kill-imgs-'));
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const dir = join(imageRoot, `p${String(i % 100).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    const px = Buffer.alloc(16 * 32 * 3);
    for (let k = 0; k < px.length; k++) px[k] = ((k + 1) * 2654435761 * (i + 3)) >>> 24;
    jobs.push(
      sharp(px, { raw: { width: 16, height: 32, channels: 3 } })
        .jpeg()
        .toBuffer()
        .then((b) => writeFileSync(join(dir, `${i}.jpg`), b)),
    );
  }
  await Promise.all(jobs);
});

function ctgi(args: string[]): {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: string | null; out: string; err: string }>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, exit };
}

interface JobProbe {
  id: number;
  status: string;
  done: number;
  total: number | null;
}

/** Reads the job row from outside, the way a second app would, until `cond` holds. */
async function waitForJob(wsFile: string, cond: (j: JobProbe) => boolean, ms = 90_000): Promise<JobProbe> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const db = new Database(wsFile, { readonly: true, fileMustExist: true });
      try {
        const j = db
          .prepare(`SELECT id, status, done, total FROM jobs WHERE kind = 'import' ORDER BY id DESC LIMIT 1`)
          .get() as JobProbe | undefined;
        if (j && cond(j)) return j;
      } finally {
        db.close();
      }
    } catch {
      // not created yet, or mid-migration: look again
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the job never reached the expected state');
}

function libraryCounts(wsFile: string): { images: number; paths: number; shas: number; status: string } {
  const db = new Database(wsFile, { readonly: true });
  try {
    const r = db
      .prepare(
        `SELECT count(*) AS images, count(DISTINCT rel_path) AS paths, count(DISTINCT sha256) AS shas FROM images`,
      )
      .get() as {
      images: number;
      paths: number;
      shas: number;
    };
    const ds = db.prepare(`SELECT status FROM datasets`).get() as { status: string };
    return { ...r, status: ds.status };
  } finally {
    db.close();
  }
}

describe('ctgi import survives being killed', () => {
  it('SIGKILL mid-import, then --resume: every image exactly once, dataset ready', async () => {
    const ws = join(mkdtempSync(join(tmpdir(), 'ctgi-kill-ws-')), 'ws.sqlite');
    const run = ctgi(['import', '--workspace', ws, '--folder', imageRoot]);
    const mid = await waitForJob(ws, (j) => j.done > 0 && j.total !== null && j.done < j.total);
    run.child.kill('SIGKILL');
    const killed = await run.exit;
    expect(killed.signal).toBe('SIGKILL');

    const before = libraryCounts(ws);
    expect(before.images).toBeGreaterThan(0);
    expect(before.images).toBeLessThan(N);
    expect(before.status).toBe('importing');

    const resumed = await ctgi(['import', '--workspace', ws, '--resume', String(mid.id), '--json']).exit;
    expect(resumed.err).not.toMatch(/Error/);
    expect(resumed.code).toBe(0);
    const report = JSON.parse(resumed.out) as {
      job: { status: string; done: number; attempts: number };
      summary: { imported: number };
    };
    expect(report.job).toMatchObject({ status: 'done', done: N, attempts: 2 });
    expect(report.summary.imported).toBe(N);
    expect(libraryCounts(ws)).toEqual({ images: N, paths: N, shas: N, status: 'ready' });
  });

  it('Ctrl-C cancels cleanly (exit 130, resumable), and --resume finishes it', async () => {
    const ws = join(mkdtempSync(join(tmpdir(), 'ctgi-int-ws-')), 'ws.sqlite');
    const run = ctgi(['import', '--workspace', ws, '--folder', imageRoot]);
    const mid = await waitForJob(ws, (j) => j.done > 0 && j.total !== null && j.done < j.total);
    run.child.kill('SIGINT');
    const stopped = await run.exit;
    expect(stopped.code).toBe(130);
    expect(stopped.out).toMatch(new RegExp(`Import #${mid.id} cancelled`));
    expect(stopped.out).toMatch(new RegExp(`ctgi import --resume ${mid.id}`));
    expect(libraryCounts(ws).status).toBe('incomplete');

    const resumed = await ctgi(['import', '--workspace', ws, '--resume', String(mid.id)]).exit;
    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`Import #${mid.id} done: ${N} images imported`));
    expect(libraryCounts(ws)).toEqual({ images: N, paths: N, shas: N, status: 'ready' });
  });
});
