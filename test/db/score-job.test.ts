// The score job on a real (tiny) CLIP model: it scores every current caption whose image has a vector,
// with the same value the desk computes on view, skips what is already scored, reports captions without
// an image vector once, survives a shutdown mid-run without scoring anything twice, and runs from the CLI.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { insertCaption, insertImage } from '../../src/main/db/repos/images';
import { listJobIssues } from '../../src/main/db/repos/jobs';
import { getCaptionScore } from '../../src/main/db/repos/review';
import type { WritableDb } from '../../src/main/db/types';
import { startEmbed } from '../../src/main/jobs/embed';
import { startScore } from '../../src/main/jobs/score';
import { registerModel } from '../../src/main/ml/models';
import { edit, getItem } from '../../src/main/review/desk';
import { getScoreCoverage } from '../../src/main/db/repos/scores';
import { withScore } from '../../src/main/review/score';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { CaptionStatus } from '#shared/library/types';
import type { CaptionId, DatasetId, ImageId, ModelId } from '#shared/ids';
import { tinyModelFolder } from '../fixtures/clip-tiny';

process.env.CTGI_ORT_PROVIDER = 'cpu';

const COLOURS = ['red', 'purple', 'blue', 'green'];
const STATUSES: CaptionStatus[] = ['pending', 'accepted', 'flagged', 'rejected'];

/** `n` images, each with two captions (statuses cycling), embedded with a registered tiny CLIP. */
async function library(
  ws: Workspace,
  n: number,
): Promise<{ ds: DatasetId; images: ImageId[]; captions: CaptionId[]; model: ModelId }> {
  const root = mkdtempSync(join(tmpdir(), 'score-job-ds-'));
  const ds = insertDataset(ws.db, { name: 'people', format: 'folder', root, annotationFile: null });
  const images: ImageId[] = [];
  const captions: CaptionId[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = await sharp({
      create: {
        width: 30,
        height: 90,
        channels: 3,
        background: { r: (i * 53) % 256, g: 40, b: 200 - ((i * 31) % 200) },
      },
    })
      .png()
      .toBuffer();
    writeFileSync(join(root, `${i}.png`), bytes);
    const img = insertImage(ws.db, {
      datasetId: ds,
      relPath: `${i}.png`,
      sha256: createHash('sha256').update(bytes).digest('hex'), // checked when the encoder reads the file
      width: 30,
      height: 90,
      bytes: bytes.length,
      format: 'png',
      identityId: null,
      camera: null,
      split: null,
    });
    images.push(img);
    for (let k = 0; k < 2; k++) {
      captions.push(
        insertCaption(ws.db, {
          imageId: img,
          source: 'mtg',
          text: `a person in a ${COLOURS[(i + k) % 4]} shirt, view ${i}`,
          status: STATUSES[(i * 2 + k) % 4]!,
        }),
      );
    }
  }
  updateDatasetStatus(ws.db, ds, 'ready');
  const model = await registerModel(ws.db, tinyModelFolder(), 'tiny');
  startEmbed(ws, { modelId: model.id, datasetId: ds });
  await ws.jobs.idle();
  return { ds, images, captions, model: model.id as ModelId };
}

const storedScores = (db: WritableDb, model: ModelId): Map<number, number> =>
  new Map(
    (
      db.prepare(`SELECT caption_id, score FROM caption_scores WHERE model_id = ?`).all(model) as {
        caption_id: number;
        score: number;
      }[]
    ).map((r) => [r.caption_id, r.score]),
  );

describe('score job', { timeout: 120_000 }, () => {
  it('scores every current caption with an image vector, as the desk would, and reports the rest once', async () => {
    const ws = openWorkspace(':memory:');
    const { images, captions, model } = await library(ws, 6);
    // Image 5 has no vector: its two captions cannot be scored.
    ws.db.prepare(`DELETE FROM embeddings WHERE image_id = ?`).run(images[5]);
    // An edit leaves the model's row behind (not current): only the edit is in the queue and gets a score.
    const original = getItem(ws.db, captions[0]!);
    const edited = edit(ws.db, {
      captionId: captions[0]!,
      version: original.caption.version,
      text: 'a person in a long green coat',
      status: 'accepted',
      reviewer: 't',
    });
    // One caption was opened in the desk already: it keeps that score and is not counted again.
    const viewed = await withScore(ws.db, ws.services.encoders, getItem(ws.db, captions[3]!));
    expect(viewed.score).not.toBeNull();
    const current = [edited.caption.id, ...captions.slice(1)];
    const scorable = current.filter((c) => getItem(ws.db, c).image.id !== images[5]);
    expect(getScoreCoverage(ws.db, {})).toEqual({
      model: { id: model, name: 'tiny' },
      total: 12,
      scored: 1,
      withoutVector: 2,
    });

    const started = startScore(ws, {});
    expect(started).toMatchObject({ toScore: scorable.length - 1, withoutVector: 2 });
    // Asked again while it runs: the same job, not a second one.
    expect(startScore(ws, {}).job.id).toBe(started.job.id);
    await ws.jobs.idle();
    const job = ws.jobs.get(started.job.id);
    expect(job).toMatchObject({
      kind: 'score',
      status: 'done',
      done: scorable.length - 1,
      total: scorable.length - 1,
      issueCount: 1,
    });
    expect(listJobIssues(ws.db, job.id, 10)).toEqual([
      {
        severity: 'warning',
        item: '2 captions',
        message: expect.stringMatching(/no vector from model "tiny".*ctgi embed --model tiny/),
      },
    ]);

    const scores = storedScores(ws.db, model);
    expect([...scores.keys()].sort((a, b) => a - b)).toEqual([...scorable].sort((a, b) => a - b));
    expect(scores.get(captions[3]!)).toBe(viewed.score!.value);
    expect(getCaptionScore(ws.db, captions[0]!, model)).toBeUndefined(); // the edited-away row
    expect(getScoreCoverage(ws.db, {})).toMatchObject({
      total: 12,
      scored: scorable.length,
      withoutVector: 2,
    });
    // The scores differ by caption, and the queue's score filter now sees every scored caption.
    expect(new Set([...scores.values()].map((v) => v.toFixed(6))).size).toBeGreaterThan(3);

    // Each one equals what the desk computes for that caption on its own.
    ws.db.prepare(`DELETE FROM caption_scores`).run();
    for (const c of scorable) {
      const desk = await withScore(ws.db, ws.services.encoders, getItem(ws.db, c));
      expect(desk.score?.value).toBeCloseTo(scores.get(c)!, 6);
    }
    await ws.close();
  });

  it('scores only the statuses and dataset asked for', async () => {
    const ws = openWorkspace(':memory:');
    const { ds, captions, model } = await library(ws, 4);
    const { job } = startScore(ws, { modelId: model, datasetId: ds, statuses: ['flagged', 'rejected'] });
    await ws.jobs.idle();
    const flaggedOrRejected = captions.filter((c) =>
      ['flagged', 'rejected'].includes(getItem(ws.db, c).caption.status),
    );
    expect(ws.jobs.get(job.id)).toMatchObject({
      status: 'done',
      done: flaggedOrRejected.length,
      issueCount: 0,
    });
    expect([...storedScores(ws.db, model).keys()].sort()).toEqual(flaggedOrRejected.sort());
    expect(() => startScore(ws, { datasetId: 99 as DatasetId })).toThrow(/Dataset 99/);
    await ws.close();
  });

  it('says what to do when no model has embedded anything', () => {
    const ws = openWorkspace(':memory:');
    expect(() => startScore(ws, {})).toThrow(/Register a model .* embed the images/);
    expect(getScoreCoverage(ws.db, {})).toEqual({ model: null, total: 0, scored: 0, withoutVector: 0 });
    return ws.close();
  });

  it('resumes after a shutdown from its cursor without scoring anything twice', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'score-job-ws-')), 'w.sqlite');
    let ws = openWorkspace(file);
    const { model } = await library(ws, 150);
    const job = ws.jobs.enqueue('score', { modelId: model, batchSize: 4 });
    for (let i = 0; i < 4000 && ws.jobs.get(job.id).done < 8; i++) await new Promise((r) => setTimeout(r, 2));
    await ws.close(); // the app quits mid-job
    ws = openWorkspace(file, { resumeJobs: false });
    const stopped = ws.jobs.get(job.id);
    expect(stopped.status).toBe('queued');
    expect(stopped.done).toBeGreaterThanOrEqual(8);
    expect(stopped.done).toBeLessThan(300);
    const kept = ws.db
      .prepare(`SELECT caption_id, score, created_at FROM caption_scores ORDER BY caption_id`)
      .all() as { caption_id: number }[];
    // Scores and cursor were written together: exactly the counted captions have a score.
    expect(kept.length).toBe(stopped.done);
    await ws.close();

    ws = openWorkspace(file); // resumes queued jobs
    await ws.jobs.idle();
    expect(ws.jobs.get(job.id)).toMatchObject({
      status: 'done',
      done: 300,
      total: 300,
      attempts: 2,
      issueCount: 0,
    });
    expect(storedScores(ws.db, model).size).toBe(300);
    const after = ws.db
      .prepare(
        `SELECT caption_id, score, created_at FROM caption_scores WHERE caption_id <= ? ORDER BY caption_id`,
      )
      .all(kept.at(-1)!.caption_id);
    expect(after).toEqual(kept); // rows from the first attempt were not rewritten
    await ws.close();
  });

  it('runs from the CLI in the foreground and reports what it did', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'score-job-cli-')), 'w.sqlite');
    const ws = openWorkspace(file);
    const { images, model } = await library(ws, 5);
    ws.db.prepare(`DELETE FROM embeddings WHERE image_id = ?`).run(images[0]);
    await ws.close();
    const ctgi = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['score', '--workspace', file, ...args], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    const first = await ctgi('--model', 'tiny');
    expect(first.code).toBe(0);
    expect(first.err).toContain(
      'Scoring 8 captions with "tiny" (2 more have no image vector: ctgi embed --model tiny)',
    );
    expect(first.out).toMatch(
      /^Score #\d+ done: 8\/8 captions \(8 captions scored with "tiny"; 2 captions without an image vector skipped\)\./,
    );
    expect(first.out).toMatch(/1 issue:\n {2}warning 2 captions: not scored: their images have no vector/);
    // Again: nothing new to score.
    const again = JSON.parse((await ctgi('--model', 'tiny', '--json')).out) as {
      job: { status: string; done: number; total: number };
    };
    expect(again.job).toMatchObject({ status: 'done', done: 0, total: 0 });
    expect(await ctgi('--model', 'nope')).toMatchObject({
      code: 2,
      err: expect.stringContaining('No model "nope" is registered'),
    });

    const check = openWorkspace(file, { resumeJobs: false });
    expect(storedScores(check.db, model).size).toBe(8);
    await check.close();
  });
});
