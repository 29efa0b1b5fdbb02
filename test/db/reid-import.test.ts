// Re-ID datasets as they come (issue 16): synthetic trees in each layout, named as each dataset names its
// files (test/fixtures/reid-trees.ts), detected, previewed and imported with persons, cameras, splits,
// roles, junk, distractors and source groups as the layout says; and a streaming import that resumes after
// the app stops mid-way, from the walk's cursor, with every image exactly once.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { walkImagesAfter } from '../../src/main/datasets/cursor-walk';
import { detectLayout, layoutModule, previewLayout } from '../../src/main/datasets/layouts';
import { walkImages } from '../../src/main/datasets/walk';
import { getDatasetRow } from '../../src/main/db/repos/datasets';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { getImportSummary, startImport } from '../../src/main/jobs/import';
import { listMtiEvalGalleryIds } from '../../src/main/pipelines/eval-mti';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { ReidLayout } from '#shared/library/types';
import type { DatasetId, JobId } from '#shared/ids';
import { writeReidTree } from '../fixtures/reid-trees';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ctgi-reid-'));
const open: Workspace[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((ws) => ws.close()));
});
function workspace(file = join(tempDir(), 'ws.sqlite')): Workspace {
  const ws = openWorkspace(file);
  open.push(ws);
  return ws;
}
const count = (ws: Workspace, sql: string, ...params: unknown[]): number =>
  (ws.db.prepare(sql).get(...params) as { n: number }).n;
const groups = (ws: Workspace, column: string, datasetId: DatasetId): Record<string, number> =>
  Object.fromEntries(
    (
      ws.db
        .prepare(
          `SELECT coalesce(${column}, 'none') AS k, count(*) AS n FROM images WHERE dataset_id = ? GROUP BY k`,
        )
        .all(datasetId) as { k: string; n: number }[]
    ).map((r) => [r.k, r.n]),
  );

const trees = {} as Record<ReidLayout, string>;
beforeAll(async () => {
  for (const l of ['market', 'duke', 'cuhk03', 'msmt17', 'luperson'] as const)
    trees[l] = await writeReidTree(l, join(tempDir(), l));
}, 60_000);

async function importLayout(
  layout: ReidLayout,
): Promise<{ ws: Workspace; datasetId: DatasetId; jobId: JobId }> {
  const ws = workspace();
  const { job, datasetId } = await startImport(ws, { imageRoot: trees[layout], layout: 'auto' });
  await ws.jobs.idle();
  expect(ws.jobs.get(job.id).status).toBe('done');
  expect(getDatasetRow(ws.db, datasetId)).toMatchObject({ layout, status: 'ready', format: 'folder' });
  return { ws, datasetId, jobId: job.id };
}

describe('re-ID layouts: Market-1501 and DukeMTMC-reID', () => {
  it.each(['market', 'duke'] as const)('%s: detected, with the counts its names say', async (layout) => {
    const d = await detectLayout(trees[layout]);
    expect(d.detected).toBe(layout);
    expect(d.layout).toBe(layout);
    expect(d.evidence.join(' ')).toMatch(/bounding_box_train\/.*query\//);
    expect(d.preview).toMatchObject({
      images: 59,
      complete: true,
      skipped: 1, // gt_bbox/
      byRole: { train: 24, query: 4, gallery: 31, none: 0 },
      bySplit: { train: 24, val: 0, test: 35, none: 0 },
      persons: 8,
      personsByRole: { train: 4, query: 4, gallery: 4 },
      cameras: ['c1', 'c2', 'c3'],
      junk: 5,
      distractors: 6,
      sourceGroups: 0,
    });
  });

  it.each(['market', 'duke'] as const)(
    '%s: imported with persons, cameras and roles; junk and distractors without identity',
    async (layout) => {
      const { ws, datasetId, jobId } = await importLayout(layout);
      expect(count(ws, 'SELECT count(*) AS n FROM images')).toBe(59);
      expect(count(ws, 'SELECT count(*) AS n FROM identities')).toBe(8);
      expect(groups(ws, 'role', datasetId)).toEqual({ train: 24, query: 4, gallery: 31 });
      expect(groups(ws, 'person_kind', datasetId)).toEqual({ identity: 48, junk: 5, distractor: 6 });
      expect(
        count(
          ws,
          `SELECT count(*) AS n FROM images WHERE person_kind != 'identity' AND identity_id IS NOT NULL`,
        ),
      ).toBe(0);
      const query = ws.db
        .prepare(
          `SELECT p.person_id, i.camera, i.split, i.role FROM images i JOIN identities p ON p.id = i.identity_id
           WHERE i.role = 'query' ORDER BY p.person_id`,
        )
        .all();
      expect(query).toEqual(
        ['0005', '0006', '0007', '0008'].map((person_id) => ({
          person_id,
          camera: 'c1',
          split: 'test',
          role: 'query',
        })),
      );
      const issues = listJobIssues(ws.db, jobId, 100);
      expect(issues.map((i) => i.message).join('\n')).toMatch(/1 image file outside .* \(e\.g\. gt_bbox\//);
      // MTI evaluation's gallery (test split) leaves junk and distractors out, as `ctgi eval` does.
      expect(listMtiEvalGalleryIds(ws.db, { split: 'test', datasetId })).toHaveLength(24);
      const summary = getImportSummary(ws.db, jobId);
      expect(summary).toMatchObject({ imported: 59, skipped: 1, failed: 0 });
      expect(summary?.bytes).toBeGreaterThan(59 * 1000);
    },
  );

  it('a forced layout overrides the detection; plain imports the same folder without persons', async () => {
    const plain = await detectLayout(trees.market, 'plain');
    expect(plain).toMatchObject({ detected: 'market', layout: null, preview: null });
    expect(plain.evidence.at(-1)).toMatch(/plain folder, as asked/);
    const forced = await detectLayout(trees.market, 'duke');
    expect(forced).toMatchObject({ detected: 'market', layout: 'duke' });
    expect(forced.evidence.at(-1)).toMatch(/overriding the detection/);
    // Duke's pattern does not fit, but person and camera still read from the names' common start.
    expect(forced.preview).toMatchObject({
      persons: 8,
      junk: 5,
      distractors: 6,
      cameras: ['c1', 'c2', 'c3'],
    });

    const ws = workspace();
    const { datasetId } = await startImport(ws, { imageRoot: trees.market, layout: 'plain' });
    await ws.jobs.idle();
    expect(getDatasetRow(ws.db, datasetId)?.layout).toBeNull();
    expect(count(ws, 'SELECT count(*) AS n FROM images')).toBe(60); // gt_bbox/ too: a plain folder has no protocol
    expect(count(ws, 'SELECT count(*) AS n FROM identities')).toBe(0);
  });
});

describe('re-ID layouts: CUHK03, MSMT17, LUPerson', () => {
  it('CUHK03 (new protocol): detected/ and labeled/ as source groups, same persons in both', async () => {
    const d = await detectLayout(trees.cuhk03);
    expect(d.detected).toBe('cuhk03');
    expect(d.evidence.join(' ')).toMatch(/detected\/.*labeled\//s);
    expect(d.preview).toMatchObject({
      images: 48,
      byRole: { train: 24, query: 8, gallery: 16, none: 0 },
      persons: 8,
      sourceGroups: 2,
      cameras: ['c1', 'c2'],
      junk: 0,
    });
    const { ws, datasetId } = await importLayout('cuhk03');
    expect(groups(ws, 'source_group', datasetId)).toEqual({ detected: 24, labeled: 24 });
    expect(count(ws, 'SELECT count(*) AS n FROM identities')).toBe(8);
  });

  it('MSMT17: from its lists, train and test persons kept apart though both count from 0', async () => {
    const d = await detectLayout(trees.msmt17);
    expect(d.detected).toBe('msmt17');
    expect(d.preview).toMatchObject({
      images: 48,
      byRole: { train: 24, query: 4, gallery: 20, none: 0 },
      bySplit: { train: 18, val: 6, test: 24, none: 0 },
      persons: 8,
      personsByRole: { train: 4, query: 4, gallery: 4 },
      cameras: ['c1', 'c2', 'c3'],
    });
    const { ws, datasetId } = await importLayout('msmt17');
    expect(groups(ws, 'split', datasetId)).toEqual({ train: 18, val: 6, test: 24 });
    const persons = (
      ws.db.prepare('SELECT person_id FROM identities ORDER BY person_id').all() as {
        person_id: string;
      }[]
    ).map((r) => r.person_id);
    expect(persons).toEqual([
      'test/0000',
      'test/0001',
      'test/0002',
      'test/0003',
      'train/0000',
      'train/0001',
      'train/0002',
      'train/0003',
    ]);
  });

  it('LUPerson-style: no persons, each image grouped by its video folder', async () => {
    const d = await detectLayout(trees.luperson);
    expect(d.detected).toBe('luperson');
    expect(d.preview).toMatchObject({
      images: 60,
      byRole: { none: 60 },
      bySplit: { none: 60 },
      persons: 0,
      sourceGroups: 6,
    });
    expect(d.preview?.examples[0]).toMatchObject({ sourceGroup: 'cn/v0001', personKind: 'unknown' });
    const { ws, datasetId } = await importLayout('luperson');
    expect(Object.keys(groups(ws, 'source_group', datasetId))).toEqual([
      'cn/v0001',
      'cn/v0002',
      'cn/v0003',
      'us/v0004',
      'us/v0005',
      'us/v0006',
    ]);
    expect(groups(ws, 'person_kind', datasetId)).toEqual({ unknown: 60 });
  });

  it('the folder above a dataset is not taken for LUPerson: it says which folder to give', async () => {
    const parent = tempDir();
    await writeReidTree('market', join(parent, 'Market-1501-v15.09.15'));
    await writeReidTree('duke', join(parent, 'DukeMTMC-reID'));
    const d = await detectLayout(parent);
    expect(d).toMatchObject({ detected: null, layout: null, preview: null });
    expect(d.evidence.join(' ')).toMatch(
      /DukeMTMC-reID\/ inside it looks like DukeMTMC-reID: give .*DukeMTMC-reID as the folder/,
    );
  });

  it('a folder of loose images is no re-ID layout; auto imports it as a plain folder', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'a.jpg'),
      await sharp({ create: { width: 8, height: 16, channels: 3, background: '#f00' } })
        .jpeg()
        .toBuffer(),
    );
    const d = await detectLayout(dir);
    expect(d).toMatchObject({ detected: null, layout: null, preview: null });
    expect(d.evidence[0]).toMatch(/no re-ID layout recognised/);
  });
});

describe('streaming walk and resume', () => {
  it('a preview stops at its cap and says its figures are a lower bound', async () => {
    const p = await previewLayout(trees.luperson, layoutModule('luperson'), 25);
    expect(p).toMatchObject({ images: 25, complete: false });
    expect((await previewLayout(trees.luperson, layoutModule('luperson'))).complete).toBe(true);
  });

  it('the walk from any cursor is exactly the rest of the full walk, which holds what walkImages lists', async () => {
    const all: string[] = [];
    for await (const f of walkImagesAfter(trees.market, null)) all.push(f);
    expect([...all].sort()).toEqual((await walkImages(trees.market)).files);
    for (let i = 0; i < all.length; i++) {
      const rest: string[] = [];
      for await (const f of walkImagesAfter(trees.market, all[i])) rest.push(f);
      expect(rest, `after ${all[i]}`).toEqual(all.slice(i + 1));
    }
  });

  it('a LUPerson-style import stopped mid-way resumes from its cursor: every image exactly once', async () => {
    const root = tempDir();
    const N = 1500;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      const dir = join(root, `v${String(i % 30).padStart(4, '0')}`);
      mkdirSync(dir, { recursive: true });
      const px = Buffer.alloc(8 * 16 * 3);
      for (let k = 0; k < px.length; k++) px[k] = ((k + 1) * 2654435761 * (i + 7)) >>> 24;
      writes.push(
        sharp(px, { raw: { width: 8, height: 16, channels: 3 } })
          .jpeg()
          .toBuffer()
          .then((b) => writeFileSync(join(dir, `${String(i).padStart(6, '0')}.jpg`), b)),
      );
    }
    await Promise.all(writes);
    const file = join(tempDir(), 'ws.sqlite');
    const first = openWorkspace(file);
    const { job, datasetId } = await startImport(first, { imageRoot: root, layout: 'auto' });
    expect(getDatasetRow(first.db, datasetId)?.layout).toBe('luperson');
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      const j = first.jobs.get(job.id);
      if (j.done > 0 && j.done < (j.total ?? 0)) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    await first.close(); // as after a crash: the job stays queued with its cursor
    const peek = openWorkspace(file, { resumeJobs: false });
    const stopped = peek.jobs.get(job.id);
    const state = JSON.parse(
      (peek.db.prepare('SELECT state FROM jobs WHERE id = ?').get(job.id) as { state: string }).state,
    ) as { cursor: string; next: number };
    await peek.close();
    expect(stopped.total).toBe(N);
    expect(stopped.done).toBeGreaterThan(0);
    expect(stopped.done).toBeLessThan(N);
    expect(state.cursor).toMatch(/^v\d{4}\/\d{6}\.jpg$/);
    expect(state.next).toBe(stopped.done);

    const second = workspace(file);
    const until = Date.now() + 60_000;
    while (second.jobs.get(job.id).status !== 'done' && Date.now() < until)
      await new Promise((r) => setTimeout(r, 5));
    expect(second.jobs.get(job.id)).toMatchObject({ status: 'done', done: N, total: N, attempts: 2 });
    expect(count(second, 'SELECT count(*) AS n FROM images')).toBe(N);
    expect(count(second, 'SELECT count(DISTINCT rel_path) AS n FROM images')).toBe(N);
    expect(count(second, 'SELECT count(DISTINCT source_group) AS n FROM images')).toBe(30);
    expect(getImportSummary(second.db, job.id)).toMatchObject({ imported: N, duplicates: 0, failed: 0 });
  }, 90_000);
});
