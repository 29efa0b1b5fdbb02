// The vector store contract, one suite run against both backends (issue 11 item 1): upsert/delete/count,
// exact top-K with every filter equal to a brute-force reference, switching backends keeps every ranking,
// and a table from another model/dimension, a half-written table and a missing folder are refused clearly.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  copyStore,
  LANCE_INDEX_FROM,
  LanceVectorStore,
  matchesFilter,
  openStore,
  type VectorBackend,
  type VectorFilter,
  type VectorRow,
  type VectorStore,
} from '../../src/main/vectors';

const DIM = 16;
const ID = { modelKey: 'toy#abc', dim: DIM };
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vstore-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}
function unit(r: () => number): Float32Array {
  const v = new Float32Array(DIM);
  let ss = 0;
  for (let j = 0; j < DIM; j++) ss += (v[j] = r() * 2 - 1) ** 2;
  for (let j = 0; j < DIM; j++) v[j]! /= Math.sqrt(ss);
  return v;
}
function makeRows(n: number, seed = 1): VectorRow[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    imageId: 10 + i * 3,
    view: 0,
    datasetId: 1 + (i % 3),
    camera: i % 5 === 0 ? null : `cam${i % 4}`,
    time: i % 7 === 0 ? null : 1_700_000_000_000 + i * 1000,
    split: (['train', 'val', 'test', null] as const)[i % 4]!,
    vector: unit(r),
  }));
}
/**
 * `rows` and two views (rows 1 and 2 of the same image, with its columns) of every third image, as the
 * footage crops have: the views' vectors are other random directions, so a view often beats its image.
 */
function withViews(rows: VectorRow[], seed = 2): VectorRow[] {
  const r = rng(seed);
  return rows.flatMap((row, i) =>
    i % 3 === 0 ? [row, { ...row, view: 1, vector: unit(r) }, { ...row, view: 2, vector: unit(r) }] : [row],
  );
}
const dot = (v: Float32Array, q: Float32Array): number => v.reduce((a, x, j) => a + x * q[j]!, 0);
/** Each image's best score over its rows. */
function bestScores(rows: VectorRow[], q: Float32Array, f?: VectorFilter): Map<number, number> {
  const best = new Map<number, number>();
  for (const r of rows.filter((x) => matchesFilter(x, f)))
    best.set(r.imageId, Math.max(best.get(r.imageId) ?? -Infinity, dot(r.vector, q)));
  return best;
}
/** Brute force: images by their best row, ties by image id. */
function reference(rows: VectorRow[], q: Float32Array, k: number, f?: VectorFilter): number[] {
  return [...bestScores(rows, q, f)]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, k)
    .map(([id]) => id);
}
const open = (backend: VectorBackend, folder = tmp(), id = ID): Promise<VectorStore> =>
  openStore({ backend, identity: id, folder, table: 'toy' });

const FILTERS: [string, VectorFilter | undefined][] = [
  ['no filter', undefined],
  ['one dataset', { datasetIds: [2] }],
  ['two cameras', { cameras: ['cam1', 'cam3'] }],
  ['a time range', { timeFrom: 1_700_000_100_000, timeTo: 1_700_000_400_000 }],
  ['a split', { split: 'test' }],
  ['all together', { datasetIds: [1, 3], cameras: ['cam2'], timeFrom: 1_700_000_050_000, split: 'val' }],
];

for (const backend of ['memory', 'lancedb'] as const) {
  describe(`vector store: ${backend}`, { timeout: 60_000 }, () => {
    it('ranks exactly like a brute-force scan, with every filter applied inside the search', async () => {
      const rows = makeRows(600);
      const s = await open(backend);
      await s.upsert(rows);
      await s.finish();
      expect(await s.count()).toBe(600);
      const r = rng(99);
      for (const [, f] of FILTERS) {
        expect(await s.count(f)).toBe(rows.filter((x) => matchesFilter(x, f)).length);
        for (let t = 0; t < 3; t++) {
          const q = unit(r);
          const hits = await s.search(q, 10, { filter: f, exact: true });
          expect(hits.map((h) => h.imageId)).toEqual(reference(rows, q, 10, f));
          for (const h of hits) {
            const v = rows.find((x) => x.imageId === h.imageId)!.vector;
            expect(h.score).toBeCloseTo(
              v.reduce((a, x, j) => a + x * q[j]!, 0),
              5,
            );
          }
        }
      }
      await s.close();
    });

    it('replaces rows on upsert and forgets deleted ones', async () => {
      const rows = makeRows(50);
      const s = await open(backend);
      await s.upsert(rows);
      const q = rows[7]!.vector;
      expect((await s.search(q, 1, { exact: true }))[0]!.imageId).toBe(rows[7]!.imageId);
      await s.upsert([{ ...rows[7]!, vector: rows[8]!.vector, datasetId: 3 }]);
      expect(await s.count()).toBe(50);
      expect(await s.count({ datasetIds: [3] })).toBe(
        rows.filter((r) => r.datasetId === 3).length + (rows[7]!.datasetId === 3 ? 0 : 1),
      );
      await s.delete([rows[7]!.imageId, rows[8]!.imageId]);
      expect(await s.count()).toBe(48);
      const ids = (await s.search(q, 48, { exact: true })).map((h) => h.imageId);
      expect(ids).not.toContain(rows[7]!.imageId);
      await s.close();
    });

    it('scores a given image set exactly (every score, not a top K), NaN for an image it does not hold', async () => {
      const rows = makeRows(300, 3);
      const s = await open(backend);
      await s.upsert(rows);
      await s.finish();
      const r = rng(11);
      const qs = [unit(r), unit(r)];
      // Out of order, a subset, and one id that is not in the store.
      const ids = [rows[40]!.imageId, rows[3]!.imageId, 7, ...rows.slice(100, 160).map((x) => x.imageId)];
      const got = await s.scoreIds(qs, ids);
      expect(got).toHaveLength(2);
      qs.forEach((q, qi) => {
        ids.forEach((id, i) => {
          const row = rows.find((x) => x.imageId === id);
          if (!row) expect(got[qi]![i]).toBeNaN();
          else
            expect(got[qi]![i]).toBeCloseTo(
              row.vector.reduce((acc, x, j) => acc + x * q[j]!, 0),
              5,
            );
        });
      });
      // The whole table (read in one scan) gives the top K scores of an exact search (as float32).
      const all = rows.map((x) => x.imageId);
      const [whole] = await s.scoreIds([qs[0]!], all);
      for (const h of await s.search(qs[0]!, 10, { exact: true }))
        expect(whole![all.indexOf(h.imageId)]).toBe(Math.fround(h.score));
      await s.close();
    });

    it('ranks an image with views by its best row: distinct images, every filter, scores and counts', async () => {
      const rows = withViews(makeRows(300, 4));
      const s = await open(backend);
      await s.upsert(rows);
      await s.finish();
      expect(await s.count()).toBe(rows.length); // rows, views included
      const r = rng(5);
      for (const [, f] of FILTERS) {
        const q = unit(r);
        const want = reference(rows, q, 10, f);
        const hits = await s.search(q, 10, { filter: f, exact: true });
        expect(hits.map((h) => h.imageId)).toEqual(want);
        const best = bestScores(rows, q, f);
        for (const h of hits) expect(h.score).toBeCloseTo(best.get(h.imageId)!, 5);
      }
      // A query equal to a view's vector finds that view's image first, once.
      const view = rows.find((x) => x.view === 2 && x.imageId === rows[30]!.imageId)!;
      const top = await s.search(view.vector, 5, { exact: true });
      expect(top[0]).toMatchObject({ imageId: view.imageId });
      expect(top[0]!.score).toBeCloseTo(1, 5);
      expect(new Set(top.map((h) => h.imageId)).size).toBe(5);
      // Every score of an image set is the image's best row.
      const ids = [...new Set(rows.map((x) => x.imageId))];
      const [scores] = await s.scoreIds([view.vector], ids);
      const best = bestScores(rows, view.vector);
      ids.forEach((id, i) => expect(scores![i]).toBeCloseTo(best.get(id)!, 5));
      // Upsert replaces one (image, view) row; delete takes all of an image's rows.
      await s.upsert([{ ...view, vector: rows[1]!.vector }]);
      expect(await s.count()).toBe(rows.length);
      expect((await s.search(view.vector, 1, { exact: true }))[0]!.imageId).not.toBe(view.imageId);
      await s.delete([view.imageId]);
      expect(await s.count()).toBe(rows.length - 3);
      await s.close();
    });

    it('switching to the other backend moves the vectors and keeps every exact ranking', async () => {
      const rows = withViews(makeRows(400, 5));
      const from = await open(backend);
      await from.upsert(rows);
      await from.finish();
      const to = await open(backend === 'memory' ? 'lancedb' : 'memory');
      expect(await copyStore(from, to)).toBe(rows.length);
      const r = rng(7);
      for (const [, f] of FILTERS) {
        const q = unit(r);
        const a = (await from.search(q, 20, { filter: f, exact: true })).map((h) => h.imageId);
        const b = (await to.search(q, 20, { filter: f, exact: true })).map((h) => h.imageId);
        expect(b).toEqual(a);
      }
      // Every score of the gallery, to the last bit (MTI's re-rank and evaluation use them all).
      const ids = [...new Set(rows.map((x) => x.imageId))];
      const q = unit(r);
      expect(await to.scoreIds([q], ids)).toEqual(await from.scoreIds([q], ids));
      await from.close();
      await to.close();
    });
  });
}

describe('vector store: LanceDB tables that cannot be used as they are', { timeout: 60_000 }, () => {
  it('refuses a table of another model or dimension, and rebuilds it on request', async () => {
    const folder = tmp();
    const s = await open('lancedb', folder);
    await s.upsert(makeRows(20));
    await s.finish();
    await s.close();
    await expect(open('lancedb', folder, { modelKey: 'toy#other', dim: DIM })).rejects.toThrow(
      /holds vectors of another model \(toy#abc.*Nothing is lost.*--rebuild/s,
    );
    await expect(open('lancedb', folder, { modelKey: 'toy#abc', dim: 32 })).rejects.toThrow(
      /holds 16-value vectors, but this model makes 32/,
    );
    const again = await LanceVectorStore.open({
      ...ID,
      modelKey: 'toy#other',
      folder,
      table: 'toy',
      rebuild: true,
    });
    expect(await again.count()).toBe(0);
    await again.close();
  });

  it('says a missing table folder is missing (when it must exist) instead of starting an empty archive', async () => {
    const folder = join(tmp(), 'unmounted');
    await expect(LanceVectorStore.open({ ...ID, folder, table: 'toy', create: false })).rejects.toThrow(
      /folder .*unmounted is missing\. Mount or restore it/,
    );
    expect(existsSync(folder)).toBe(false);
  });

  it('sees a table half-written by a process killed (SIGKILL) while indexing, and rebuilds it', async () => {
    const folder = tmp();
    const script = join(folder, 'writer.mts');
    const mod = new URL('../../src/main/vectors/index.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { openStore } from ${JSON.stringify(mod)};
       const s = await openStore({ backend: 'lancedb', identity: { modelKey: 'toy#abc', dim: ${DIM} }, folder: ${JSON.stringify(folder)}, table: 'toy' });
       const v = new Float32Array(${DIM}).fill(0.25);
       await s.upsert([{ imageId: 1, view: 0, datasetId: 1, camera: null, time: null, split: null, vector: v }]);
       process.kill(process.pid, 'SIGKILL');`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBe('SIGKILL');
    await expect(open('lancedb', folder)).rejects.toThrow(/was left half-written.*Nothing is lost/s);
    const rebuilt = await LanceVectorStore.open({ ...ID, folder, table: 'toy', rebuild: true });
    expect(await rebuilt.count()).toBe(0);
    await rebuilt.upsert(makeRows(5));
    await rebuilt.finish();
    await rebuilt.close();
    const ok = await open('lancedb', folder);
    expect(await ok.count()).toBe(5);
    await ok.close();
  });
});

// The ANN indexes themselves (built from LANCE_INDEX_FROM rows): people as clusters, so a query has true
// neighbours, and both index kinds must find most of them with scores equal to the dot product. LanceDB
// 0.31's IVF-HNSW-SQ on `dot` once returned distances outside [0, 2] and recall@10 near 0 (lance.ts builds it
// on cosine); this is the test that would see it again.
describe('vector store: LanceDB ANN indexes', { timeout: 300_000 }, () => {
  const people = 2_000;
  const rows: VectorRow[] = (() => {
    const r = rng(7);
    const centres = Array.from({ length: people }, () => unit(r));
    return Array.from({ length: LANCE_INDEX_FROM }, (_, i) => {
      const c = centres[i % people]!;
      const noise = unit(r);
      const v = c.map((x, j) => x + 0.35 * noise[j]!);
      const n = Math.hypot(...v);
      return {
        imageId: i + 1,
        view: 0,
        datasetId: 1 + (i % 100),
        camera: null,
        time: null,
        split: null,
        vector: v.map((x) => x / n),
      };
    });
  })();

  // IVF-PQ asked for; HNSW-SQ chosen by size (autoIndexKind). Each table is then reopened with the other kind
  // set, as another machine sharing the folder might: the search uses the index the table holds.
  for (const [asked, built, reopenAs] of [
    ['ivf_pq', 'ivf_pq', 'ivf_hnsw_sq'],
    [undefined, 'ivf_hnsw_sq', 'ivf_pq'],
  ] as const) {
    it(`${built} (${asked ? 'asked for' : 'by size'}): recall@10 ≥ 0.9 against the exact ranking, unfiltered and with a 10 % filter inside the index, scores equal to the dot product`, async () => {
      const folder = tmp();
      const writer = await LanceVectorStore.open({
        ...ID,
        folder,
        table: 'toy',
        ...(asked ? { index: asked } : {}),
      });
      await writer.append(rows);
      await writer.finish();
      await writer.close();
      const store = await LanceVectorStore.open({ ...ID, folder, table: 'toy', index: reopenAs });
      expect(await store.indexKind()).toBe(built);
      const filter = { datasetIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] };
      const r = rng(11);
      for (const f of [undefined, filter]) {
        let hits = 0;
        for (let q = 0; q < 20; q++) {
          // Not unit length, as a blended MTI query may not be: the score is still the dot product.
          const noise = unit(r);
          const query = rows[Math.floor(r() * rows.length)]!.vector.map((x, j) => x + 0.2 * noise[j]!);
          const truth = new Set(reference(rows, query, 10, f));
          const got = await store.search(query, 10, { filter: f });
          expect(got).toHaveLength(10);
          hits += got.filter((h) => truth.has(h.imageId)).length;
          for (const h of got) {
            const row = rows[h.imageId - 1]!;
            expect(matchesFilter(row, f)).toBe(true);
            expect(h.score).toBeCloseTo(
              row.vector.reduce((a, x, j) => a + x * query[j]!, 0),
              3,
            );
          }
        }
        expect(hits / 200, f ? '10 % filter' : 'no filter').toBeGreaterThanOrEqual(0.9);
      }
      await store.close();
    });
  }
});
