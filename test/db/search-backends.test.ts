// Search through the workspace's vector store on both backends (issue 11 items 1–2): the same workspace,
// embedded once, ranks every query identically (exact mode) whether the memory index or a LanceDB table
// answers; the LanceDB table lives beside the workspace (or in the folder the settings name), follows the
// workspace's vectors when they change, and a broken table is rebuilt from the workspace.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { startEmbed } from '../../src/main/jobs/embed';
import { startImport } from '../../src/main/jobs/import';
import { encodeTexts } from '../../src/main/ml/encoder-pool';
import { registerModel, resolveModelRow } from '../../src/main/ml/models';
import { listEmbeddedImageIds } from '../../src/main/db/repos/embeddings';
import { evaluateRetrieval } from '../../src/main/pipelines/eval';
import {
  backendFor,
  galleryScorer,
  lanceStoreFor,
  scoreImages,
  searchRanked,
} from '../../src/main/search/store-search';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { writeVectorSettings, type VectorFilter } from '../../src/main/vectors';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import type { ClipModel } from '#shared/models/types';
import type { DatasetId } from '#shared/ids';
import { makeWorld } from '../fixtures/world';

process.env.CTGI_ORT_PROVIDER = 'cpu';
const ENV = process.env.CTGI_VECTOR_BACKEND;

let dir: string;
let ws: Workspace;
let model: ClipModel;
let datasetId: DatasetId;
let queries: string[];
let vectors: Float32Array[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctgi-search-backends-'));
  const world = await makeWorld({ identities: 30, views: 2 });
  // Descriptions of people in this world, as an analyst would write them (the toy CLIP knows these words).
  queries = world.truth.identities
    .slice(0, 6)
    .map(
      ({ attributes: p }) =>
        `a ${p.sex} in a ${p.top.colour} ${p.top.type} and ${p.bottom.colour} ${p.bottom.type}`,
    );
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
  const tm = await ws.services.encoders.get(resolveModelRow(ws.db, model.id));
  vectors = (await encodeTexts(tm, queries)).vectors;
}, 120_000);

afterAll(async () => {
  if (ENV === undefined) delete process.env.CTGI_VECTOR_BACKEND;
  else process.env.CTGI_VECTOR_BACKEND = ENV;
  await ws?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.CTGI_VECTOR_BACKEND;
});

/** `ctgi eval`'s figures on the test split through whichever backend the workspace uses now. */
const evaluate = async (): Promise<object> => {
  const { ms: _ms, ...r } = await evaluateRetrieval(ws.db, {
    modelId: model.id,
    split: 'test',
    captionSource: 'any',
    encoders: ws.services.encoders,
    score: galleryScorer(ws.services.vectors),
  });
  return r;
};

const rank = async (
  backend: 'memory' | 'lancedb',
  opts: { datasetId?: DatasetId; filter?: VectorFilter } = {},
): Promise<string[]> => {
  process.env.CTGI_VECTOR_BACKEND = backend;
  const out: string[] = [];
  for (const v of vectors) {
    const hits = await searchRanked(ws.services.vectors, model.id, v!, { k: 25, mode: 'exact', ...opts });
    out.push(hits.map((h) => `${h.imageId}:${h.score.toFixed(5)}`).join(' '));
  }
  return out;
};

describe('search through the vector store', { timeout: 120_000 }, () => {
  it('picks the backend from the setting, by size when automatic, and from $CTGI_VECTOR_BACKEND', () => {
    delete process.env.CTGI_VECTOR_BACKEND;
    expect(backendFor(ws.db, model.id)).toBe('memory'); // 60 vectors, automatic
    writeVectorSettings(ws.db.name, { backend: 'lancedb' });
    expect(backendFor(ws.db, model.id)).toBe('lancedb');
    writeVectorSettings(ws.db.name, { backend: 'auto' });
    process.env.CTGI_VECTOR_BACKEND = 'lancedb';
    expect(backendFor(ws.db, model.id)).toBe('lancedb');
    process.env.CTGI_VECTOR_BACKEND = 'faiss';
    expect(() => backendFor(ws.db, model.id)).toThrow(/must be one of memory, lancedb/);
  });

  it('ranks every query the same on both backends (exact mode), with and without a dataset filter', async () => {
    const memory = await rank('memory');
    const lance = await rank('lancedb');
    expect(lance).toEqual(memory);
    expect(existsSync(`${ws.db.name}.vectors`)).toBe(true);
    expect(await rank('lancedb', { datasetId })).toEqual(await rank('memory', { datasetId }));
  });

  it('keeps the LanceDB table in step with the workspace: deleted vectors disappear from the ranking', async () => {
    process.env.CTGI_VECTOR_BACKEND = 'lancedb';
    const before = await searchRanked(ws.services.vectors, model.id, vectors[0]!, { k: 5, mode: 'exact' });
    const gone = before[0]!.imageId;
    ws.db.prepare('DELETE FROM embeddings WHERE image_id = ? AND model_id = ?').run(gone, model.id);
    const after = await searchRanked(ws.services.vectors, model.id, vectors[0]!, { k: 5, mode: 'exact' });
    expect(after.map((h) => h.imageId)).not.toContain(gone);
    expect(await (await lanceStoreFor(ws.services.vectors, model.id)).count()).toBe(59);
    expect(await rank('lancedb')).toEqual(await rank('memory'));
  });

  it('uses the folder the settings name (another disk), and rebuilds a half-written table there', async () => {
    await ws.services.vectors.close();
    const other = path.join(dir, 'archive-disk');
    writeVectorSettings(ws.db.name, { backend: 'lancedb', folder: other });
    const first = await rank('lancedb');
    expect(existsSync(path.join(other, 'toy.lance'))).toBe(true);
    await ws.services.vectors.close();
    writeFileSync(path.join(other, 'toy.building'), 'killed\n'); // as a SIGKILL during indexing leaves it
    expect(await rank('lancedb')).toEqual(first);
    expect(existsSync(path.join(other, 'toy.building'))).toBe(false);
    writeVectorSettings(ws.db.name, { backend: 'auto' });
  });

  it('filters by split, camera and time inside the search the same way on both backends', async () => {
    const split = ws.db
      .prepare(`SELECT split FROM images WHERE split IS NOT NULL LIMIT 1`)
      .pluck()
      .get() as string;
    const test = await rank('memory', { filter: { split } });
    expect(test[0]!.split(' ').length).toBeGreaterThan(0);
    expect(await rank('lancedb', { filter: { split } })).toEqual(test);
    // Cameras and time name footage crops; this world has none, so nothing is left on either backend.
    for (const filter of [{ cameras: ['c1'] }, { timeFrom: 0 }])
      for (const backend of ['memory', 'lancedb'] as const)
        expect(await rank(backend, { filter })).toEqual(vectors.map(() => ''));
  });

  it('ctgi vectors switches the workspace to LanceDB (copying, not re-embedding) and back', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const file = ws.db.name;
    const folder = path.join(dir, 'cli-tables');
    expect(
      await main(['vectors', '-w', file, '--backend', 'lancedb', '--folder', folder, '--json'], io),
      err.join('\n'),
    ).toBe(0);
    const r = JSON.parse(out.join('\n')) as {
      settings: { backend: string };
      models: { backend: string; vectors: number }[];
    };
    expect(r.settings.backend).toBe('lancedb');
    expect(r.models).toEqual([expect.objectContaining({ model: 'toy', backend: 'lancedb', vectors: 59 })]);
    expect(existsSync(path.join(folder, 'toy.lance'))).toBe(true);
    delete process.env.CTGI_VECTOR_BACKEND;
    expect(backendFor(ws.db, model.id)).toBe('lancedb');
    const viaSetting = [];
    for (const v of vectors)
      viaSetting.push(
        (await searchRanked(ws.services.vectors, model.id, v, { k: 10, mode: 'exact' })).map(
          (h) => h.imageId,
        ),
      );
    // What MTI's re-rank and evaluation read: every score of the gallery, and the evaluation's figures.
    const gallery = listEmbeddedImageIds(ws.db, model.id, null);
    const scoresOnLance = await scoreImages(ws.services.vectors, model.id, vectors, gallery);
    const evalOnLance = await evaluate();
    expect(await main(['vectors', '-w', file, '--backend', 'bogus'], io)).not.toBe(0);
    expect(err.join('\n')).toMatch(/--backend/);
    expect(await main(['vectors', '-w', file, '--backend', 'memory'], io)).toBe(0);
    expect(out.at(-1)).toMatch(/toy: memory, 59 vectors/);
    expect(backendFor(ws.db, model.id)).toBe('memory');
    const inMemory = [];
    for (const v of vectors)
      inMemory.push(
        (await searchRanked(ws.services.vectors, model.id, v, { k: 10, mode: 'exact' })).map(
          (h) => h.imageId,
        ),
      );
    expect(inMemory).toEqual(viaSetting);
    expect(await scoreImages(ws.services.vectors, model.id, vectors, gallery)).toEqual(scoresOnLance);
    expect(await evaluate()).toEqual(evalOnLance);
  });
});
