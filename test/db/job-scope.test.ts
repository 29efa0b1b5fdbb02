// A job's scope is fixed when it is queued (issue 12.1): images imported or added after that — while it
// runs, or while it waits to be resumed after a crash — are not taken in, its total is the scope's size,
// and it pays for the calls of its own images only. One mechanism (job_images, written by the runner in
// the transaction that inserts the job) for MTG, embed, score, export and eval-mti (in eval-mti-queries).
import { asWritableDb } from '../../src/main/db/types';
import sharp from 'sharp';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/main/db/migrate';
import { migrations } from '../../src/main/db/migrations';
import { getDatasetRow } from '../../src/main/db/repos/datasets';
import { upsertEmbedding } from '../../src/main/db/repos/embeddings';
import { insertCaption, insertImage } from '../../src/main/db/repos/images';
import { countJobImages, getJobRow } from '../../src/main/db/repos/jobs';
import { upsertEndpoint } from '../../src/main/db/repos/llm';
import { startEmbed } from '../../src/main/jobs/embed';
import { startExport } from '../../src/main/jobs/export';
import { startImport } from '../../src/main/jobs/import';
import { startMtg } from '../../src/main/jobs/mtg';
import { registerModel } from '../../src/main/ml/models';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { CaptionStatus } from '#shared/library/types';
import type { DatasetId, ImageId, ModelId } from '#shared/ids';
import { tinyModelFolder } from '../fixtures/clip-tiny';
import { startFakeOpenAi, type FakeOpenAi } from '../fixtures/fake-openai';
import { imageFolder, requestKey, scriptedAnswer } from '../integration/mtg-helpers';

process.env.CTGI_ORT_PROVIDER = 'cpu';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake.close());

let added = 0;
/**
 * `n` new image files in the dataset's folder, and a function that adds their rows at once (synchronously,
 * so a test can add them right after queuing a job, before the job reads anything): images that arrive
 * after a job started.
 */
async function lateImages(
  ws: Workspace,
  datasetId: DatasetId,
  n: number,
  extra: { caption?: CaptionStatus; vectorFrom?: ModelId } = {},
): Promise<() => ImageId[]> {
  const root = getDatasetRow(ws.db, datasetId)!.root;
  const files: { rel: string; bytes: number; k: number }[] = [];
  for (let i = 0; i < n; i++) {
    const k = added++;
    const bytes = await sharp({
      create: { width: 16, height: 32, channels: 3, background: { r: 250, g: k % 256, b: 7 } },
    })
      .png()
      .toBuffer();
    const rel = `late-${k}.png`;
    writeFileSync(join(root, rel), bytes);
    files.push({ rel, bytes: bytes.length, k });
  }
  return () =>
    files.map((f) => {
      const id = insertImage(ws.db, {
        datasetId,
        relPath: f.rel,
        sha256: `late-${f.k}`,
        width: 16,
        height: 32,
        bytes: f.bytes,
        format: 'png',
        identityId: null,
        camera: null,
        split: null,
      });
      if (extra.caption)
        insertCaption(ws.db, { imageId: id, source: 'human', text: 'a late person', status: extra.caption });
      if (extra.vectorFrom)
        upsertEmbedding(ws.db, extra.vectorFrom, id, Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]));
      return id;
    });
}

function endpoint(ws: Workspace): string {
  const name = `scope-${Math.random().toString(36).slice(2, 8)}`;
  upsertEndpoint(ws.db, {
    name,
    baseUrl: fake.url,
    model: 'fake-vl',
    role: 'both',
    temperature: 0.01,
    maxTokens: 64,
    concurrency: 4,
    requestsPerMinute: null,
    timeoutMs: 10_000,
    keyRef: { kind: 'none' },
  });
  return name;
}

const count = (ws: Workspace, sql: string, ...args: unknown[]): number =>
  (ws.db.prepare(sql).get(...args) as { n: number }).n;

describe('migration 10: job scope and the new statuses', () => {
  it('keeps every job, issue, run and result row through the rebuild of jobs, with keys still enforced', () => {
    const db = asWritableDb(new Database(':memory:'));
    db.pragma('foreign_keys = ON');
    migrate(db, migrations.slice(0, 9), null);
    db.exec(`
      INSERT INTO datasets (id, name, format, root, status, created_at) VALUES (1, 'd', 'folder', '/x', 'ready', 1);
      INSERT INTO images (id, dataset_id, rel_path, sha256, width, height, bytes, format, created_at)
        VALUES (1, 1, 'a.png', 's', 1, 1, 1, 'png', 1);
      INSERT INTO jobs (id, kind, title, params, status, done, total, owner, heartbeat_at, attempts, created_at, updated_at)
        VALUES (7, 'mtg', 'old', '{"datasetId":1}', 'cancelled', 3, 9, NULL, NULL, 2, 1, 1);
      INSERT INTO job_issues (job_id, severity, item, message, created_at) VALUES (7, 'error', 'a.png', 'bad', 1);
      INSERT INTO prompt_sets (id, name, version, sha256, body, created_at) VALUES (1, 'p', 1, 'h', '{}', 1);
      INSERT INTO mtg_runs (image_id, job_id, prompt_set_id, status, error, vqa_endpoint, vqa_model, reconstructor_endpoint,
          reconstructor_model, params, skipped, calls, cached_calls, elapsed_ms, created_at)
        VALUES (1, 7, 1, 'failed', 'unreadable', 'e', 'm', 'e', 'm', '{}', '[]', 0, 0, 0, 1);
    `);
    migrate(db, migrations, null);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.prepare(`SELECT id, status, done, total, attempts, scoped FROM jobs`).all()).toEqual([
      { id: 7, status: 'cancelled', done: 3, total: 9, attempts: 2, scoped: 0 },
    ]);
    expect(db.prepare(`SELECT count(*) AS n FROM job_issues WHERE job_id = 7`).get()).toEqual({ n: 1 });
    expect(db.prepare(`SELECT job_id FROM mtg_runs`).all()).toEqual([{ job_id: 7 }]);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // The new statuses are accepted, others still refused; references to jobs are still checked.
    db.prepare(`UPDATE jobs SET status = 'paused' WHERE id = 7`).run();
    db.prepare(`UPDATE jobs SET status = 'done-with-failures' WHERE id = 7`).run();
    expect(() => db.prepare(`UPDATE jobs SET status = 'finished' WHERE id = 7`).run()).toThrow(/CHECK/);
    expect(() =>
      db
        .prepare(
          `INSERT INTO job_issues (job_id, severity, item, message, created_at) VALUES (99, 'error', 'x', 'y', 1)`,
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    // A scope row goes with its image, and with its job.
    db.prepare(`INSERT INTO job_images (job_id, image_id) VALUES (7, 1)`).run();
    db.prepare(`DELETE FROM images WHERE id = 1`).run();
    expect(db.prepare(`SELECT count(*) AS n FROM job_images`).get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('a job covers the images it was queued for', { timeout: 60_000 }, () => {
  it('MTG over all images: a dataset imported while it runs is not captioned, and is not paid for', async () => {
    const ws = openWorkspace(':memory:');
    await startImport(ws, { imageRoot: await imageFolder(10, 'scope-a-') });
    await ws.jobs.idle();
    const ep = endpoint(ws);
    // Answers wait until the second import is in, so the job is still walking its images when it lands.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    fake.onChat = (body) => {
      sent.push(requestKey(body));
      return { content: scriptedAnswer(body), after: gate };
    };
    const { job, images } = startMtg(ws, {
      vqaEndpoint: ep,
      reconstructorEndpoint: ep,
      rounds: 3,
      redo: false,
    });
    expect(images).toBe(10);
    expect(job.title).toBe('MTG captions for all images, 3 rounds');
    await startImport(ws, { imageRoot: await imageFolder(7, 'scope-b-') });
    while (count(ws, `SELECT count(*) AS n FROM images`) < 17) await new Promise((r) => setTimeout(r, 10));
    release();
    await ws.jobs.idle();

    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 10, total: 10 });
    expect(count(ws, `SELECT count(*) AS n FROM mtg_runs WHERE job_id = ?`, job.id)).toBe(10);
    expect(count(ws, `SELECT count(DISTINCT image_id) AS n FROM captions WHERE source = 'mtg'`)).toBe(10);
    expect(
      count(
        ws,
        `SELECT count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = 2`,
      ),
    ).toBe(0);
    // What the server answered is exactly what the job's runs paid for.
    const paid = count(ws, `SELECT sum(calls) AS n FROM mtg_runs WHERE job_id = ?`, job.id);
    expect(sent.length).toBe(paid);
    expect(count(ws, `SELECT count(*) AS n FROM llm_calls WHERE status = 'ok'`)).toBe(paid);
    await ws.close();
  });

  it('MTG over a dataset: images added while it waits to resume after a crash are left alone', async () => {
    fake.onChat = (body) => ({ content: scriptedAnswer(body), delayMs: 10 });
    const file = join(mkdtempSync(join(tmpdir(), 'scope-ws-')), 'ws.sqlite');
    let ws = openWorkspace(file);
    const { datasetId } = await startImport(ws, { imageRoot: await imageFolder(24, 'scope-c-') });
    await ws.jobs.idle();
    const ep = endpoint(ws);
    const { job } = startMtg(ws, {
      datasetId,
      vqaEndpoint: ep,
      reconstructorEndpoint: ep,
      rounds: 3,
      redo: false,
    });
    while (ws.jobs.get(job.id).done < 4) await new Promise((r) => setTimeout(r, 5));
    await ws.close(); // the job stays queued, to resume at the next open
    ws = openWorkspace(file, { resumeJobs: false });
    const late = (await lateImages(ws, datasetId, 5))();
    await ws.close();

    ws = openWorkspace(file); // resumes the job
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 24, total: 24, attempts: 2 });
    expect(count(ws, `SELECT count(*) AS n FROM job_images WHERE job_id = ?`, job.id)).toBe(24);
    const lateRuns = count(ws, `SELECT count(*) AS n FROM mtg_runs WHERE image_id IN (${late.join(',')})`);
    expect(lateRuns).toBe(0);
    expect(count(ws, `SELECT count(*) AS n FROM captions WHERE source = 'mtg'`)).toBe(24);
    await ws.close();
  });

  it('MTG over chosen images keeps the list as its scope, not in its parameters', async () => {
    fake.onChat = (body) => ({ content: scriptedAnswer(body) });
    const ws = openWorkspace(':memory:');
    await startImport(ws, { imageRoot: await imageFolder(6, 'scope-d-') });
    await ws.jobs.idle();
    const ep = endpoint(ws);
    const chosen = [2, 4, 5] as ImageId[];
    const { job, images } = startMtg(ws, {
      imageIds: chosen,
      vqaEndpoint: ep,
      reconstructorEndpoint: ep,
      rounds: 2,
      redo: false,
    });
    expect(images).toBe(3);
    expect(job.title).toBe('MTG captions for 3 images, 2 rounds');
    expect(JSON.parse(getJobRow(ws.db, job.id)!.params)).not.toHaveProperty('imageIds');
    expect(countJobImages(ws.db, job.id)).toBe(3);
    await ws.jobs.idle();
    const captioned = ws.db
      .prepare(`SELECT image_id FROM captions WHERE source = 'mtg' ORDER BY image_id`)
      .pluck()
      .all();
    expect(captioned).toEqual(chosen);
    await ws.close();
  });

  it('a job queued before scopes existed gets its scope when it next runs', async () => {
    fake.onChat = (body) => ({ content: scriptedAnswer(body) });
    const ws = openWorkspace(':memory:');
    const { datasetId } = await startImport(ws, { imageRoot: await imageFolder(4, 'scope-e-') });
    await ws.jobs.idle();
    const ep = endpoint(ws);
    // As an older version stored it: chosen images in the parameters, no scope rows.
    const { job } = startMtg(ws, {
      datasetId,
      vqaEndpoint: ep,
      reconstructorEndpoint: ep,
      rounds: 2,
      redo: false,
    });
    await ws.jobs.pause(job.id);
    ws.db.prepare(`DELETE FROM job_images WHERE job_id = ?`).run(job.id);
    ws.db
      .prepare(
        `UPDATE jobs SET scoped = 0, params = json_set(params, '$.imageIds', json('[1,3]')) WHERE id = ?`,
      )
      .run(job.id);
    ws.jobs.resume(job.id);
    await ws.jobs.idle();
    expect(getJobRow(ws.db, job.id)).toMatchObject({ status: 'done', scoped: 1 });
    expect(countJobImages(ws.db, job.id)).toBe(2);
    await ws.close();
  });

  it('embed: images added after it was queued are not embedded', async () => {
    const ws = openWorkspace(':memory:');
    const { datasetId } = await startImport(ws, { imageRoot: await imageFolder(5, 'scope-f-') });
    await ws.jobs.idle();
    const model = await registerModel(ws.db, tinyModelFolder(), 'tiny');
    const addLate = await lateImages(ws, datasetId, 3);
    // One image per batch, so the job reads the library again after every image.
    const job = ws.jobs.enqueue('embed', { modelId: model.id, datasetId, batchSize: 1 });
    const late = addLate();
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 5, total: 5 });
    expect(count(ws, `SELECT count(*) AS n FROM embeddings WHERE image_id IN (${late.join(',')})`)).toBe(0);
    expect(count(ws, `SELECT count(*) AS n FROM embeddings`)).toBe(5);
    await ws.close();
  });

  it('score: captions of images added after it was queued are not scored', async () => {
    const ws = openWorkspace(':memory:');
    const { datasetId } = await startImport(ws, { imageRoot: await imageFolder(4, 'scope-g-') });
    await ws.jobs.idle();
    const model = await registerModel(ws.db, tinyModelFolder(), 'tiny');
    startEmbed(ws, { modelId: model.id, datasetId });
    await ws.jobs.idle();
    for (let i = 1; i <= 4; i++)
      insertCaption(ws.db, {
        imageId: i as ImageId,
        source: 'human',
        text: 'a person in red',
        status: 'pending',
      });
    const addLate = await lateImages(ws, datasetId, 2, {
      caption: 'pending',
      vectorFrom: model.id as ModelId,
    });
    // One caption per batch, so the job reads the captions again after every one.
    const job = ws.jobs.enqueue('score', { modelId: model.id, datasetId, batchSize: 1 });
    const late = addLate();
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 4, total: 4 });
    expect(
      count(
        ws,
        `SELECT count(*) AS n FROM caption_scores s JOIN captions c ON c.id = s.caption_id WHERE c.image_id IN (${late.join(',')})`,
      ),
    ).toBe(0);
    await ws.close();
  });

  it('export: images accepted after it was queued are not in the files', async () => {
    const ws = openWorkspace(':memory:');
    const { datasetId } = await startImport(ws, { imageRoot: await imageFolder(3, 'scope-h-') });
    await ws.jobs.idle();
    for (let i = 1; i <= 3; i++)
      insertCaption(ws.db, {
        imageId: i as ImageId,
        source: 'human',
        text: `person ${i}`,
        status: 'accepted',
      });
    const out = join(mkdtempSync(join(tmpdir(), 'scope-out-')), 'export');
    const addLate = await lateImages(ws, datasetId, 2, { caption: 'accepted' });
    const { job, images } = startExport(ws, {
      outDir: out,
      format: 'jsonl',
      images: 'reference',
      splitRatios: { train: 1, val: 0, test: 0 },
      seed: 1,
      overwrite: false,
    });
    expect(images).toBe(3);
    addLate();
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id).status).toBe('done');
    const lines = readFileSync(join(out, 'captions.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).not.toContain('a late person');
    await ws.close();
  });
});
