import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { countEmbeddings, getEmbedding } from '../../src/main/db/repos/embeddings';
import { insertImage } from '../../src/main/db/repos/images';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import type { WritableDb } from '../../src/main/db/types';
import { startEmbed } from '../../src/main/jobs/embed';
import { registerModel } from '../../src/main/ml/models';
import type { DatasetId, ImageId, ModelId } from '#shared/ids';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import { tinyModelFolder } from '../fixtures/clip-tiny';

process.env.CTGI_ORT_PROVIDER = 'cpu';

async function dataset(
  db: WritableDb,
  n: number,
  broken: number[] = [],
): Promise<{ id: DatasetId; images: ImageId[] }> {
  const root = mkdtempSync(join(tmpdir(), 'embed-ds-'));
  const id = insertDataset(db, { name: `ds${n}`, format: 'folder', root, annotationFile: null });
  const images: ImageId[] = [];
  for (let i = 0; i < n; i++) {
    const rel = `${i}.png`;
    const bytes = broken.includes(i)
      ? Buffer.from('truncated')
      : await sharp({
          create: { width: 30, height: 90, channels: 3, background: { r: (i * 37) % 256, g: 80, b: 200 } },
        })
          .png()
          .toBuffer();
    writeFileSync(join(root, rel), bytes);
    images.push(
      insertImage(db, {
        datasetId: id,
        relPath: rel,
        sha256: createHash('sha256').update(bytes).digest('hex'), // checked when the encoder reads the file
        width: 30,
        height: 90,
        bytes: bytes.length,
        format: 'png',
        identityId: null,
        camera: null,
        split: null,
      }),
    );
  }
  updateDatasetStatus(db, id, 'ready');
  return { id, images };
}

async function runEmbed(ws: Workspace, modelId: ModelId, datasetId?: DatasetId) {
  const { job } = startEmbed(ws, { modelId, datasetId });
  await ws.jobs.idle();
  return ws.jobs.get(job.id);
}

describe('embed job', { timeout: 60_000 }, () => {
  it('embeds only images without a vector from that model, and never mixes models', async () => {
    const ws = openWorkspace(':memory:');
    const a = await dataset(ws.db, 5);
    await dataset(ws.db, 3);
    const m1 = await registerModel(ws.db, tinyModelFolder(), 'one');
    const m2 = await registerModel(ws.db, tinyModelFolder(), 'two');

    const first = await runEmbed(ws, m1.id, a.id);
    expect(first).toMatchObject({ status: 'done', done: 5, total: 5 });
    expect(countEmbeddings(ws.db, m1.id)).toBe(5);
    expect(countEmbeddings(ws.db, m2.id)).toBe(0);
    const v = getEmbedding(ws.db, m1.id, a.images[0]!)!;
    expect(v).toHaveLength(8);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);

    // All datasets: only dataset b's three images are missing for model one.
    const second = await runEmbed(ws, m1.id);
    expect(second).toMatchObject({ status: 'done', done: 3, total: 3 });
    expect(countEmbeddings(ws.db, m1.id)).toBe(8);
    // Model two starts from nothing, and its vectors are its own rows.
    expect(await runEmbed(ws, m2.id)).toMatchObject({ status: 'done', done: 8 });
    expect(countEmbeddings(ws.db, m2.id)).toBe(8);
    await ws.close();
  });

  it('reports unreadable images as issues, carries on, and ends done-with-failures', async () => {
    const ws = openWorkspace(':memory:');
    const ds = await dataset(ws.db, 4, [1]);
    const m = await registerModel(ws.db, tinyModelFolder(), 'm');
    const job = await runEmbed(ws, m.id, ds.id);
    expect(job).toMatchObject({ status: 'done-with-failures', done: 4, issueCount: 1 });
    expect(job.error).toMatch(/^1 of 4 images could not be read/);
    expect(listJobIssues(ws.db, job.id, 10)[0]).toMatchObject({
      item: '1.png',
      message: expect.stringMatching(/could not be read/),
    });
    expect(getEmbedding(ws.db, m.id, ds.images[1]!)).toBeUndefined();
    expect(countEmbeddings(ws.db, m.id)).toBe(3);
    await ws.close();
  });

  it('resumes after a shutdown from its cursor without embedding anything twice', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'embed-ws-')), 'w.sqlite');
    let ws = openWorkspace(file);
    const ds = await dataset(ws.db, 40);
    const m = await registerModel(ws.db, tinyModelFolder(), 'm');
    const job = ws.jobs.enqueue('embed', { modelId: m.id, datasetId: ds.id, batchSize: 4 });
    for (let i = 0; i < 2000 && ws.jobs.get(job.id).done < 8; i++) await new Promise((r) => setTimeout(r, 5));
    await ws.close(); // the app quits mid-job
    ws = openWorkspace(file, { resumeJobs: false });
    const stopped = ws.jobs.get(job.id);
    expect(stopped.status).toBe('queued');
    expect(stopped.done).toBeGreaterThanOrEqual(8);
    expect(stopped.done).toBeLessThan(40);
    const kept = ws.db.prepare(`SELECT image_id, created_at FROM embeddings ORDER BY image_id`).all() as {
      image_id: number;
      created_at: number;
    }[];
    expect(kept.length).toBe(stopped.done);
    await ws.close();

    ws = openWorkspace(file); // resumes queued jobs
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 40, total: 40, attempts: 2 });
    expect(countEmbeddings(ws.db, m.id)).toBe(40);
    const after = ws.db
      .prepare(`SELECT image_id, created_at FROM embeddings WHERE image_id <= ? ORDER BY image_id`)
      .all(kept.at(-1)!.image_id);
    expect(after).toEqual(kept); // rows from the first attempt were not rewritten
    await ws.close();
  });
});
