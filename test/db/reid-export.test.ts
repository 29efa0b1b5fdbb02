// Export of re-ID datasets (issue 16): an MTG-captioned Market-1501 exports as a CUHK-PEDES file that IRRA
// trains on, with the dataset's persons and splits and without junk or distractors; the JSONL export carries
// camera, role and source group; a LUPerson-style set keeps each video's crops in one split.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { insertCaption } from '../../src/main/db/repos/images';
import { startExport } from '../../src/main/jobs/export';
import { startImport } from '../../src/main/jobs/import';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { ExportFormat } from '#shared/review/types';
import type { ReidLayout } from '#shared/library/types';
import { asImageId } from '#shared/ids';
import { writeReidTree } from '../fixtures/reid-trees';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ctgi-reid-export-'));
const open: Workspace[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((ws) => ws.close()));
});

/** A re-ID tree imported as it comes, every image with one accepted MTG caption. */
async function captioned(layout: ReidLayout): Promise<Workspace> {
  const ws = openWorkspace(join(tempDir(), 'ws.sqlite'));
  open.push(ws);
  await startImport(ws, { imageRoot: await writeReidTree(layout, join(tempDir(), layout)), layout: 'auto' });
  await ws.jobs.idle();
  const ids = ws.db.prepare('SELECT id FROM images ORDER BY id').pluck().all() as number[];
  ws.db.transaction(() => {
    for (const id of ids)
      insertCaption(ws.db, {
        imageId: asImageId(id),
        source: 'mtg',
        text: `A person, image ${id}.`,
        status: 'accepted',
      });
  })();
  return ws;
}

async function exportAs(ws: Workspace, format: ExportFormat): Promise<Record<string, unknown>[]> {
  const outDir = join(tempDir(), format);
  const { job } = startExport(ws, {
    outDir,
    format,
    images: 'reference',
    splitRatios: { train: 0.5, val: 0, test: 0.5 },
    seed: 3,
    overwrite: false,
  });
  await ws.jobs.idle();
  expect(ws.jobs.get(job.id).status, ws.jobs.get(job.id).error ?? '').toBe('done');
  const file = { 'cuhk-pedes': 'reid_raw.json', jsonl: 'captions.jsonl' }[format as 'cuhk-pedes' | 'jsonl'];
  const text = readFileSync(join(outDir, file), 'utf8');
  return format === 'jsonl'
    ? text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : (JSON.parse(text) as Record<string, unknown>[]);
}

describe('re-ID export', () => {
  it('Market-1501 as CUHK-PEDES: the dataset persons and splits, junk and distractors left out', async () => {
    const ws = await captioned('market');
    const records = await exportAs(ws, 'cuhk-pedes');
    expect(records).toHaveLength(48); // 59 images less 5 junk and 6 distractors
    expect(records.some((r) => /(^|\/)(-1|0000)_/.test(String(r.file_path)))).toBe(false);
    const bySplit = (split: string) => records.filter((r) => r.split === split);
    expect(bySplit('train')).toHaveLength(24);
    expect(bySplit('test')).toHaveLength(24);
    // One id per person of the dataset (CUHK-PEDES numbers from 1, training persons first).
    const idOf = new Map<string, Set<unknown>>();
    for (const r of records) {
      const person = /(\d{4})_c/.exec(String(r.file_path))![1]!;
      idOf.set(person, (idOf.get(person) ?? new Set()).add(r.id));
    }
    expect([...idOf.keys()].sort()).toEqual(['0001', '0002', '0003', '0004', '0005', '0006', '0007', '0008']);
    for (const ids of idOf.values()) expect(ids.size).toBe(1);
    expect(new Set(bySplit('train').map((r) => r.id))).toEqual(new Set([1, 2, 3, 4]));
    expect(new Set(bySplit('test').map((r) => r.id))).toEqual(new Set([5, 6, 7, 8]));
  });

  it('JSONL carries person, camera, role and source group', async () => {
    const ws = await captioned('market');
    const lines = await exportAs(ws, 'jsonl');
    expect(lines).toHaveLength(48);
    const query = lines.filter((l) => l.role === 'query');
    expect(query).toHaveLength(4);
    expect(query[0]).toMatchObject({ person_id: '0005', camera: 'c1', split: 'test', source_group: null });
    expect(new Set(lines.map((l) => l.role))).toEqual(new Set(['train', 'query', 'gallery']));
  });

  it('LUPerson-style: no person, but each video stays in one split and the JSONL names it', async () => {
    const ws = await captioned('luperson');
    const lines = await exportAs(ws, 'jsonl');
    expect(lines).toHaveLength(60);
    const splitsOf = new Map<string, Set<unknown>>();
    for (const l of lines) {
      expect(l.source_group).toMatch(/^(cn|us)\/v000\d$/);
      const g = String(l.source_group);
      splitsOf.set(g, (splitsOf.get(g) ?? new Set()).add(l.split));
    }
    expect(splitsOf.size).toBe(6);
    for (const s of splitsOf.values()) expect(s.size).toBe(1);
    expect(new Set(lines.map((l) => l.split))).toEqual(new Set(['train', 'test']));
  });
});
