// Text search end to end on the synthetic world: the toy CLIP's text tower encodes the query, the search
// service ranks the embedded gallery, and the answer carries the images with their rank and score.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, dispatch } from '../../src/main/api/handlers';
import { AppError } from '../../src/main/errors';
import { startEmbed } from '../../src/main/jobs/embed';
import { startImport } from '../../src/main/jobs/import';
import { registerModel } from '../../src/main/ml/models';
import { queryTokens, searchText } from '../../src/main/search/text-search';
import type { PersonAttributes } from '../../src/main/pipelines/attributes';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { ClipModel } from '#shared/models/types';
import type { EvalReport } from '#shared/eval/types';
import type { QueryTokens, TextSearchResult } from '#shared/search/types';
import type { DatasetId } from '#shared/ids';
import { makeWorld, type WorldFixture } from '../fixtures/world';
import { describeOnBothBackends } from '../fixtures/backends';

process.env.CTGI_ORT_PROVIDER = 'cpu';

let dir: string;
let world: WorldFixture;
let ws: Workspace;
let model: ClipModel;
let datasetId: DatasetId;
/** Person id (as the library stores it) → attributes. */
let truth: Map<string, PersonAttributes>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctgi-text-search-'));
  world = await makeWorld({ identities: 30, views: 2 });
  ws = openWorkspace(path.join(dir, 'ws.sqlite'));
  ({ datasetId } = await startImport(ws, {
    imageRoot: world.imageRoot,
    annotationFile: path.join(world.dir, 'data_captions.json'),
  }));
  await ws.jobs.idle();
  const clip = await writeToyClipFolder(path.join(dir, 'toy-clip'));
  model = await registerModel(ws.db, clip.dir, 'toy');
  startEmbed(ws, { modelId: model.id });
  await ws.jobs.idle();
  truth = new Map(world.truth.identities.map((p) => [String(p.personId), p.attributes]));
}, 120_000);

afterAll(async () => {
  await ws?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeOnBothBackends('text search', { timeout: 60_000 }, (_backend, record) => {
  it('ranks people who wear what the query says above those who do not', async () => {
    // A query about someone who is in this world: their top and bottom, as an analyst would say it.
    const p = world.truth.identities.find((i) => i.attributes.bottom.type !== 'skirt')!.attributes;
    const query = `a ${p.sex} in a ${p.top.colour} ${p.top.type} and ${p.bottom.colour} ${p.bottom.type}`;
    const r = await searchText(ws, { modelId: model.id, query, k: 20 });
    expect(r).toMatchObject({
      modelId: model.id,
      contextLength: 77,
      truncated: false,
      unembedded: 0,
      provider: 'cpu',
    });
    expect(r.count).toBeGreaterThan(8);
    expect(r.results).toHaveLength(20);
    expect(r.results.map((h) => h.rank)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (let i = 1; i < r.results.length; i++)
      expect(r.results[i]!.score).toBeLessThanOrEqual(r.results[i - 1]!.score);

    const top = r.results[0]!;
    expect(top.image.datasetId).toBe(datasetId);
    const attrs = truth.get(top.image.personId!)!;
    expect(attrs.top.colour).toBe(p.top.colour);
    expect(attrs.bottom.colour).toBe(p.bottom.colour);
    // Everyone in that top and bottom colour outranks everyone in neither.
    const all = await searchText(ws, { modelId: model.id, query, k: 1000 });
    expect(all.results).toHaveLength(world.truth.images.length);
    const of = (id: string | null): PersonAttributes => truth.get(id!)!;
    const both = all.results.filter(
      (h) =>
        of(h.image.personId).top.colour === p.top.colour &&
        of(h.image.personId).bottom.colour === p.bottom.colour,
    );
    const neither = all.results.filter(
      (h) =>
        of(h.image.personId).top.colour !== p.top.colour &&
        of(h.image.personId).bottom.colour !== p.bottom.colour,
    );
    expect(both.length).toBeGreaterThan(0);
    expect(neither.length).toBeGreaterThan(0);
    expect(Math.max(...both.map((h) => h.rank))).toBeLessThan(Math.min(...neither.map((h) => h.rank)));
    const exact = await searchText(ws, { modelId: model.id, query, k: 1000, mode: 'exact' });
    record(
      query,
      exact.results.map((h) => [h.image.id, h.score]),
    );
  });

  it('restricts to one dataset and says so when a dataset does not exist', async () => {
    const r = await searchText(ws, { modelId: model.id, query: 'blue jeans', k: 5, datasetId });
    expect(r.results.every((h) => h.image.datasetId === datasetId)).toBe(true);
    await expect(
      searchText(ws, { modelId: model.id, query: 'blue jeans', datasetId: 999 as DatasetId }),
    ).rejects.toThrow(/Dataset 999/);
    const exact = await searchText(ws, {
      modelId: model.id,
      query: 'blue jeans',
      k: 30,
      datasetId,
      mode: 'exact',
    });
    record(
      'blue jeans in the dataset',
      exact.results.map((h) => [h.image.id, h.score]),
    );
  });
});

describe('text search', { timeout: 60_000 }, () => {
  it('counts tokens against the model context and flags a query the model cannot read to the end', async () => {
    expect(queryTokens(ws.db, model.id, 'a photo of a cat')).toEqual({
      count: 7,
      contextLength: 77,
      truncated: false,
    });
    const long = Array.from({ length: 30 }, (_, i) => (i % 2 ? 'red shirt' : 'blue jeans')).join(' and ');
    const t = queryTokens(ws.db, model.id, long);
    expect(t.count).toBeGreaterThan(77);
    expect(t.truncated).toBe(true);
    const r = await searchText(ws, { modelId: model.id, query: long, k: 3 });
    expect(r).toMatchObject({ truncated: true, count: t.count });
    expect(r.results).toHaveLength(3);
  });

  it('refuses an empty query with what to do instead', async () => {
    const err = await searchText(ws, { modelId: model.id, query: '   ' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/Type a description/);
  });

  it('answers "nothing embedded yet" with the number of images to embed instead of failing', async () => {
    const other = await registerModel(ws.db, path.join(dir, 'toy-clip'), 'toy, not embedded');
    const r = await searchText(ws, { modelId: other.id, query: 'red t-shirt' });
    expect(r.results).toEqual([]);
    expect(r.unembedded).toBe(world.truth.images.length);
  });

  it('answers search:text, search:tokens and eval:run through the API, validating their arguments', async () => {
    const h = createHandlers(ws);
    const r = await dispatch(h, 'search:text', { modelId: model.id, query: 'red t-shirt', k: 4 });
    expect(r.ok).toBe(true);
    expect((r as { value: TextSearchResult }).value.results).toHaveLength(4);
    const t = await dispatch(h, 'search:tokens', { modelId: model.id, query: 'red t-shirt' });
    expect((t as { value: QueryTokens }).value).toEqual({ count: 6, contextLength: 77, truncated: false });
    const bad = await dispatch(h, 'search:text', { modelId: model.id, query: 'x', k: 0 });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(/^Invalid argument to search:text: k/) },
    });
    const missing = await dispatch(h, 'search:text', { modelId: 999, query: 'x' });
    expect(missing).toMatchObject({
      ok: false,
      error: {
        code: 'not_found',
        message: expect.stringMatching(/No model "999" is registered\. Registered: 1 "toy"/),
      },
    });
    const e = await dispatch(h, 'eval:run', { modelId: model.id });
    expect(e.ok).toBe(true);
    const report = (e as { value: EvalReport }).value;
    expect(report).toMatchObject({ split: 'test', queryKind: 'captions' });
    expect(report.gallery).toBe(world.truth.images.filter((i) => i.split === 'test').length);
  });

  it('keeps one warm text tower per model, reopens it after a crash, and closes it with the workspace', async () => {
    const pool = ws.services.encoders;
    const row = ws.db.prepare('SELECT * FROM models WHERE id = ?').get(model.id) as Parameters<
      typeof pool.get
    >[0];
    const first = await pool.get(row);
    await searchText(ws, { modelId: model.id, query: 'green hoodie' });
    expect(await pool.get(row)).toBe(first);

    first.encoder.simulateCrash();
    await expect.poll(() => first.encoder.alive).toBe(false);
    const r = await searchText(ws, { modelId: model.id, query: 'green hoodie', k: 1 });
    expect(r.results).toHaveLength(1);
    const second = await pool.get(row);
    expect(second).not.toBe(first);
    expect(second.encoder.alive).toBe(true);

    const other = openWorkspace(path.join(dir, 'ws.sqlite'), { resumeJobs: false });
    const theirs = await searchText(other, { modelId: model.id, query: 'green hoodie', k: 1 });
    expect(theirs.results[0]!.image.id).toBe(r.results[0]!.image.id);
    const tower = await other.services.encoders.get(row);
    await other.close();
    expect(tower.encoder.alive).toBe(false);
  });

  it('reads the tokenizer the model folder names', () => {
    // The toy CLIP ships no tokenizer file, so the bundled vocabulary is used (and recorded at registration).
    expect(model.tokenizer).toMatch(/bundled/);
    expect(readFileSync(path.join(dir, 'toy-clip', 'ctgi-model.json'), 'utf8')).toContain(
      '"contextLength": 77',
    );
  });
});
