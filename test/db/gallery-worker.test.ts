// The gallery worker (search/gallery-thread.ts + gallery-worker.ts): large galleries are loaded through the
// worker's own read-only connection into shared memory and ranked there, with answers equal to the inline
// path's; the thread that serves requests keeps answering meanwhile; the worker goes with the workspace.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/main/api/http';
import { getLibraryStats } from '../../src/main/db/repos/images';
import type { WritableDb } from '../../src/main/db/types';
import { AppError } from '../../src/main/errors';
import { clipLikeGallery } from '../../src/main/ml/vector-index/synthetic';
import { loadIndexAsync, searchByVector, searchByVectorAsync } from '../../src/main/search';
import { searchRanked } from '../../src/main/search/store-search';
import { GalleryThread } from '../../src/main/search/gallery-thread';
import { VectorCaches } from '../../src/main/search/vector-caches';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import { asDatasetId, asModelId, type ModelId } from '#shared/ids';

const dirs: string[] = [];
const opened: Workspace[] = [];
const threads: GalleryThread[] = [];
afterEach(async () => {
  for (const t of threads.splice(0)) await t.close();
  for (const ws of opened.splice(0)) await ws.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fileWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-gallery-'));
  dirs.push(dir);
  const ws = openWorkspace(join(dir, 'w.sqlite'), { resumeJobs: false });
  opened.push(ws);
  return ws;
}

/** `count` images in two datasets (the second holds every third), each with a vector from one model. */
function fill(db: WritableDb, count: number, dim: number, seed: number) {
  const g = clipLikeGallery({ size: count, dim, identities: Math.max(10, count >> 6), seed });
  // Exact duplicates: score ties between different images, which must rank by image id on both paths.
  for (const [dst, src] of [
    [10, 3],
    [count - 1, 3],
    [77, 76],
  ] as const)
    g.vectors.copyWithin(dst * dim, src * dim, (src + 1) * dim);
  const modelId = asModelId(
    Number(
      db
        .prepare(
          `INSERT INTO models (name, folder, manifest, vision_sha256, text_sha256, image_height, image_width,
             context_length, embedding_dim, created_at) VALUES ('toy', '/m', '{}', 'v', 't', 224, 224, 77, ?, 0)`,
        )
        .run(dim).lastInsertRowid,
    ),
  );
  const ds = db.prepare(
    `INSERT INTO datasets (id, name, format, root, status, created_at) VALUES (?, ?, 'folder', '/d', 'ready', 0)`,
  );
  const img = db.prepare(
    `INSERT INTO images (dataset_id, rel_path, sha256, width, height, bytes, format, created_at)
     VALUES (?, ?, 'x', 64, 128, 1, 'png', 0)`,
  );
  const emb = db.prepare(
    `INSERT INTO embeddings (model_id, image_id, vector, created_at) VALUES (?, ?, ?, 0)`,
  );
  db.transaction(() => {
    ds.run(1, 'a');
    ds.run(2, 'b');
    for (let i = 0; i < count; i++) {
      const id = Number(img.run(i % 3 === 2 ? 2 : 1, `${i}.png`).lastInsertRowid);
      const v = g.vectors.subarray(i * dim, (i + 1) * dim);
      emb.run(modelId, id, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    }
  })();
  const queries = g.queries(6, seed + 1);
  return { modelId, query: (q: number) => queries.vectors.subarray(q * dim, (q + 1) * dim) };
}

function worker(): GalleryThread {
  const t = new GalleryThread();
  threads.push(t);
  return t;
}

describe('gallery worker', () => {
  it('loads and ranks a gallery with exactly the inline answers: exact, fast, by dataset, by id set', async () => {
    const ws = fileWorkspace();
    const { modelId, query } = fill(ws.db, 3000, 64, 5);
    const off = new VectorCaches(ws.reader, { thread: worker(), offThreadFrom: 0 });
    const inline = new VectorCaches(ws.reader, { thread: null });
    const loaded = await loadIndexAsync(off, modelId);
    expect(loaded.gallery).toBeDefined(); // the worker read it
    expect(loaded.index.vectors.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(off.thread!.running).toBe(true);
    const only = new Set(Array.from(loaded.imageIds).filter((id) => id % 5 === 0));
    for (let q = 0; q < 6; q++)
      for (const opts of [
        { k: 20, mode: 'exact' as const },
        { k: 20, mode: 'fast' as const },
        { k: 3000, mode: 'exact' as const },
        { k: 15, mode: 'exact' as const, datasetId: asDatasetId(2) },
        { k: 15, mode: 'fast' as const, only },
      ]) {
        const got = await searchByVectorAsync(off, modelId, query(q), opts);
        expect(got).toEqual(searchByVector(inline, modelId, query(q), opts));
      }
    // The gallery itself is the same bytes, in the same order.
    const here = await loadIndexAsync(inline, modelId);
    expect(here.gallery).toBeUndefined();
    expect(
      Buffer.compare(Buffer.from(here.index.vectors.buffer), Buffer.from(loaded.index.vectors.buffer)),
    ).toBe(0);
    expect(Array.from(loaded.imageIds)).toEqual(Array.from(here.imageIds));
  });

  it('refuses a stored vector of the wrong length as the inline load does', async () => {
    const ws = fileWorkspace();
    const { modelId } = fill(ws.db, 200, 64, 7);
    ws.db.prepare(`UPDATE embeddings SET vector = zeroblob(12) WHERE image_id = 50`).run();
    const off = new VectorCaches(ws.reader, { thread: worker(), offThreadFrom: 0 });
    const err = await loadIndexAsync(off, modelId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('conflict');
    expect((err as AppError).message).toMatch(/Image 50 has a vector of 3 values under model "toy"/);
  });

  it('a gallery changed after the load is read again (the worker gets the new one)', async () => {
    const ws = fileWorkspace();
    const { modelId, query } = fill(ws.db, 500, 64, 9);
    const off = new VectorCaches(ws.reader, { thread: worker(), offThreadFrom: 0 });
    const first = await loadIndexAsync(off, modelId);
    ws.db.prepare(`DELETE FROM images WHERE id = ?`).run(first.imageIds[0]);
    const second = await loadIndexAsync(off, modelId);
    expect(second).not.toBe(first);
    expect(second.index.size).toBe(499);
    const inline = new VectorCaches(ws.reader, { thread: null });
    expect(await searchByVectorAsync(off, modelId, query(0), { k: 50, mode: 'exact' })).toEqual(
      searchByVector(inline, modelId, query(0), { k: 50, mode: 'exact' }),
    );
  });

  it('two searches share one load; a load that a drop overtook is not cached', async () => {
    const ws = fileWorkspace();
    const { modelId } = fill(ws.db, 400, 32, 21);
    const off = new VectorCaches(ws.reader, { thread: worker(), offThreadFrom: 0 });
    const [a, b] = await Promise.all([loadIndexAsync(off, modelId), loadIndexAsync(off, modelId)]);
    expect(a).toBe(b);
    expect(off.indexes.get(modelId)).toBe(a);
    // Vectors rewritten in place keep the fingerprint, so the job that rewrites them drops the gallery:
    // a load already under way when it does must not come back as the cached gallery.
    off.invalidate(modelId);
    const reading = loadIndexAsync(off, modelId);
    off.invalidate(modelId);
    const got = await reading;
    expect(got.gallery).toBeDefined();
    expect(off.indexes.has(modelId)).toBe(false);
  });

  it('an in-memory workspace, or a gallery below the threshold, is loaded on the calling thread', async () => {
    const mem = openWorkspace(':memory:', { resumeJobs: false });
    opened.push(mem);
    const m = fill(mem.db, 100, 16, 3);
    expect((await loadIndexAsync(mem.services.vectors, m.modelId)).gallery).toBeUndefined();
    const ws = fileWorkspace();
    const f = fill(ws.db, 100, 16, 3);
    expect((await loadIndexAsync(ws.services.vectors, f.modelId)).gallery).toBeUndefined();
    expect(ws.services.vectors.thread!.running).toBe(false);
  });

  it('is terminated when its workspace closes: no thread is left', async () => {
    const ws = fileWorkspace();
    const { modelId } = fill(ws.db, 300, 16, 11);
    const vectors = ws.services.vectors;
    const thread = vectors.thread!;
    const caches = new VectorCaches(ws.reader, { thread, offThreadFrom: 0 });
    expect((await loadIndexAsync(caches, modelId)).gallery).toBeDefined();
    expect(thread.running).toBe(true);
    await ws.close();
    expect(thread.running).toBe(false);
    expect(thread.usable).toBe(false);
  });
});

describe('the thread serving requests stays responsive', () => {
  /**
   * Which finishes first: a search over a 300k-row gallery, or a cheap request (library stats) scheduled
   * just after the search started. Ordering only, no timings.
   */
  async function race(caches: VectorCaches, modelId: ModelId, q: Float32Array, reader: Workspace['reader']) {
    const order: string[] = [];
    const search = searchRanked(caches, modelId, q, { k: 10, mode: 'exact' }).then((hits) => {
      order.push('search');
      return hits;
    });
    setImmediate(() => {
      getLibraryStats(reader);
      order.push('stats');
    });
    const hits = await search;
    await new Promise((r) => setImmediate(r));
    return { order, hits };
  }

  it('a cheap request is answered while a 300k-row gallery is loaded and scanned off the thread', async () => {
    const ws = fileWorkspace();
    const { modelId, query } = fill(ws.db, 300_000, 32, 13);
    const q = query(0);
    const vectors = ws.services.vectors; // the workspace's: default threshold, its own worker
    const load = await race(vectors, modelId, q, ws.reader);
    expect(load.order).toEqual(['stats', 'search']);
    expect(vectors.indexes.get(modelId)?.gallery).toBeDefined();
    const scan = await race(vectors, modelId, q, ws.reader); // cached gallery: the scan alone
    expect(scan.order).toEqual(['stats', 'search']);
    // The same search on the calling thread answers the same, and holds the request back until it is done.
    const inline = new VectorCaches(ws.reader, { thread: null });
    const blocked = await race(inline, modelId, q, ws.reader);
    expect(blocked.order).toEqual(['search', 'stats']);
    expect(load.hits).toEqual(blocked.hits);
    expect(scan.hits).toEqual(blocked.hits);

    // The same over HTTP, as `ctgi serve` answers a window: library:stats sent while the gallery loads again.
    const server = await startHttpServer(ws);
    try {
      vectors.invalidate(modelId);
      const order: string[] = [];
      const search = searchRanked(vectors, modelId, q, { k: 10, mode: 'exact' }).then(() =>
        order.push('search'),
      );
      const stats = fetch(`http://127.0.0.1:${server.port}/api/library:stats`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ctgi-token': server.token },
        body: '{}',
      }).then(async (res) => {
        expect(res.status).toBe(200);
        expect(((await res.json()) as { value: { images: number } }).value.images).toBe(300_000);
        order.push('http');
      });
      await Promise.all([search, stats]);
      expect(order).toEqual(['http', 'search']);
    } finally {
      await server.close();
    }
  }, 120_000);
});
