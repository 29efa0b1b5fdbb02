// The library's images are read only through media/: inside their dataset folder by real path, regular
// files only, and only while their bytes are the ones imported. Swapped for a symlink to /etc/passwd,
// edited, or replaced by a named pipe, an image is refused by every path — the media route (thumbnail
// and full), the MLLM payload and the encoder's reader — with a status and a message that say why.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { AppError } from '../../src/main/errors';
import { startImport } from '../../src/main/jobs/import';
import { decodeImageSource, ImageReadError } from '../../src/main/media/image';
import { findStoredImage, mllmImage } from '../../src/main/media/library';
import { mediaResponse } from '../../src/main/media/serve';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { ImageId } from '#shared/ids';

const opened: Workspace[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((w) => w.close()));
});

const crop = (r: number): Promise<Buffer> =>
  sharp({ create: { width: 16, height: 32, channels: 3, background: { r, g: 60, b: 90 } } })
    .jpeg({ quality: 90 })
    .toBuffer();

/** A folder of three crops (one reached through a symlink inside the folder), imported. */
async function library(): Promise<{ ws: Workspace; root: string; id: (rel: string) => ImageId }> {
  const root = mkdtempSync(join(tmpdir(), 'ctgi-media-'));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'a.jpg'), await crop(200));
  writeFileSync(join(root, 'b.jpg'), await crop(100));
  writeFileSync(join(root, 'sub', 'c.jpg'), await crop(30));
  symlinkSync(join(root, 'sub', 'c.jpg'), join(root, 'link-to-c.jpg')); // inside the folder: fine
  const ws = openWorkspace(':memory:', { resumeJobs: false });
  opened.push(ws);
  const { job } = await startImport(ws, { imageRoot: root });
  await ws.jobs.idle();
  expect(ws.jobs.get(job.id).status).toBe('done');
  const id = (rel: string): ImageId =>
    (ws.db.prepare('SELECT id FROM images WHERE rel_path = ?').get(rel) as { id: ImageId } | undefined)?.id ??
    (() => {
      throw new Error(`${rel} was not imported`);
    })();
  return { ws, root, id };
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(Error);
  return err!;
}

describe('reading library images', () => {
  it('serves images inside the folder, a symlink inside it included', async () => {
    const { ws, id } = await library();
    // sub/c.jpg itself is a duplicate of the link (same bytes), so the link is what was imported.
    for (const rel of ['a.jpg', 'link-to-c.jpg']) {
      expect((await mediaResponse(ws, id(rel), 'full')).status, rel).toBe(200);
      expect((await mediaResponse(ws, id(rel), 'thumb')).status, rel).toBe(200);
    }
  });

  it('an image swapped for a symlink to /etc/passwd is refused everywhere, even with its thumbnail cached', async () => {
    const { ws, root, id } = await library();
    const a = id('a.jpg');
    expect((await mediaResponse(ws, a, 'thumb')).status).toBe(200); // cached now
    rmSync(join(root, 'a.jpg'));
    symlinkSync('/etc/passwd', join(root, 'a.jpg'));
    for (const variant of ['full', 'thumb'] as const) {
      const r = await mediaResponse(ws, a, variant);
      expect(r.status, variant).toBe(403);
      expect(r.body.toString()).toMatch(
        /leads outside its dataset folder \(it is a link to a file elsewhere\); it is not read/,
      );
      expect(r.body.toString()).not.toContain('root:');
    }
    const err = await refusal(mllmImage(ws.db, a));
    expect(err).toBeInstanceOf(AppError);
    expect(err.message).toMatch(/^Image \d+: .*leads outside its dataset folder/);
    const stored = findStoredImage(ws.db, a)!.stored;
    const enc = await refusal(decodeImageSource(stored));
    expect(enc).toBeInstanceOf(ImageReadError);
    expect((enc as ImageReadError).problem).toBe('outside');
  });

  it('an image edited since import (same size, other bytes) is refused: its captions and vectors describe the old one', async () => {
    const { ws, root, id } = await library();
    const b = id('b.jpg');
    const bytes = readFileSync(join(root, 'b.jpg'));
    const edited = Buffer.from(bytes);
    edited[edited.length - 3] = (edited[edited.length - 3]! + 1) % 256; // same size, one byte changed
    writeFileSync(join(root, 'b.jpg'), edited);
    const full = await mediaResponse(ws, b, 'full');
    expect(full.status).toBe(409);
    expect(full.body.toString()).toMatch(/changed on disk since it was imported/);
    expect((await refusal(mllmImage(ws.db, b))).message).toMatch(/changed on disk since it was imported/);
    expect(
      ((await refusal(decodeImageSource(findStoredImage(ws.db, b)!.stored))) as ImageReadError).problem,
    ).toBe('changed');
    // Another size is seen without reading the bytes, before a cached thumbnail is served.
    writeFileSync(join(root, 'b.jpg'), Buffer.concat([bytes, Buffer.from('trailing')]));
    expect((await mediaResponse(ws, b, 'thumb')).status).toBe(409);
    // Restored, it is served again.
    writeFileSync(join(root, 'b.jpg'), bytes);
    expect((await mediaResponse(ws, b, 'full')).status).toBe(200);
  });

  it.skipIf(process.platform === 'win32')(
    'an image replaced by a named pipe is refused at once, not waited on',
    async () => {
      const { ws, root, id } = await library();
      const b = id('b.jpg');
      rmSync(join(root, 'b.jpg'));
      expect(spawnSync('mkfifo', [join(root, 'b.jpg')]).status).toBe(0);
      const t0 = performance.now();
      const r = await mediaResponse(ws, b, 'full');
      expect(r.status).toBe(422);
      expect(r.body.toString()).toMatch(/not a regular file/);
      expect((await refusal(mllmImage(ws.db, b))).message).toMatch(/named pipe \(FIFO\), not a regular file/);
      expect(performance.now() - t0).toBeLessThan(2000);
    },
  );
});

describe('importing symlinks that lead out of the folder', () => {
  it('a folder walk and an annotation record both report them and import the rest', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'ctgi-outside-'));
    writeFileSync(join(outside, 'x.jpg'), await crop(10));
    const root = mkdtempSync(join(tmpdir(), 'ctgi-walk-'));
    writeFileSync(join(root, 'ok.jpg'), await crop(50));
    symlinkSync(outside, join(root, 'elsewhere')); // a folder outside
    symlinkSync(join(outside, 'x.jpg'), join(root, 'x-link.jpg')); // a file outside
    const ws = openWorkspace(':memory:', { resumeJobs: false });
    opened.push(ws);
    const { job } = await startImport(ws, { imageRoot: root });
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id).status).toBe('done');
    expect(ws.db.prepare('SELECT rel_path FROM images').all()).toEqual([{ rel_path: 'ok.jpg' }]);
    const issues = listJobIssues(ws.db, job.id, 10);
    expect(issues.map((i) => i.item).sort()).toEqual(['elsewhere', 'x-link.jpg']);
    for (const i of issues) expect(i.message).toMatch(/links outside the image folder .*not followed/);

    const file = join(mkdtempSync(join(tmpdir(), 'ctgi-ann-')), 'reid_raw.json');
    writeFileSync(
      file,
      JSON.stringify(['ok.jpg', 'x-link.jpg'].map((p, i) => ({ id: i + 1, file_path: p, captions: ['c'] }))),
    );
    const ann = await startImport(ws, { imageRoot: root, annotationFile: file });
    await ws.jobs.idle();
    const annIssues = listJobIssues(ws.db, ann.job.id, 10);
    expect(annIssues).toHaveLength(1);
    expect(annIssues[0]!.item).toMatch(/x-link\.jpg/);
    expect(annIssues[0]!.message).toMatch(/leads outside the image folder; not imported/);
  });
});
