// Files that are not what they claim, fed to the import as `ctgi serve` meets them: a named pipe or
// /dev/zero as the annotation file, a 600 MB annotation file, records that name a pipe or a device, and
// annotation files in the wild (Latin-1 text, a byte-order mark, captions given as a string). Only
// regular files are read, under a size cap, off the thread that answers requests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  ftruncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningHttpServer } from '../../src/main/api/http';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { ApiResult } from '#shared/contract';
import type { Job } from '#shared/jobs/types';
import type { JobId } from '#shared/ids';

const fifoWorks = process.platform !== 'win32';

let dir: string;
let imgs: string;
let ws: Workspace;
let server: RunningHttpServer;
const writers: ChildProcess[] = [];

async function call(channel: string, arg: unknown): Promise<{ ms: number; body: ApiResult<unknown> }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${server.port}/api/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ctgi-token': server.token },
    body: JSON.stringify(arg),
  });
  const body = (await res.json()) as ApiResult<unknown>;
  return { ms: performance.now() - t0, body };
}

const errorOf = (r: { body: ApiResult<unknown> }): string =>
  r.body.ok ? '(no error)' : r.body.error.message;

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr.toString()}`);
}

/**
 * A writer that fills the pipe every `ms`, until the test ends: if the app still opened it blocking and
 * read it on the server's thread (the defect), each read returns then instead of never, so the test fails
 * on time rather than hanging the suite.
 */
function lateWriter(path: string, text: string, ms: number): void {
  const loop = `while true; do sleep ${ms / 1000}; printf '%s' '${text}' > '${path}'; done`;
  writers.push(spawn('sh', ['-c', loop], { stdio: 'ignore' }));
}

async function waitForJob(id: JobId, ms = 30_000): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const job = ws.jobs.get(id);
    if (job.status === 'done' || job.status === 'failed' || Date.now() > end) return job;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-special-'));
  imgs = join(dir, 'imgs');
  mkdirSync(imgs);
  for (const [i, name] of ['1.jpg', '2.jpg', '3.jpg'].entries()) {
    const bytes = await sharp({
      create: { width: 16, height: 32, channels: 3, background: { r: 60 * i, g: 90, b: 30 } },
    })
      .jpeg()
      .toBuffer();
    writeFileSync(join(imgs, name), bytes);
  }
  ws = openWorkspace(join(dir, 'ws.sqlite'));
  server = await startHttpServer(ws);
});

afterAll(async () => {
  for (const w of writers) w.kill('SIGKILL');
  await server?.close();
  await ws?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('annotation files that are not regular files, under ctgi serve', () => {
  it.skipIf(!fifoWorks)(
    'a named pipe is refused at once, and other requests are answered meanwhile',
    async () => {
      const fifo = join(dir, 'reid_raw.json');
      mkfifo(fifo);
      const record = JSON.stringify([{ id: 1, file_path: '1.jpg', captions: ['x'] }]);
      lateWriter(fifo, record, 4000);
      const [started, stats] = await Promise.all([
        call('import:start', { imageRoot: imgs, annotationFile: fifo }),
        // Sent just after: a server whose thread is stuck in the pipe answers neither.
        new Promise((r) => setTimeout(r, 50)).then(() => call('library:stats', {})),
      ]);
      expect(errorOf(started)).toMatch(/reid_raw\.json is a named pipe \(FIFO\), not a regular file/);
      expect(started.ms).toBeLessThan(2000);
      expect(stats.body.ok).toBe(true);
      expect(stats.ms).toBeLessThan(2000);
    },
  );

  it('/dev/zero is refused as a device, not read until memory runs out', async () => {
    const r = await call('import:start', {
      imageRoot: imgs,
      annotationFile: '/dev/zero',
      format: 'cuhk-pedes',
    });
    expect(errorOf(r)).toMatch(/\/dev\/zero is a character device, not a regular file/);
    expect(r.ms).toBeLessThan(2000);
  });

  it('a 600 MB annotation file says it is too large (a sparse file: nothing is written or read)', async () => {
    const big = join(dir, 'huge', 'reid_raw.json');
    mkdirSync(join(dir, 'huge'));
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 600 * 1024 * 1024);
    closeSync(fd);
    const r = await call('import:start', { imageRoot: imgs, annotationFile: big });
    expect(errorOf(r)).toMatch(/reid_raw\.json is too large \(600 MB; the limit is 256 MB\)/);
    expect(errorOf(r)).not.toMatch(/permission/i);
  });
});

describe('records that name a pipe or a device', () => {
  it.skipIf(!fifoWorks)('are reported one by one and the import finishes with the rest', async () => {
    const root = join(dir, 'mixed');
    mkdirSync(root);
    for (const f of ['1.jpg', '2.jpg']) writeFileSync(join(root, f), await sharp(join(imgs, f)).toBuffer());
    mkfifo(join(root, 'pipe.jpg'));
    lateWriter(join(root, 'pipe.jpg'), 'not an image', 4000);
    symlinkSync('/dev/zero', join(root, 'zero.jpg'));
    const file = join(dir, 'mixed.json');
    writeFileSync(
      file,
      JSON.stringify(
        ['1.jpg', 'pipe.jpg', 'zero.jpg', '2.jpg'].map((p, i) => ({
          id: i + 1,
          file_path: p,
          captions: ['c'],
        })),
      ),
    );
    const r = await call('import:start', { imageRoot: root, annotationFile: file, format: 'cuhk-pedes' });
    expect(r.body.ok, errorOf(r)).toBe(true);
    const job = await waitForJob((r.body as { value: { job: Job } }).value.job.id);
    expect(job.status).toBe('done');
    const issues = listJobIssues(ws.db, job.id, 100);
    expect(issues.find((i) => i.item.includes('pipe.jpg'))?.message).toMatch(
      /named pipe \(FIFO\), not a regular file/,
    );
    // A link to a device outside the folder is not even opened: nothing outside the image folder is read.
    expect(issues.find((i) => i.item.includes('zero.jpg'))?.message).toMatch(
      /leads outside the image folder/,
    );
    const n = ws.db
      .prepare('SELECT count(*) AS n FROM images WHERE dataset_id = ?')
      .get((r.body as { value: { datasetId: number } }).value.datasetId) as { n: number };
    expect(n.n).toBe(2);
  });
});

describe('annotation files in the wild', () => {
  it('Latin-1 captions keep their letters, and the job says how the file was read', async () => {
    const file = join(dir, 'latin1', 'reid_raw.json');
    mkdirSync(join(dir, 'latin1'));
    const json = JSON.stringify([
      {
        id: 1,
        file_path: '1.jpg',
        captions: ['Une femme en robe bleue, chaussures à talons, café au lait.'],
      },
      { id: 2, file_path: '2.jpg', captions: ['Ein Mann mit grüner Jacke und weißen Schuhen.'] },
    ]);
    writeFileSync(file, Buffer.from(json, 'latin1'));
    const r = await call('import:start', { imageRoot: imgs, annotationFile: file });
    expect(r.body.ok, errorOf(r)).toBe(true);
    const job = await waitForJob((r.body as { value: { job: Job } }).value.job.id);
    expect(job.status).toBe('done');
    const texts = (
      ws.db
        .prepare(
          `SELECT c.text FROM captions c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = ? ORDER BY c.id`,
        )
        .all((r.body as { value: { datasetId: number } }).value.datasetId) as { text: string }[]
    ).map((t) => t.text);
    expect(texts).toEqual([
      'Une femme en robe bleue, chaussures à talons, café au lait.',
      'Ein Mann mit grüner Jacke und weißen Schuhen.',
    ]);
    expect(texts.join('')).not.toContain('\ufffd');
    const note = listJobIssues(ws.db, job.id, 100).filter((i) => i.item === 'reid_raw.json');
    expect(note).toHaveLength(1);
    expect(note[0]).toMatchObject({ severity: 'warning' });
    expect(note[0]!.message).toMatch(
      /not valid UTF-8 \(first bad byte 0xe0 at line 1, column \d+\); it was read as Windows-1252/,
    );
  });

  it('a BOM, captions as a string, numeric-string ids and Windows paths import, noted once for the file', async () => {
    const root = join(dir, 'bent');
    mkdirSync(join(root, 'cam'), { recursive: true });
    for (const f of ['1.jpg', '2.jpg', '3.jpg'])
      writeFileSync(join(root, 'cam', f), await sharp(join(imgs, f)).toBuffer());
    const file = join(dir, 'data_captions.json');
    const records = [
      { id: '0007', img_path: 'cam\\1.jpg', captions: 'A man in a red coat.', split: 'Train', source: 'x' },
      { id: 7, img_path: './cam/2.jpg', captions: ['A man in a red coat, walking.'], split: 'train' },
      { id: '8', img_path: 'cam/3.jpg', captions: 'A woman in a skirt.', split: 'test', source: 'y' },
    ];
    writeFileSync(file, '\ufeff' + JSON.stringify(records));
    const r = await call('import:start', { imageRoot: root, annotationFile: file });
    expect(r.body.ok, errorOf(r)).toBe(true);
    const job = await waitForJob((r.body as { value: { job: Job } }).value.job.id);
    expect(job.status).toBe('done');
    const rows = ws.db
      .prepare(
        `SELECT i.rel_path, p.person_id, i.split, c.text FROM images i JOIN identities p ON p.id = i.identity_id
         JOIN captions c ON c.image_id = i.id WHERE i.dataset_id = ? ORDER BY i.rel_path`,
      )
      .all((r.body as { value: { datasetId: number } }).value.datasetId);
    expect(rows).toEqual([
      { rel_path: 'cam/1.jpg', person_id: '7', split: 'train', text: 'A man in a red coat.' },
      { rel_path: 'cam/2.jpg', person_id: '7', split: 'train', text: 'A man in a red coat, walking.' },
      { rel_path: 'cam/3.jpg', person_id: '8', split: 'test', text: 'A woman in a skirt.' },
    ]);
    const issues = listJobIssues(ws.db, job.id, 100);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.item).toBe('data_captions.json');
    const m = issues[0]!.message;
    expect(m).toMatch(/a UTF-8 byte-order mark at the start was removed/);
    expect(m).toMatch(/2 captions given as a string were read as one-caption lists/);
    expect(m).toMatch(/2 ids given as numeric strings were read as numbers/);
    expect(m).toMatch(/1 path with Windows separators \(\\\) was read with \//);
    expect(m).toMatch(/1 path starting with \.\/ was read without it/);
    expect(m).toMatch(/1 split written in another case or with spaces was read as train\/val\/test/);
    expect(m).toMatch(/fields the import does not use were ignored: "source" \(2 records\)/);
  });
});
