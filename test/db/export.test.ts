// The export job on real files: each format is written so that the import's own parser reads back the
// very records that went out (and a second export of the re-imported dataset is byte-identical), splits
// are assigned by identity, JSONL carries provenance, and every bad input fails with a clear message
// and leaves no partial folder behind.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  lstatSync,
  statSync,
  writeFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { insertCaption, insertImage, upsertIdentity } from '../../src/main/db/repos/images';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { insertMtgRun, savePromptSet } from '../../src/main/db/repos/mtg';
import {
  ANNOTATION_FILE,
  assignSplits,
  numberIdentities,
  type ExportImage,
} from '../../src/main/datasets/export-formats';
import { detectFormat, parseJson, recordsToItems } from '../../src/main/datasets/formats';
import { exportCommand } from '../../src/main/cli/commands/export';
import { AppError } from '../../src/main/errors';
import { checkTarget, EXPORT_MARKER, previewExport, startExport } from '../../src/main/jobs/export';
import { startImport } from '../../src/main/jobs/import';
import { defaultPromptSetBody } from '../../src/main/pipelines/question-pool';
import { decide, edit } from '../../src/main/review/desk';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { ExportFormat } from '#shared/review/types';
import type { Job } from '#shared/jobs/types';
import type { Split } from '#shared/library/types';
import type { CaptionId, DatasetId } from '#shared/ids';

vi.setConfig({ testTimeout: 60_000 });

const open: Workspace[] = [];
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ctgi-export-'));
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});

function workspace(): Workspace {
  const ws = openWorkspace(join(tempDir(), 'ws.sqlite'), { resumeJobs: false });
  open.push(ws);
  return ws;
}

async function png(seed: number): Promise<Buffer> {
  return sharp({
    create: {
      width: 16,
      height: 32,
      channels: 3,
      background: { r: (seed * 53) % 256, g: (seed * 97) % 256, b: 90 },
    },
  })
    .png()
    .toBuffer();
}

interface Built {
  ws: Workspace;
  datasetId: DatasetId;
  root: string;
  captions: CaptionId[];
}

/** 12 images of 4 people, no splits; one mtg caption each, the first 9 accepted (one of them edited). */
async function library(opts: { splits?: boolean } = {}): Promise<Built> {
  const ws = workspace();
  const root = join(tempDir(), 'images');
  const datasetId = insertDataset(ws.db, { name: 'people', format: 'folder', root, annotationFile: null });
  const captions: CaptionId[] = [];
  for (let n = 0; n < 12; n++) {
    const person = String(100 + Math.floor(n / 3));
    const rel = `cam${n % 2}/${person}_${n}.png`;
    const bytes = await png(n);
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), bytes);
    const split: Split | null = opts.splits ? (Math.floor(n / 3) < 3 ? 'train' : 'test') : null;
    const imageId = insertImage(ws.db, {
      datasetId,
      relPath: rel,
      sha256: `s${n}`,
      width: 16,
      height: 32,
      bytes: bytes.length,
      format: 'png',
      identityId: upsertIdentity(ws.db, datasetId, person),
      camera: null,
      split,
    });
    captions.push(
      insertCaption(ws.db, {
        imageId,
        source: 'mtg',
        text: `A person number ${n} in a red shirt.`,
        status: 'pending',
      }),
    );
  }
  updateDatasetStatus(ws.db, datasetId, 'ready');
  for (const c of captions.slice(0, 9))
    decide(ws.db, { captionId: c, version: 1, decision: 'accept', reviewer: 'ann' });
  edit(ws.db, {
    captionId: captions[4]!,
    version: 2,
    text: 'A person in a red shirt and blue jeans.',
    status: 'accepted',
    reviewer: 'ann',
  });
  return { ws, datasetId, root, captions };
}

async function runExport(ws: Workspace, arg: Parameters<typeof startExport>[1]): Promise<Job> {
  const { job } = startExport(ws, arg);
  await ws.jobs.idle();
  return ws.jobs.get(job.id);
}

const defaults = {
  images: 'copy' as const,
  splitRatios: { train: 0.5, val: 0.25, test: 0.25 },
  seed: 7,
  overwrite: false,
};

function readBack(format: Exclude<ExportFormat, 'jsonl'>, file: string) {
  const data = parseJson(readFileSync(file, 'utf8'), file);
  const detected = detectFormat(file, data);
  expect(detected).toBe(format);
  return { data: data as Record<string, unknown>[], ...recordsToItems(detected, data as unknown[]) };
}

describe('export formats', () => {
  it.each(['cuhk-pedes', 'icfg-pedes', 'rstpreid'] as const)(
    '%s: the import reads back the same records, and a re-export is byte-identical',
    async (format) => {
      const { ws } = await library();
      const out = join(tempDir(), 'out');
      const job = await runExport(ws, { outDir: out, format, ...defaults });
      expect(job.status, job.error ?? '').toBe('done');
      const file = join(out, ANNOTATION_FILE[format]);
      const { data, items, problems } = readBack(format, file);
      expect(problems).toEqual([]);
      expect(items).toHaveLength(9);
      // Every record's image is where IRRA's loader looks: <out>/imgs/<path>.
      for (const i of items) expect(existsSync(join(out, 'imgs', i.relPath))).toBe(true);
      const texts = items.flatMap((i) => i.captions);
      expect(texts).toContain('A person in a red shirt and blue jeans.');
      expect(texts).not.toContain('A person number 4 in a red shirt.');
      // IRRA asserts training ids run 0..n-1 (CUHK-PEDES stores them from 1).
      const base = format === 'cuhk-pedes' ? 1 : 0;
      const trainIds = [...new Set(data.filter((r) => r.split === 'train').map((r) => Number(r.id)))].sort(
        (a, b) => a - b,
      );
      expect(trainIds).toEqual(trainIds.map((_, k) => base + k));
      if (format === 'icfg-pedes') expect(new Set(data.map((r) => r.split))).not.toContain('val');
      if (format !== 'rstpreid')
        expect(data[0]!.processed_tokens).toEqual(
          (data[0]!.captions as string[]).map((c) => c.toLowerCase().match(/[a-z0-9]+/g)),
        );

      // Round trip: import the exported folder, accept nothing new (dataset captions arrive accepted),
      // export again: the same file, byte for byte.
      const ws2 = workspace();
      const { job: imp } = await startImport(ws2, { imageRoot: join(out, 'imgs'), annotationFile: file });
      await ws2.jobs.idle();
      expect(ws2.jobs.get(imp.id).status).toBe('done');
      const out2 = join(tempDir(), 'again');
      expect((await runExport(ws2, { outDir: out2, format, ...defaults })).status).toBe('done');
      expect(readFileSync(join(out2, ANNOTATION_FILE[format]), 'utf8')).toBe(readFileSync(file, 'utf8'));
    },
  );

  it('JSONL: one line per caption with provenance (model, prompts, the model text behind an edit, the decision)', async () => {
    const { ws } = await library({ splits: true });
    const ps = savePromptSet(ws.db, defaultPromptSetBody());
    const row = ws.db
      .prepare(`SELECT id FROM images WHERE rel_path = 'cam0/100_0.png' AND sha256 = 's0'`)
      .get() as { id: number };
    const run = insertMtgRun(ws.db, {
      imageId: row.id as never,
      jobId: null,
      promptSetId: ps.id,
      status: 'done',
      error: null,
      initialCaption: 'A person.',
      initialCallId: null,
      reconstruction: 'A person in a hat.',
      reconstructCallId: null,
      vqa: { endpoint: 'v', model: 'qwen2-vl-7b' },
      reconstructor: { endpoint: 'r', model: 'gpt-4o' },
      params: {},
      skipped: [],
      calls: 1,
      cachedCalls: 0,
      promptTokens: 1,
      completionTokens: 1,
      elapsedMs: 1,
      rounds: [],
      caption: { text: 'A person in a hat.', source: 'mtg' },
    });
    edit(ws.db, {
      captionId: run.captionId!,
      version: 1,
      text: 'A person in a green hat.',
      status: 'accepted',
      reviewer: 'bob',
    });
    const out = join(tempDir(), 'jsonl');
    const job = await runExport(ws, {
      outDir: out,
      format: 'jsonl',
      ...defaults,
      sources: ['mtg', 'edited'],
    });
    expect(job.status, job.error ?? '').toBe('done');
    const lines = readFileSync(join(out, 'captions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(10);
    const hat = lines.find((l) => l.caption === 'A person in a green hat.')!;
    expect(hat).toMatchObject({
      source: 'edited',
      split: 'train',
      original_caption: 'A person in a hat.',
      review: { decision: 'edit', reviewer: 'bob' },
      model: { vqa: 'qwen2-vl-7b', reconstructor: 'gpt-4o', prompts: { name: ps.name, version: ps.version } },
    });
    // The source's splits are kept as they are.
    expect(new Set(lines.map((l) => `${String(l.person_id)}:${String(l.split)}`))).toEqual(
      new Set(['100:train', '101:train', '102:train']),
    );
  });

  it('hard links and references: no copies; imgs/ links to the source in reference mode', async () => {
    const { ws, root } = await library();
    const linked = join(tempDir(), 'linked');
    expect(
      (await runExport(ws, { outDir: linked, format: 'rstpreid', ...defaults, images: 'hardlink' })).status,
    ).toBe('done');
    const { items } = readBack('rstpreid', join(linked, 'data_captions.json'));
    const first = items[0]!.relPath;
    expect(statSync(join(linked, 'imgs', first)).ino).toBe(statSync(join(root, first)).ino);
    const ref = join(tempDir(), 'ref');
    expect(
      (await runExport(ws, { outDir: ref, format: 'rstpreid', ...defaults, images: 'reference' })).status,
    ).toBe('done');
    expect(lstatSync(join(ref, 'imgs')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(ref, 'imgs', first))).toBe(true);
  });
});

describe('splits by identity', () => {
  const images: ExportImage[] = Array.from({ length: 200 }, (_, n) => ({
    imageId: n + 1,
    datasetId: 1,
    relPath: `${n}.png`,
    personId: String(Math.floor(n / 4)),
    split: n < 8 ? 'test' : null,
    captions: [],
  }));

  it('keeps source splits, never splits a person, follows the ratios and the seed', () => {
    const a = assignSplits(images, { train: 0.6, val: 0.2, test: 0.2 }, 3, 'cuhk-pedes');
    expect(assignSplits(images, { train: 0.6, val: 0.2, test: 0.2 }, 3, 'cuhk-pedes')).toEqual(a);
    expect(assignSplits(images, { train: 0.6, val: 0.2, test: 0.2 }, 4, 'cuhk-pedes')).not.toEqual(a);
    expect(a.get(1)).toBe('test');
    const byPerson = new Map<string, Set<Split>>();
    for (const img of images)
      byPerson.set(img.personId!, (byPerson.get(img.personId!) ?? new Set()).add(a.get(img.imageId)!));
    for (const s of byPerson.values()) expect(s.size).toBe(1);
    const counts = { train: 0, val: 0, test: 0 };
    for (const img of images.slice(8)) counts[a.get(img.imageId)!]++;
    // 48 people without a split, 4 images each: round(0.6·48) = 29 train, round(0.2·48) = 10 val, 9 test.
    expect(counts).toEqual({ train: 29 * 4, val: 10 * 4, test: 9 * 4 });
    const ids = numberIdentities(images, a, 'rstpreid');
    const train = images.filter((i) => a.get(i.imageId) === 'train').map((i) => ids.get(`1:${i.personId}`)!);
    expect(Math.min(...train)).toBe(0);
    expect(Math.max(...train)).toBe(new Set(train).size - 1);
  });
});

describe('bad input', () => {
  it('refuses to export with nothing accepted, and creates nothing', async () => {
    const ws = workspace();
    const out = join(tempDir(), 'none');
    expect(() => startExport(ws, { outDir: out, format: 'cuhk-pedes', ...defaults })).toThrow(
      /Nothing to export: no accepted .* captions\. Accept captions in Review first\./,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a non-empty target unless overwrite, and a disk without room', async () => {
    const { ws } = await library();
    const out = join(tempDir(), 'full');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    expect(() => startExport(ws, { outDir: out, format: 'rstpreid', ...defaults })).toThrow(
      /already holds files/,
    );
    expect(() => checkTarget(join(tempDir(), 'x'), false, Number.MAX_SAFE_INTEGER)).toThrow(
      /needs about .* MB but only .* MB are free/,
    );
  });

  it('overwrite replaces only a folder this app exported (its marker), never any other folder', async () => {
    const { ws } = await library();
    const parent = tempDir();
    // A folder of the user's: overwrite is refused with the reason, up front and nothing is touched.
    const mine = join(parent, 'mine');
    mkdirSync(join(mine, 'sub'), { recursive: true });
    writeFileSync(join(mine, 'keep.txt'), 'mine');
    writeFileSync(join(mine, 'sub', 'notes.md'), 'also mine');
    expect(() => startExport(ws, { outDir: mine, format: 'rstpreid', ...defaults, overwrite: true })).toThrow(
      /was not written by a CTGI Studio export \(it has no \.ctgi-export\.json\), so overwrite will not delete it/,
    );
    // A marker someone else wrote (another app, a hand-made file) does not count either.
    writeFileSync(join(mine, EXPORT_MARKER), JSON.stringify({ app: 'something else' }));
    expect(() => startExport(ws, { outDir: mine, format: 'rstpreid', ...defaults, overwrite: true })).toThrow(
      /was not written by a CTGI Studio export/,
    );
    expect(readFileSync(join(mine, 'sub', 'notes.md'), 'utf8')).toBe('also mine');

    // An export carries the marker, and a second export may replace it, only once the new one is complete.
    const out = join(parent, 'out');
    expect((await runExport(ws, { outDir: out, format: 'rstpreid', ...defaults })).status).toBe('done');
    expect(readdirSync(out).sort()).toEqual([EXPORT_MARKER, 'data_captions.json', 'imgs']);
    expect(JSON.parse(readFileSync(join(out, EXPORT_MARKER), 'utf8'))).toMatchObject({
      app: 'CTGI Studio',
      format: 'rstpreid',
    });
    writeFileSync(join(out, 'stale.txt'), 'from the first export');
    const again = await runExport(ws, { outDir: out, format: 'cuhk-pedes', ...defaults, overwrite: true });
    expect(again.status).toBe('done');
    expect(readdirSync(out).sort()).toEqual([EXPORT_MARKER, 'imgs', 'reid_raw.json']);

    // A folder that loses its marker between the check and the move is not replaced either.
    const queued = startExport(ws, { outDir: out, format: 'rstpreid', ...defaults, overwrite: true });
    rmSync(join(out, EXPORT_MARKER));
    await ws.jobs.idle();
    const raced = ws.jobs.get(queued.job.id);
    expect(raced.status).toBe('failed');
    expect(raced.error).toMatch(
      /was changed while exporting and now holds files and was not written by a CTGI Studio export/,
    );
    expect(readdirSync(out).sort()).toEqual(['imgs', 'reid_raw.json']);
    expect(readdirSync(parent).sort()).toEqual(['mine', 'out']);
  });

  it.skipIf(process.getuid?.() === 0)('names a folder it may not write in (not as root)', async () => {
    const { ws } = await library();
    const parent = tempDir();
    const { chmodSync } = await import('node:fs');
    chmodSync(parent, 0o555);
    expect(() => startExport(ws, { outDir: join(parent, 'out'), format: 'rstpreid', ...defaults })).toThrow(
      /cannot write in .*permission denied/,
    );
  });

  it('an image swapped for a link out of its dataset folder is not copied into the export', async () => {
    const { ws, root } = await library();
    rmSync(join(root, 'cam1', '101_5.png'));
    symlinkSync('/etc/passwd', join(root, 'cam1', '101_5.png'));
    const parent = tempDir();
    for (const images of ['copy', 'hardlink'] as const) {
      const job = await runExport(ws, {
        outDir: join(parent, 'out'),
        format: 'cuhk-pedes',
        ...defaults,
        images,
      });
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(
        /Image cam1\/101_5\.png cannot be exported: .*leads outside its dataset folder/,
      );
      expect(readdirSync(parent)).toEqual([]);
    }
  });

  it('a missing image fails the job with its name and leaves neither the target nor the staging folder', async () => {
    const { ws, root } = await library();
    rmSync(join(root, 'cam1', '101_5.png'));
    const parent = tempDir();
    const job = await runExport(ws, { outDir: join(parent, 'out'), format: 'cuhk-pedes', ...defaults });
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/Image cam1\/101_5\.png is missing/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('writes odd Unicode as is and control characters cleaned, with a warning, in a file Python-style loaders read', async () => {
    const { ws, captions } = await library();
    edit(ws.db, {
      captionId: captions[0]!,
      version: 2,
      text: 'Une femme en manteau rouge — 穿红色外套 👩',
      status: 'accepted',
      reviewer: 'ann',
    });
    // Control characters that reached the database some other way (an import of a dirty file).
    ws.db
      .prepare(`UPDATE captions SET text = ? WHERE id = ?`)
      .run('A man\u0000 in a\u202e blue\u0007 coat\ud800.', captions[1]);
    const out = join(tempDir(), 'odd');
    const job = await runExport(ws, { outDir: out, format: 'cuhk-pedes', ...defaults });
    expect(job.status).toBe('done');
    const raw = readFileSync(join(out, 'reid_raw.json'), 'utf8');
    const texts = readBack('cuhk-pedes', join(out, 'reid_raw.json')).items.flatMap((i) => i.captions);
    expect(texts).toContain('Une femme en manteau rouge — 穿红色外套 👩');
    // SQLite itself turns the lone surrogate into replacement characters on the way back.
    expect(texts.find((t) => t.startsWith('A man'))).toMatch(/^A man in a blue coat\ufffd+\.$/);
    expect(raw).not.toMatch(/\\u0000|\\u0007|\\ud800/i);
    expect(listJobIssues(ws.db, job.id, 10).map((i) => i.message)).toEqual([
      expect.stringMatching(/1 caption\(s\) had control or invisible characters/),
    ]);
  });
});

describe('where an export goes', () => {
  it('places a relative folder in the workspace folder, not the server process folder, and makes the folders above it', async () => {
    const { ws } = await library();
    const home = dirname(ws.file);
    const r = startExport(ws, { outDir: 'exports/2024/people', format: 'rstpreid', ...defaults });
    expect(r.outDir).toBe(join(home, 'exports', '2024', 'people'));
    await ws.jobs.idle();
    expect(ws.jobs.get(r.job.id).status, ws.jobs.get(r.job.id).error ?? '').toBe('done');
    expect(
      readBack('rstpreid', join(home, 'exports', '2024', 'people', 'data_captions.json')).items,
    ).toHaveLength(9);
    expect(existsSync(join(process.cwd(), 'exports'))).toBe(false);
  });

  it('makes the missing folders above an absolute target, like mkdir -p', async () => {
    const { ws } = await library();
    const out = join(tempDir(), 'no', 'such', 'dir');
    const job = await runExport(ws, { outDir: out, format: 'cuhk-pedes', ...defaults });
    expect(job.status, job.error ?? '').toBe('done');
    expect(readdirSync(out).sort()).toEqual([EXPORT_MARKER, 'imgs', 'reid_raw.json']);
  });

  it('keeps a relative folder inside the workspace folder: no way out by .. or through a link', async () => {
    const { ws } = await library();
    const home = dirname(ws.file);
    expect(() => startExport(ws, { outDir: '../elsewhere', format: 'rstpreid', ...defaults })).toThrow(
      `A relative export folder is made inside the workspace's folder ${home}, and "../elsewhere" is not a folder in there. Give a name like exports/my-dataset, or an absolute path for a folder elsewhere.`,
    );
    const outside = tempDir();
    symlinkSync(outside, join(home, 'shared'), 'dir');
    expect(() => startExport(ws, { outDir: 'shared/new/people', format: 'rstpreid', ...defaults })).toThrow(
      `"shared/new/people" goes through ${join(home, 'shared')}, which leads to ${outside}, outside the workspace's folder ${home}. Give the absolute path if that is where the export should go.`,
    );
    expect(readdirSync(outside)).toEqual([]);
    // Named by its absolute path, the same place is the user's choice.
    const job = await runExport(ws, {
      outDir: join(home, 'shared', 'new', 'people'),
      format: 'rstpreid',
      ...defaults,
    });
    expect(job.status, job.error ?? '').toBe('done');
    expect(existsSync(join(outside, 'new', 'people', 'data_captions.json'))).toBe(true);
  });

  it('says so when a file stands where a folder above the target would be made', async () => {
    const { ws } = await library();
    const file = join(tempDir(), 'notes.txt');
    writeFileSync(file, 'x');
    expect(() =>
      startExport(ws, { outDir: join(file, 'sub', 'out'), format: 'rstpreid', ...defaults }),
    ).toThrow(
      `${file} is a file, so the folder ${join(file, 'sub')} cannot be made. Choose another place for the export.`,
    );
  });

  it('previews the captions per source, what the chosen sources add up to, and the folder', async () => {
    const { ws } = await library();
    const home = dirname(ws.file);
    expect(previewExport(ws, {})).toEqual({
      bySource: { human: 0, mtg: 8, edited: 1 },
      captions: 9,
      images: 9,
      workspaceFolder: home,
      outDir: null,
      outDirProblem: null,
    });
    expect(previewExport(ws, { sources: ['edited'], outDir: 'out/x' })).toMatchObject({
      captions: 1,
      images: 1,
      outDir: join(home, 'out', 'x'),
    });
    expect(previewExport(ws, { outDir: '../x' })).toMatchObject({
      outDir: null,
      outDirProblem: expect.stringContaining('is not a folder in there'),
    });
    // And the export of one source writes exactly what the preview counted.
    const out = join(tempDir(), 'edited-only');
    const job = await runExport(ws, { outDir: out, format: 'rstpreid', sources: ['edited'], ...defaults });
    expect(job.status).toBe('done');
    expect(readBack('rstpreid', join(out, 'data_captions.json')).items.flatMap((i) => i.captions)).toEqual([
      'A person in a red shirt and blue jeans.',
    ]);
  });
});

describe('ctgi export', () => {
  it('runs the job in the command and prints where the file went; bad options say what to give', async () => {
    const { ws } = await library();
    const file = ws.file;
    await ws.close();
    const out = join(tempDir(), 'cli');
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: () => undefined };
    const code = await exportCommand.run(
      { workspace: file, out, format: 'cuhk-pedes', split: '0.6,0.2,0.2', seed: '3', json: true },
      [],
      io,
    );
    expect(code).toBe(0);
    const report = JSON.parse(lines.join('\n')) as { file: string; captions: number; job: Job };
    expect(report).toMatchObject({
      file: join(out, 'reid_raw.json'),
      captions: 9,
      job: { status: 'done', kind: 'export' },
    });
    expect(readBack('cuhk-pedes', report.file).items).toHaveLength(9);
    // --overwrite: the earlier export is replaced; a folder of the user's is not, and says why.
    lines.length = 0;
    expect(
      await exportCommand.run(
        { workspace: file, out, format: 'rstpreid', overwrite: true, json: true },
        [],
        io,
      ),
    ).toBe(0);
    expect(readdirSync(out).sort()).toEqual([EXPORT_MARKER, 'data_captions.json', 'imgs']);
    const mine = join(tempDir(), 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'thesis.tex'), 'mine');
    await expect(
      exportCommand.run({ workspace: file, out: mine, format: 'rstpreid', overwrite: true }, [], io),
    ).rejects.toThrow(/was not written by a CTGI Studio export/);
    expect(readdirSync(mine)).toEqual(['thesis.tex']);
    await expect(
      exportCommand.run({ workspace: file, out: join(tempDir(), 'x'), format: 'coco' }, [], io),
    ).rejects.toThrow(
      new AppError(
        'bad_request',
        '--format must be one of cuhk-pedes, icfg-pedes, rstpreid, jsonl; got "coco".',
      ),
    );
    await expect(
      exportCommand.run(
        { workspace: file, out: join(tempDir(), 'x'), format: 'rstpreid', split: '1,2' },
        [],
        io,
      ),
    ).rejects.toThrow(/--split takes three shares/);
  });
});
