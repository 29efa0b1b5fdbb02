import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '#shared/jobs/types';
import type { DatasetId, JobId } from '#shared/ids';
import { createHandlers } from '../../src/main/api/handlers';
import { getDatasetRow } from '../../src/main/db/repos/datasets';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { AppError } from '../../src/main/errors';
import { getImportSummary, startImport } from '../../src/main/jobs/import';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

// Real files, real sharp decodes, a thousand images in the resume tests: slow on a busy 2-core box.
vi.setConfig({ testTimeout: 60_000 });

// ---------------------------------------------------------------- fixtures: real files on disk

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ctgi-import-'));

/** A crop with noisy pixels (so a cut-off JPEG loses scan data, not just its header); `seed` makes it unique. */
async function crop(format: 'jpeg' | 'png' | 'webp', seed: number, width = 32, height = 64): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < px.length; i++) px[i] = ((i + 1) * 2654435761 * (seed + 7)) >>> 24;
  const img = sharp(px, { raw: { width, height, channels: 3 } });
  return (
    format === 'jpeg' ? img.jpeg({ quality: 90 }) : format === 'png' ? img.png() : img.webp()
  ).toBuffer();
}

function write(root: string, rel: string, data: Buffer | string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), data);
}

function crc32(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A valid-looking PNG of a few hundred bytes whose header claims 100 000 × 100 000 pixels. */
function pngBomb(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100_000, 0);
  ihdr.writeUInt32BE(100_000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(4096))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 24-bit uncompressed BMP, the variant VIPeR crops in CUHK-PEDES use. */
function bmp(width: number, height: number, seed: number): Buffer {
  const stride = Math.floor((24 * width + 31) / 32) * 4;
  const buf = Buffer.alloc(54 + stride * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  for (let i = 54; i < buf.length; i++) buf[i] = (i * seed) & 0xff;
  return buf;
}

// ---------------------------------------------------------------- workspace helpers

const open: Workspace[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((ws) => ws.close()));
});
function workspace(file = join(tempDir(), 'ws.sqlite')): Workspace {
  const ws = openWorkspace(file);
  open.push(ws);
  return ws;
}

async function importAndWait(
  ws: Workspace,
  arg: Parameters<typeof startImport>[1],
): Promise<{ job: Job; datasetId: DatasetId }> {
  const { job, datasetId } = await startImport(ws, arg);
  await ws.jobs.idle();
  return { job: ws.jobs.get(job.id), datasetId };
}

const issuesOf = (ws: Workspace, id: JobId) => listJobIssues(ws.db, id, 1000);
const issueFor = (ws: Workspace, id: JobId, item: string) =>
  issuesOf(ws, id).filter((i) => i.item.includes(item));
const count = (ws: Workspace, sql: string, ...params: unknown[]): number =>
  (ws.db.prepare(sql).get(...params) as { n: number }).n;

const until = async (cond: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
};

const runningAsRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------- folder mode

describe('import: folder of images', () => {
  it('imports every readable image once, reporting each bad file by path and carrying on', async () => {
    const root = tempDir();
    const good = await crop('jpeg', 1);
    write(root, 'a/0001.jpg', good);
    write(root, 'a/0002.PNG', await crop('png', 2));
    write(root, 'b/c/0003.webp', await crop('webp', 3));
    write(root, 'b/0004.JPEG', await crop('jpeg', 4));
    write(root, 'viper/cam_a/001_45.bmp', bmp(24, 48, 5));
    write(root, 'b/copy-of-0001.jpg', good); // same bytes as a/0001.jpg
    write(root, 'notes.txt', 'not an image, not even listed');
    write(root, 'bad/not-an-image.jpg', 'this is text with a .jpg name');
    const jpeg = await crop('jpeg', 9, 64, 128);
    write(root, 'bad/truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    const png = Buffer.from(await crop('png', 10, 64, 128));
    png.fill(0x55, 100, 160); // scribble over compressed pixel data: header intact, decode fails
    write(root, 'bad/corrupt.png', png);
    write(root, 'bad/bomb.png', pngBomb());
    write(root, 'bad/empty.jpg', Buffer.alloc(0));
    write(root, 'bad/short.bmp', bmp(24, 48, 6).subarray(0, 200));
    symlinkSync(join(root, 'a'), join(root, 'a/loop')); // a/loop → a: a loop
    symlinkSync('self.jpg', join(root, 'self.jpg')); // resolves to itself

    const ws = workspace();
    const { job, datasetId } = await importAndWait(ws, { imageRoot: root });

    expect(job).toMatchObject({ status: 'done', total: 12, done: 12 });
    expect(getDatasetRow(ws.db, datasetId)).toMatchObject({ status: 'ready', format: 'folder' });
    const paths = (
      ws.db.prepare('SELECT rel_path FROM images ORDER BY rel_path').all() as { rel_path: string }[]
    ).map((r) => r.rel_path);
    expect(paths).toEqual([
      'a/0001.jpg',
      'a/0002.PNG',
      'b/0004.JPEG',
      'b/c/0003.webp',
      'viper/cam_a/001_45.bmp',
    ]);
    const bmpRow = ws.db.prepare(`SELECT * FROM images WHERE format = 'bmp'`).get();
    expect(bmpRow).toMatchObject({ width: 24, height: 48, camera: 'cam_a', identity_id: null, split: null });
    expect(getImportSummary(ws.db, job.id)).toMatchObject({
      imported: 5,
      duplicates: 1,
      failed: 6,
      captions: 0,
    });

    expect(issueFor(ws, job.id, 'copy-of-0001')[0]).toMatchObject({ severity: 'warning' });
    expect(issueFor(ws, job.id, 'copy-of-0001')[0]?.message).toMatch(/same bytes as a\/0001\.jpg/);
    expect(issueFor(ws, job.id, 'not-an-image')[0]?.message).toMatch(/not a readable image/);
    expect(issueFor(ws, job.id, 'truncated.jpg')[0]?.message).toMatch(
      /truncated jpeg|corrupt or truncated jpeg/i,
    );
    expect(issueFor(ws, job.id, 'corrupt.png')[0]?.message).toMatch(/corrupt or truncated png/);
    expect(issueFor(ws, job.id, 'bomb.png')[0]?.message).toMatch(
      /100000×100000 .*over the 40-megapixel limit/,
    );
    expect(issueFor(ws, job.id, 'empty.jpg')[0]?.message).toMatch(/empty file/);
    expect(issueFor(ws, job.id, 'short.bmp')[0]?.message).toMatch(/corrupt BMP: truncated/);
    expect(issueFor(ws, job.id, 'a/loop')[0]?.message).toMatch(/symlink loop: it points back to a/);
    expect(issueFor(ws, job.id, 'self.jpg')[0]?.message).toMatch(/symlink loop/);
    expect(issuesOf(ws, job.id)).toHaveLength(9);
  });

  // Skipped as root: chmod 000 does not stop root from reading, so nothing would be unreadable.
  it.skipIf(runningAsRoot)(
    'reports a folder and a file it may not read, and imports the rest (not as root)',
    async () => {
      const root = tempDir();
      write(root, 'ok.jpg', await crop('jpeg', 1));
      write(root, 'locked.jpg', await crop('jpeg', 2));
      write(root, 'closed/inner.jpg', await crop('jpeg', 3));
      chmodSync(join(root, 'locked.jpg'), 0o000);
      chmodSync(join(root, 'closed'), 0o000);
      try {
        const ws = workspace();
        const { job } = await importAndWait(ws, { imageRoot: root });
        expect(job.status).toBe('done');
        expect(count(ws, 'SELECT count(*) AS n FROM images')).toBe(1);
        expect(issueFor(ws, job.id, 'locked.jpg')[0]?.message).toMatch(/cannot be read \(EACCES\)/);
        expect(issueFor(ws, job.id, 'closed')[0]?.message).toMatch(/folder cannot be read/);
      } finally {
        chmodSync(join(root, 'closed'), 0o755);
      }
    },
  );

  // Root reads through chmod 000, so the case above is skipped there; this one needs no permissions:
  // an annotation record naming a folder is a path that exists but cannot be read as a file.
  it('reports a path that exists but is not a readable file (works as root too)', async () => {
    const root = tempDir();
    write(root, 'imgs/1.jpg', await crop('jpeg', 1));
    mkdirSync(join(root, 'imgs/folder.jpg'));
    const file = join(root, 'data_captions.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 1, img_path: '1.jpg', captions: ['a man'], split: 'train' },
        { id: 2, img_path: 'folder.jpg', captions: ['a woman'], split: 'train' },
      ]),
    );
    const ws = workspace();
    const { job } = await importAndWait(ws, { imageRoot: join(root, 'imgs'), annotationFile: file });
    expect(count(ws, 'SELECT count(*) AS n FROM images')).toBe(1);
    expect(issueFor(ws, job.id, 'folder.jpg')[0]).toMatchObject({
      severity: 'error',
      message: 'is a folder, not an image file.',
    });
  });
});

// ---------------------------------------------------------------- annotation formats

interface Rec {
  id: number;
  path: string;
  split?: string;
  captions: string[];
}

async function annotated(
  fileName: string,
  field: 'file_path' | 'img_path',
  recs: Rec[],
  extra: unknown[] = [],
): Promise<{ root: string; imgs: string; file: string }> {
  const root = tempDir();
  const imgs = join(root, 'imgs');
  let seed = 100;
  for (const r of recs) write(imgs, r.path, await crop(r.path.endsWith('.png') ? 'png' : 'jpeg', seed++));
  const records = recs.map((r) => ({
    id: r.id,
    [field]: r.path,
    captions: r.captions,
    ...(field === 'file_path' ? { processed_tokens: r.captions.map((c) => c.split(' ')) } : {}),
    ...(r.split === undefined ? {} : { split: r.split }),
  }));
  const file = join(root, fileName);
  writeFileSync(file, JSON.stringify([...records, ...extra]));
  return { root, imgs, file };
}

const libraryRows = (ws: Workspace) =>
  ws.db
    .prepare(
      `SELECT i.rel_path, p.person_id, i.split, i.camera,
         (SELECT group_concat(c.text, ' | ') FROM captions c WHERE c.image_id = i.id) AS captions,
         (SELECT group_concat(DISTINCT c.source || '/' || c.status) FROM captions c WHERE c.image_id = i.id) AS kinds
       FROM images i LEFT JOIN identities p ON p.id = i.identity_id ORDER BY i.rel_path`,
    )
    .all();

describe('import: TBPS annotation files', () => {
  it('CUHK-PEDES reid_raw.json: identities, splits, human captions accepted as ground truth', async () => {
    const { imgs, file } = await annotated('reid_raw.json', 'file_path', [
      {
        id: 1,
        path: 'CUHK01/0363004.png',
        split: 'train',
        captions: ['A man in a red coat.', 'He wears jeans.'],
      },
      { id: 1, path: 'CUHK01/0363003.png', split: 'train', captions: ['A man walking.'] },
      { id: 12, path: 'Market/0012_c3s1_001051_00.jpg', split: 'val', captions: ['A woman with a bag.'] },
      { id: 40, path: 'test_query/p40_s1.jpg', split: 'test', captions: ['A child.', 'Small.'] },
    ]);
    const ws = workspace();
    const { job, datasetId } = await importAndWait(ws, { imageRoot: imgs, annotationFile: file });
    expect(job.status).toBe('done');
    expect(getDatasetRow(ws.db, datasetId)).toMatchObject({ format: 'cuhk-pedes', status: 'ready' });
    expect(libraryRows(ws)).toEqual([
      {
        rel_path: 'CUHK01/0363003.png',
        person_id: '1',
        split: 'train',
        camera: null,
        captions: 'A man walking.',
        kinds: 'human/accepted',
      },
      {
        rel_path: 'CUHK01/0363004.png',
        person_id: '1',
        split: 'train',
        camera: null,
        captions: 'A man in a red coat. | He wears jeans.',
        kinds: 'human/accepted',
      },
      {
        rel_path: 'Market/0012_c3s1_001051_00.jpg',
        person_id: '12',
        split: 'val',
        camera: 'c3',
        captions: 'A woman with a bag.',
        kinds: 'human/accepted',
      },
      {
        rel_path: 'test_query/p40_s1.jpg',
        person_id: '40',
        split: 'test',
        camera: null,
        captions: 'A child. | Small.',
        kinds: 'human/accepted',
      },
    ]);
    expect(count(ws, 'SELECT count(*) AS n FROM identities')).toBe(3);
    expect(issuesOf(ws, job.id)).toEqual([]);
  });

  it('CUHK-PEDES caption_all.json has no split: images get none', async () => {
    const { imgs, file } = await annotated('caption_all.json', 'file_path', [
      { id: 5, path: 'CUHK03/5_1.png', captions: ['A man.'] },
      { id: 6, path: 'CUHK03/6_1.png', captions: ['A woman.'] },
    ]);
    const ws = workspace();
    const { job, datasetId } = await importAndWait(ws, { imageRoot: imgs, annotationFile: file });
    expect(job.status).toBe('done');
    expect(getDatasetRow(ws.db, datasetId)?.format).toBe('cuhk-pedes');
    expect(libraryRows(ws).map((r) => (r as { split: unknown; person_id: unknown }).split)).toEqual([
      null,
      null,
    ]);
    expect(
      count(ws, `SELECT count(*) AS n FROM captions WHERE source = 'human' AND status = 'accepted'`),
    ).toBe(2);
  });

  it.each(['ICFG-PEDES.json', 'ICFG_PEDES.json'])(
    'ICFG-PEDES as %s: train/test splits and MSMT17 cameras',
    async (name) => {
      const { imgs, file } = await annotated(name, 'file_path', [
        {
          id: 27,
          path: 'test/0027/0027_010_05_0303afternoon_1591_0.jpg',
          split: 'test',
          captions: ['A man in black.'],
        },
        {
          id: 3,
          path: 'train/0003/0003_000_01_0303morning_0015_0.jpg',
          split: 'train',
          captions: ['A woman in white.'],
        },
      ]);
      const ws = workspace();
      const { job, datasetId } = await importAndWait(ws, { imageRoot: imgs, annotationFile: file });
      expect(job.status).toBe('done');
      expect(getDatasetRow(ws.db, datasetId)?.format).toBe('icfg-pedes');
      expect(libraryRows(ws)).toMatchObject([
        { person_id: '27', split: 'test', camera: '05', captions: 'A man in black.' },
        { person_id: '3', split: 'train', camera: '01', captions: 'A woman in white.' },
      ]);
    },
  );

  it('RSTPReid data_captions.json: img_path, two captions each, camera from the name', async () => {
    const { imgs, file } = await annotated('data_captions.json', 'img_path', [
      { id: 3903, path: '3903_c14_0007.jpg', split: 'train', captions: ['One.', 'Two.'] },
      { id: 3903, path: '3903_c4_0008.jpg', split: 'train', captions: ['Three.', 'Four.'] },
      { id: 11, path: '0011_c7_0001.jpg', split: 'val', captions: ['Five.', 'Six.'] },
    ]);
    const ws = workspace();
    const { job, datasetId } = await importAndWait(ws, { imageRoot: imgs, annotationFile: file });
    expect(job.status).toBe('done');
    expect(getDatasetRow(ws.db, datasetId)?.format).toBe('rstpreid');
    expect(libraryRows(ws)).toMatchObject([
      { rel_path: '0011_c7_0001.jpg', person_id: '11', split: 'val', camera: 'c7', captions: 'Five. | Six.' },
      { rel_path: '3903_c14_0007.jpg', person_id: '3903', split: 'train', camera: 'c14' },
      { rel_path: '3903_c4_0008.jpg', person_id: '3903', split: 'train', camera: 'c4' },
    ]);
    expect(count(ws, 'SELECT count(*) AS n FROM identities')).toBe(2);
    expect(count(ws, 'SELECT count(*) AS n FROM captions')).toBe(6);
  });

  it('reports bad records one by one and imports the good ones', async () => {
    const { root, imgs, file } = await annotated(
      'data_captions.json',
      'img_path',
      [
        { id: 1, path: '1.jpg', split: 'train', captions: ['Good one.'] },
        { id: 2, path: '2.jpg', split: 'train', captions: ['Good two.'] },
      ],
      [
        { id: 3, img_path: 'missing.jpg', captions: ['Nobody.'], split: 'train' },
        { id: 4, captions: ['No path.'], split: 'train' },
        { id: 5, img_path: '5.jpg', captions: 42, split: 'train' },
        { id: 6, img_path: '6.jpg', captions: ['Bad split.'], split: 'holdout' },
        { id: 7, img_path: '../../etc/passwd', captions: ['Escapes.'], split: 'train' },
        { id: 2, img_path: '2.jpg', captions: ['Repeated record.'], split: 'train' },
        { id: 8, img_path: 'same-as-1.jpg', captions: ['Another view of the same file.'], split: 'train' },
        'not even an object',
      ],
    );
    writeFileSync(join(imgs, 'same-as-1.jpg'), readFileSync(join(imgs, '1.jpg')));
    const ws = workspace();
    const { job } = await importAndWait(ws, { imageRoot: imgs, annotationFile: file });
    expect(job.status).toBe('done');
    expect(libraryRows(ws)).toMatchObject([
      { rel_path: '1.jpg', person_id: '1', captions: 'Good one. | Another view of the same file.' },
      { rel_path: '2.jpg', person_id: '2', captions: 'Good two.' },
    ]);
    const issues = issuesOf(ws, job.id);
    const msg = (item: string): string => issues.find((i) => i.item.startsWith(item))?.message ?? '(none)';
    expect(msg('record 3 (missing.jpg)')).toBe('file not found.');
    expect(msg('record 4')).toMatch(/"img_path" should be a relative image path, but is missing/);
    expect(msg('record 5 (5.jpg)')).toMatch(/"captions" should be a list of strings/);
    expect(msg('record 6 (6.jpg)')).toMatch(/"split" should be one of train, val, test, but is "holdout"/);
    expect(msg('record 7')).toMatch(/leads outside the image folder/);
    expect(msg('record 8 (2.jpg)')).toMatch(/repeats the image of record 2/);
    expect(msg('record 9 (same-as-1.jpg)')).toMatch(/same bytes as 1\.jpg.*1 caption\(s\) were added/);
    expect(msg('record 10')).toMatch(/is "not even an object"/);
    expect(issues).toHaveLength(8);
    expect(root).toBeTruthy();
  });
});

// ---------------------------------------------------------------- up-front validation

describe('import: inputs refused before anything is written', () => {
  async function refused(ws: Workspace, arg: Parameters<typeof startImport>[1]): Promise<string> {
    let error: unknown;
    try {
      await startImport(ws, arg);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(
      count(ws, 'SELECT count(*) AS n FROM datasets') + count(ws, 'SELECT count(*) AS n FROM jobs'),
    ).toBe(0);
    return (error as AppError).message;
  }

  it('a missing folder, a file given as the folder, a missing annotation file', async () => {
    const ws = workspace();
    const dir = tempDir();
    writeFileSync(join(dir, 'x.json'), '[]');
    expect(await refused(ws, { imageRoot: join(dir, 'nope') })).toMatch(/Image folder .*nope does not exist/);
    expect(await refused(ws, { imageRoot: join(dir, 'x.json') })).toMatch(/is a file, not a folder/);
    expect(await refused(ws, { imageRoot: dir, annotationFile: join(dir, 'reid_raw.json') })).toMatch(
      /Annotation file .*reid_raw\.json does not exist/,
    );
    expect(await refused(ws, { imageRoot: dir, format: 'rstpreid' })).toMatch(
      /rstpreid needs its annotation file/,
    );
  });

  it('malformed JSON, with the line and column', async () => {
    const ws = workspace();
    const dir = tempDir();
    writeFileSync(join(dir, 'reid_raw.json'), '[\n  {"id": 1,\n   "file_path": "a.jpg",}\n]');
    expect(await refused(ws, { imageRoot: dir, annotationFile: join(dir, 'reid_raw.json') })).toMatch(
      /reid_raw\.json is not valid JSON at line 3, column 25/,
    );
    writeFileSync(join(dir, 'cut.json'), '[{"id": 1, "file_path": "a');
    expect(await refused(ws, { imageRoot: dir, annotationFile: join(dir, 'cut.json') })).toMatch(
      /not valid JSON/,
    );
  });

  it('an RSTPReid file given as CUHK-PEDES names the fields expected and found, and the likely format', async () => {
    const { imgs, file } = await annotated('data_captions.json', 'img_path', [
      { id: 1, path: '1.jpg', split: 'train', captions: ['x'] },
    ]);
    const ws = workspace();
    const message = await refused(ws, { imageRoot: imgs, annotationFile: file, format: 'cuhk-pedes' });
    expect(message).toMatch(/cannot be read as CUHK-PEDES/);
    expect(message).toMatch(
      /need the fields id, file_path, captions, but have id, img_path, captions, split/,
    );
    expect(message).toMatch(/looks like RSTPReid/);
  });

  it('records without captions / file_path / img_path, under an unknown file name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'labels.json'), JSON.stringify([{ pid: 1, image: 'a.jpg', text: 'x' }]));
    writeFileSync(join(dir, 'reid_raw.json'), JSON.stringify([{ id: 1, path: 'a.jpg', caption: 'x' }]));
    writeFileSync(join(dir, 'obj.json'), JSON.stringify({ annotations: [] }));
    const ws = workspace();
    expect(await refused(ws, { imageRoot: dir, annotationFile: join(dir, 'labels.json') })).toMatch(
      /cannot be read as any known format: .*have pid, image, text/,
    );
    expect(await refused(ws, { imageRoot: dir, annotationFile: join(dir, 'reid_raw.json') })).toMatch(
      /as CUHK-PEDES .*need the fields id, file_path, captions, but have id, path, caption/,
    );
    expect(await refused(ws, { imageRoot: dir, annotationFile: join(dir, 'obj.json') })).toMatch(
      /should hold a JSON list of records.*an object with keys annotations/,
    );
  });

  it('an image folder the paths are not relative to, pointing at the one they are', async () => {
    const { root, file } = await annotated('reid_raw.json', 'file_path', [
      { id: 1, path: 'CUHK01/1.png', split: 'train', captions: ['x'] },
    ]);
    const ws = workspace();
    expect(await refused(ws, { imageRoot: root, annotationFile: file })).toMatch(
      /None of the first 1 images named in reid_raw\.json exists under .*They are under .*imgs: use that/,
    );
  });
});

// ---------------------------------------------------------------- crash, cancel, resume, delete

/** `n` distinct crops plus one unreadable file and one duplicate, so issues are counted too. */
async function folderOf(n: number): Promise<string> {
  const root = tempDir();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    writes.push(
      crop('jpeg', i, 16, 32).then((b) => write(root, `p${String(i % 50).padStart(3, '0')}/${i}.jpg`, b)),
    );
  }
  await Promise.all(writes);
  write(root, 'zz/broken.jpg', 'not a jpeg');
  write(root, 'zz/dup.jpg', readFileSync(join(root, 'p000/0.jpg')));
  return root;
}

function expectExactlyOnce(ws: Workspace, jobId: JobId, n: number): void {
  expect(count(ws, 'SELECT count(*) AS n FROM images')).toBe(n);
  expect(count(ws, 'SELECT count(DISTINCT sha256) AS n FROM images')).toBe(n);
  expect(
    issuesOf(ws, jobId)
      .map((i) => i.item)
      .sort(),
  ).toEqual(['zz/broken.jpg', 'zz/dup.jpg']);
  expect(getImportSummary(ws.db, jobId)).toMatchObject({
    imported: n,
    duplicates: 1,
    failed: 1,
    total: n + 2,
  });
}

describe('import: crash, cancel and resume', () => {
  it('continues after the app closes mid-import, with no image twice and none missing', async () => {
    const root = await folderOf(1200);
    const file = join(tempDir(), 'ws.sqlite');
    const first = openWorkspace(file);
    const { job, datasetId } = await startImport(first, { imageRoot: root });
    await until(() => {
      const j = first.jobs.get(job.id);
      return j.done > 0 && j.done < (j.total ?? 0);
    });
    await first.close(); // aborts with 'shutdown': the job stays queued, as after a crash
    const { done } = (() => {
      const ws = openWorkspace(file, { resumeJobs: false });
      open.push(ws);
      return ws.jobs.get(job.id);
    })();
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(1202);

    const second = workspace(file); // recovers and resumes on open
    await until(() => second.jobs.get(job.id).status === 'done');
    expect(second.jobs.get(job.id)).toMatchObject({ done: 1202, total: 1202, attempts: 2 });
    expect(getDatasetRow(second.db, datasetId)?.status).toBe('ready');
    expectExactlyOnce(second, job.id, 1200);
  });

  it('cancel leaves the dataset incomplete; resume finishes it and marks it ready', async () => {
    const root = await folderOf(1000);
    const ws = workspace();
    const { job, datasetId } = await startImport(ws, { imageRoot: root });
    await until(() => ws.jobs.get(job.id).done > 0);
    ws.jobs.cancel(job.id);
    await ws.jobs.idle();
    const cancelled = ws.jobs.get(job.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.done).toBeLessThan(1002);
    expect(getDatasetRow(ws.db, datasetId)?.status).toBe('incomplete');
    expect(count(ws, 'SELECT count(*) AS n FROM images')).toBeLessThan(1000);

    ws.jobs.resume(job.id);
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id).status).toBe('done');
    expect(getDatasetRow(ws.db, datasetId)?.status).toBe('ready');
    expectExactlyOnce(ws, job.id, 1000);
  });

  it('a folder that changed while the import was paused is listed again; nothing twice, the new file included', async () => {
    const root = await folderOf(1000);
    const ws = workspace();
    const { job } = await startImport(ws, { imageRoot: root });
    await until(() => ws.jobs.get(job.id).done > 0);
    ws.jobs.cancel(job.id);
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id).status).toBe('cancelled');
    write(root, 'aaa/new.jpg', await crop('jpeg', 5000, 16, 32)); // sorts first: every index shifts

    ws.jobs.resume(job.id);
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 1003, total: 1003 });
    expect(count(ws, 'SELECT count(*) AS n FROM images')).toBe(1001);
    expect(count(ws, 'SELECT count(DISTINCT sha256) AS n FROM images')).toBe(1001);
    expect(count(ws, `SELECT count(*) AS n FROM images WHERE rel_path = 'aaa/new.jpg'`)).toBe(1);
    expect(issueFor(ws, job.id, '.')[0]?.message).toMatch(/changed since this import was interrupted/);
    expect(getImportSummary(ws.db, job.id)).toMatchObject({ imported: 1001, duplicates: 1, failed: 1 });
  });

  it('a dataset can be deleted after its import, taking its images, identities and captions along', async () => {
    const { imgs, file } = await annotated('data_captions.json', 'img_path', [
      { id: 1, path: '1.jpg', split: 'train', captions: ['a', 'b'] },
      { id: 2, path: '2.jpg', split: 'test', captions: ['c', 'd'] },
    ]);
    const ws = workspace();
    const { datasetId } = await importAndWait(ws, { imageRoot: imgs, annotationFile: file });
    const handlers = createHandlers(ws);
    expect(handlers['datasets:delete']({ id: datasetId })).toEqual({ deleted: true });
    for (const t of ['datasets', 'images', 'identities', 'captions'])
      expect(count(ws, `SELECT count(*) AS n FROM ${t}`)).toBe(0);
  });
});
