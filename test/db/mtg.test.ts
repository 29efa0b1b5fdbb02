import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { upsertEndpoint } from '../../src/main/db/repos/llm';
import {
  listFailedImagesOfJob,
  listMtgRunsForImage,
  listPromptSets,
  savePromptSet,
} from '../../src/main/db/repos/mtg';
import { createHandlers } from '../../src/main/api/handlers';
import { startImport } from '../../src/main/jobs/import';
import { startMtg } from '../../src/main/jobs/mtg';
import { defaultPromptSetBody } from '../../src/main/pipelines/question-pool';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { DatasetId, ImageId } from '#shared/ids';
import { startFakeOpenAi, type FakeOpenAi } from '../fixtures/fake-openai';
import { imageFolder, requestKey, scriptedAnswer } from '../integration/mtg-helpers';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake.close());

async function workspace(
  n: number,
  opts: { vision?: boolean; corrupt?: number } = {},
): Promise<{ ws: Workspace; datasetId: DatasetId; images: ImageId[] }> {
  const root = await imageFolder(n);
  if (opts.corrupt !== undefined)
    writeFileSync(
      join(root, `p${String(opts.corrupt).padStart(5, '0')}.png`),
      Buffer.from('not a png at all'),
    );
  const ws = openWorkspace(':memory:');
  const { datasetId } = await startImport(ws, { imageRoot: root });
  await ws.jobs.idle();
  // Separate names per test: each endpoint has its own limiter, shared process-wide.
  const name = `fake-${Math.random().toString(36).slice(2, 8)}`;
  upsertEndpoint(ws.db, {
    name,
    baseUrl: fake.url,
    model: 'fake-vl',
    role: 'both',
    temperature: 0.01,
    maxTokens: 64,
    concurrency: 8,
    requestsPerMinute: null,
    timeoutMs: 5000,
    keyRef: { kind: 'none' },
  });
  const images = (ws.db.prepare(`SELECT id FROM images ORDER BY id`).all() as { id: ImageId }[]).map(
    (r) => r.id,
  );
  (ws as Workspace & { endpoint: string }).endpoint = name;
  return { ws, datasetId, images };
}
const ep = (ws: Workspace): string => (ws as Workspace & { endpoint: string }).endpoint;

describe('mtg job', { timeout: 60_000 }, () => {
  it('captions every image once: pending caption, run with its exact prompts, rounds with reasons', async () => {
    fake.onChat = (body) => ({ content: scriptedAnswer(body) });
    const before = fake.chats.length;
    const { ws, datasetId, images } = await workspace(12);
    const { job, images: queued } = startMtg(ws, {
      datasetId,
      vqaEndpoint: ep(ws),
      reconstructorEndpoint: ep(ws),
      rounds: 6,
      redo: false,
    });
    expect(queued).toBe(12);
    await ws.jobs.idle();
    const done = ws.jobs.get(job.id);
    expect(done).toMatchObject({ status: 'done', done: 12, total: 12, issueCount: 0 });
    expect(done.message).toMatch(/\d+ calls \(0 cached\) · \d+ tokens · 0 failed/);

    const captions = ws.db
      .prepare(`SELECT image_id, status, source, text FROM captions WHERE source = 'mtg' ORDER BY image_id`)
      .all() as { image_id: number; status: string; text: string }[];
    expect(captions.map((c) => c.image_id)).toEqual(images);
    expect(new Set(captions.map((c) => c.status))).toEqual(new Set(['pending']));

    const [run] = listMtgRunsForImage(ws.db, images[0]!);
    expect(run).toMatchObject({
      status: 'done',
      jobId: job.id,
      vqa: { model: 'fake-vl' },
      promptSet: { name: 'default', version: 1 },
    });
    expect(run!.rounds).toHaveLength(6);
    expect(run!.initialCaption).toMatch(/^A person in a \w+ jacket\.$/);
    // The person is described by "person" and the jacket settles its type and colour: not asked.
    expect(run!.skipped.map((s) => s.questionId)).toEqual(['top-colour', 'top-type']);
    for (const r of run!.rounds) {
      expect(r.prompt).toContain(r.question);
      if (!r.kept) expect(r.dropReason).not.toBeNull();
      expect(r.llmCallId).not.toBeNull();
    }
    const dropped = run!.rounds.filter((r) => r.answer === 'cannot tell');
    for (const r of dropped) expect(r).toMatchObject({ kept: false, dropReason: 'not_visible' });
    const caption = ws.db.prepare(`SELECT text FROM captions WHERE id = ?`).get(run!.captionId) as {
      text: string;
    };
    expect(caption.text).toBe(`A person described from ${run!.rounds.filter((r) => r.kept).length} answers.`);

    // Every paid call went to the server exactly once, and every one of them is in llm_calls.
    const sent = fake.chats.slice(before).map((c) => requestKey(c.body));
    expect(new Set(sent).size).toBe(sent.length);
    const ok = ws.db.prepare(`SELECT count(*) AS n FROM llm_calls WHERE status = 'ok'`).get() as {
      n: number;
    };
    expect(ok.n).toBe(sent.length);

    // Running it again finds nothing to do; with redo it asks nothing new (all cached) and adds a second caption each.
    expect(() =>
      startMtg(ws, { datasetId, vqaEndpoint: ep(ws), reconstructorEndpoint: ep(ws), rounds: 6, redo: false }),
    ).toThrow(/Nothing to caption/);
    const n = fake.chats.length;
    startMtg(ws, { datasetId, vqaEndpoint: ep(ws), reconstructorEndpoint: ep(ws), rounds: 6, redo: true });
    await ws.jobs.idle();
    expect(fake.chats.length).toBe(n);
    expect(listMtgRunsForImage(ws.db, images[0]!)[0]).toMatchObject({ cachedCalls: run!.calls });
    await ws.close();
  });

  it('records a per-image failure and goes on, ending done-with-failures; a garbled answer is asked again', async () => {
    const seen = new Map<string, number>();
    fake.onChat = (body) => {
      const text = JSON.stringify(body.messages);
      // Only the VQA questions (they carry the image): the first answer to each is garbled, the retry is not.
      const asksAboutImage = text.includes('image_url') && text.includes('What colour are the person');
      const key = requestKey(body);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (asksAboutImage && seen.get(key) === 1) return { body: '{"choices": []}' };
      return { content: scriptedAnswer(body) };
    };
    const { ws, datasetId, images } = await workspace(6);
    // Break one image on disk after import: its bytes are no longer the ones imported (and do not decode).
    const row = ws.db
      .prepare(
        `SELECT d.root, i.rel_path FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE i.id = ?`,
      )
      .get(images[2]) as { root: string; rel_path: string };
    writeFileSync(join(row.root, row.rel_path), Buffer.from('truncated'));
    const { job } = startMtg(ws, {
      datasetId,
      vqaEndpoint: ep(ws),
      reconstructorEndpoint: ep(ws),
      rounds: 6,
      redo: false,
    });
    await ws.jobs.idle();
    const end = ws.jobs.get(job.id);
    expect(end).toMatchObject({ status: 'done-with-failures', done: 6, total: 6, issueCount: 1 });
    expect(end.error).toMatch(/^1 of 6 images failed .*ctgi mtg --retry-failed \d+$/);
    const [issue] = listJobIssues(ws.db, job.id, 10);
    expect(issue!.message).toMatch(/changed on disk since it was imported/);
    expect(listFailedImagesOfJob(ws.db, job.id)).toEqual([images[2]]);
    // Every garbled answer was asked again and its round kept its answer: no round dropped for an error.
    const calls = ws.db
      .prepare(
        `SELECT sum(status = 'error' AND error_kind = 'bad_response' AND attempt = 1) AS garbled,
           sum(status = 'ok' AND attempt = 2) AS retried FROM llm_calls`,
      )
      .get() as { garbled: number; retried: number };
    expect(calls.garbled).toBeGreaterThan(0);
    expect(calls.retried).toBe(calls.garbled);
    const errorRounds = ws.db
      .prepare(`SELECT count(*) AS n FROM qa_rounds WHERE drop_reason = 'error'`)
      .get() as { n: number };
    expect(errorRounds.n).toBe(0);
    expect(
      (ws.db.prepare(`SELECT count(*) AS n FROM captions WHERE source = 'mtg'`).get() as { n: number }).n,
    ).toBe(5);
    await ws.close();
  });

  it('stops with one clear message when the VQA model cannot see images, keeping what was stored', async () => {
    fake.onChat = (body) =>
      JSON.stringify(body.messages).includes('image_url')
        ? {
            status: 400,
            body: {
              object: 'error',
              message: 'fake-vl is not a multimodal model',
              type: 'BadRequestError',
              code: 400,
            },
          }
        : { content: 'ok' };
    const { ws, datasetId } = await workspace(20);
    const { job } = startMtg(ws, {
      datasetId,
      vqaEndpoint: ep(ws),
      reconstructorEndpoint: ep(ws),
      rounds: 6,
      redo: false,
      concurrency: 1,
    });
    await ws.jobs.idle();
    const j = ws.jobs.get(job.id);
    expect(j.status).toBe('failed');
    expect(j.error).toMatch(/does not accept images.*Use a vision model.*resume this job/s);
    expect(j.done).toBe(1);
    await ws.close();
  });

  it('closing the workspace mid-job loses nothing: the job resumes at the next open, asking again only the calls in flight', async () => {
    fake.onChat = (body) => ({ content: scriptedAnswer(body), delayMs: 15 });
    const before = fake.chats.length;
    const root = await imageFolder(40);
    const file = join(mkdtempSync(join(tmpdir(), 'mtg-ws-')), 'ws.sqlite');
    let ws = openWorkspace(file);
    const { datasetId } = await startImport(ws, { imageRoot: root });
    await ws.jobs.idle();
    upsertEndpoint(ws.db, {
      name: 'closing',
      baseUrl: fake.url,
      model: 'fake-vl',
      role: 'both',
      temperature: 0.01,
      maxTokens: 64,
      concurrency: 8,
      requestsPerMinute: null,
      timeoutMs: 5000,
      keyRef: { kind: 'none' },
    });
    const { job } = startMtg(ws, {
      datasetId,
      vqaEndpoint: 'closing',
      reconstructorEndpoint: 'closing',
      rounds: 6,
      redo: false,
    });
    while (ws.jobs.get(job.id).done < 8) await new Promise((r) => setTimeout(r, 10));
    await ws.close();
    ws = openWorkspace(file); // finds the job queued (not failed) and resumes it
    const stored = ws.db.prepare(`SELECT count(*) AS n FROM mtg_runs`).get() as { n: number };
    expect(stored.n).toBeGreaterThanOrEqual(8);
    expect(stored.n).toBeLessThan(40);
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({ status: 'done', done: 40, total: 40, attempts: 2 });
    const perImage = ws.db
      .prepare(`SELECT count(*) AS n FROM captions WHERE source = 'mtg' GROUP BY image_id`)
      .all() as { n: number }[];
    expect(perImage).toHaveLength(40);
    expect(perImage.every((r) => r.n === 1)).toBe(true);
    const sent = fake.chats.slice(before).map((c) => requestKey(c.body));
    const distinct = new Set(sent).size;
    const ok = (
      ws.db.prepare(`SELECT count(*) AS n FROM llm_calls WHERE status = 'ok'`).get() as { n: number }
    ).n;
    // Each answer was paid once; only requests cut off unanswered by the close (≤ concurrency) went out again.
    expect(ok).toBe(distinct);
    expect(sent.length - distinct).toBeLessThanOrEqual(8);
    await ws.close();
  });

  it('prompt sets: the default is stored once, an edit is a new version, equal content is not', async () => {
    const ws = openWorkspace(':memory:');
    const h = createHandlers(ws);
    const [first] = await h['prompts:list']({});
    expect(first).toMatchObject({ name: 'default', version: 1 });
    await h['prompts:list']({});
    expect(listPromptSets(ws.db)).toHaveLength(1);
    const body = defaultPromptSetBody();
    body.templates.initial = 'Describe the pedestrian in detail.';
    const v2 = await h['prompts:save']({ body });
    expect(v2).toMatchObject({ name: 'default', version: 2 });
    expect(savePromptSet(ws.db, { ...body, version: 7 }).id).toBe(v2.id);
    body.pool[0]!.settledBy = ['(bad'];
    await expect(Promise.resolve().then(() => h['prompts:save']({ body }))).rejects.toThrow(
      /not a valid regular expression/,
    );
    await ws.close();
  });
});
