import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import type { WritableDb } from '../../src/main/db/types';
import { AppError } from '../../src/main/errors';
import { invalidateIndex, loadIndex, searchByVector, searchWithSqliteVec } from '../../src/main/search';
import { VectorCaches } from '../../src/main/search/vector-caches';
import { clipLikeGallery } from '../../src/main/ml/vector-index/synthetic';
import { asDatasetId, asModelId, type ModelId } from '#shared/ids';

const blob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

function addModel(db: WritableDb, name: string, dim: number): ModelId {
  const r = db
    .prepare(
      `INSERT INTO models (name, folder, manifest, vision_sha256, text_sha256, image_height, image_width,
         context_length, embedding_dim, created_at) VALUES (?, '/m', '{}', 'v', 't', 224, 224, 77, ?, 0)`,
    )
    .run(name, dim);
  return asModelId(Number(r.lastInsertRowid));
}

function addImages(db: WritableDb, datasetId: number, count: number): number[] {
  db.prepare(
    `INSERT OR IGNORE INTO datasets (id, name, format, root, status, created_at) VALUES (?, ?, 'folder', '/d', 'ready', 0)`,
  ).run(datasetId, `ds${datasetId}`);
  const ins = db.prepare(
    `INSERT INTO images (dataset_id, rel_path, sha256, width, height, bytes, format, created_at)
     VALUES (?, ?, 'x', 64, 128, 1, 'png', 0)`,
  );
  const ids: number[] = [];
  for (let i = 0; i < count; i++)
    ids.push(Number(ins.run(datasetId, `${datasetId}/${i}-${Math.random()}.png`).lastInsertRowid));
  return ids;
}

function addVectors(
  db: WritableDb,
  modelId: ModelId,
  imageIds: number[],
  vectors: Float32Array,
  dim: number,
  at = 1,
): void {
  const ins = db.prepare(
    `INSERT OR REPLACE INTO embeddings (model_id, image_id, vector, created_at) VALUES (?, ?, ?, ?)`,
  );
  db.transaction(() =>
    imageIds.forEach((id, i) => ins.run(modelId, id, blob(vectors.subarray(i * dim, (i + 1) * dim)), at)),
  )();
}

/** A workspace with one 64-d model over 600 images in two datasets, and some exact duplicates (ties). */
function world() {
  const { db } = openDatabase(':memory:');
  const dim = 64;
  const g = clipLikeGallery({ size: 600, dim, identities: 40, seed: 3 });
  // Duplicate a few vectors so that exact score ties occur between different images.
  for (const [dst, src] of [
    [10, 3],
    [500, 3],
    [77, 76],
  ] as const)
    g.vectors.copyWithin(dst * dim, src * dim, (src + 1) * dim);
  const a = addImages(db, 1, 400);
  const b = addImages(db, 2, 200);
  const model = addModel(db, 'toy-clip', dim);
  addVectors(db, model, [...a, ...b], g.vectors, dim);
  const queries = g.queries(10, 9);
  const query = (q: number) => queries.vectors.subarray(q * dim, (q + 1) * dim);
  return { db, caches: new VectorCaches(db), dim, g, model, imageIds: [...a, ...b], datasetB: b, query };
}

function bruteForce(vectors: Float32Array, dim: number, ids: number[], q: Float32Array, k: number) {
  return ids
    .map((id, i) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (vectors[i * dim + j] as number) * (q[j] as number);
      return { imageId: id, score: s };
    })
    .sort((x, y) => y.score - x.score || x.imageId - y.imageId)
    .slice(0, k);
}

const appError = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
};

describe('search service', () => {
  it('ranks the model gallery like a brute-force sort, ties by lower image id', () => {
    const { caches, dim, g, model, imageIds, query } = world();
    for (let q = 0; q < 5; q++) {
      const got = searchByVector(caches, model, query(q), { k: 20, mode: 'exact' });
      const want = bruteForce(g.vectors, dim, imageIds, query(q), 20);
      expect(got.map((h) => h.imageId)).toEqual(want.map((h) => h.imageId));
      got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]?.score as number, 5));
    }
    // Query with a duplicated image's own vector: the two copies tie at the top, lower id first.
    const dup = g.vectors.slice(3 * dim, 4 * dim);
    const top = searchByVector(caches, model, dup, { k: 3, mode: 'exact' }).map((h) => h.imageId);
    expect(top).toEqual([imageIds[3], imageIds[10], imageIds[500]]);
  });

  it('sqlite-vec (vec_distance_cosine) ranks exactly like the JS path', () => {
    const { db, caches, model, query, datasetB } = world();
    for (let q = 0; q < 5; q++) {
      const js = searchByVector(caches, model, query(q), { k: 25, mode: 'exact' });
      const sql = searchWithSqliteVec(db, model, query(q), 25);
      expect(sql.map((h) => h.imageId)).toEqual(js.map((h) => h.imageId));
      sql.forEach((h, i) => expect(h.score).toBeCloseTo(js[i]?.score as number, 5));
      const inB = searchByVector(caches, model, query(q), {
        k: 7,
        mode: 'sqlite',
        datasetId: asDatasetId(2),
      });
      expect(inB.map((h) => h.imageId)).toEqual(
        searchByVector(caches, model, query(q), { k: 7, mode: 'exact', datasetId: asDatasetId(2) }).map(
          (h) => h.imageId,
        ),
      );
      expect(inB.every((h) => datasetB.includes(h.imageId))).toBe(true);
    }
  });

  it('the fast path agrees with exact search on the top results', () => {
    const { caches, model, query } = world();
    for (let q = 0; q < 5; q++) {
      const exact = searchByVector(caches, model, query(q), { k: 10, mode: 'exact' });
      const fast = searchByVector(caches, model, query(q), { k: 10, mode: 'fast' });
      expect(fast).toEqual(exact); // 600 vectors are under the rescore budget: nothing is approximated
    }
  });

  it('restricts to one dataset and normalises the query', () => {
    const { caches, model, query, datasetB } = world();
    const scaled = query(1).map((x) => x * 7);
    const hits = searchByVector(caches, model, scaled, { k: 500, datasetId: asDatasetId(2) });
    expect(hits).toHaveLength(200);
    expect(new Set(hits.map((h) => h.imageId))).toEqual(new Set(datasetB));
    expect(hits[0]?.score).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('never mixes models: each model ranks only its own vectors, queries must match its dimension', () => {
    const { db, caches, model, query, imageIds } = world();
    const other = addModel(db, 'other-clip', 32);
    const otherVectors = clipLikeGallery({ size: 5, dim: 32, identities: 2, seed: 1 }).vectors;
    addVectors(db, other, imageIds.slice(0, 5), otherVectors, 32);
    expect(searchByVector(caches, other, otherVectors.subarray(0, 32), { k: 100 })).toHaveLength(5);
    expect(searchByVector(caches, model, query(0), { k: 1000 })).toHaveLength(600);
    const e = appError(() => searchByVector(caches, other, query(0)));
    expect(e.code).toBe('bad_request');
    expect(e.message).toMatch(/64 values but model "other-clip" makes 32-value vectors/);
  });

  it('refuses a gallery whose stored vectors disagree with the model dimension', () => {
    const { db, caches, model, imageIds, query } = world();
    db.prepare(`UPDATE embeddings SET vector = ?, created_at = 2 WHERE model_id = ? AND image_id = ?`).run(
      blob(new Float32Array(32)),
      model,
      imageIds[42],
    );
    for (const mode of ['exact', 'sqlite'] as const) {
      const e = appError(() => searchByVector(caches, model, query(0), { mode }));
      expect(e.code).toBe('conflict');
      expect(e.message).toMatch(new RegExp(`Image ${imageIds[42]} has a vector`));
      expect(e.message).toMatch(/ctgi embed --model toy-clip/);
    }
  });

  it('tells the user to run embed when the model has no vectors, and names unknown models', () => {
    const { db, caches } = world();
    const empty = addModel(db, 'fresh', 64);
    for (const mode of ['exact', 'sqlite'] as const) {
      const e = appError(() => searchByVector(caches, empty, new Float32Array(64).fill(1), { mode }));
      expect(e.code).toBe('not_found');
      expect(e.message).toMatch(/no image vectors yet.*ctgi embed --model fresh/);
    }
    expect(appError(() => searchByVector(caches, asModelId(999), new Float32Array(64))).code).toBe(
      'not_found',
    );
  });

  it('stops answering for a model once it is deleted, even with its gallery cached', () => {
    const { db, caches, model, query } = world();
    expect(searchByVector(caches, model, query(0), { k: 1 })).toHaveLength(1);
    db.prepare(`DELETE FROM models WHERE id = ?`).run(model);
    const e = appError(() => searchByVector(caches, model, query(0), { k: 1 }));
    expect(e.code).toBe('not_found');
    expect(e.message).toMatch(/Model \d+ does not exist/);
  });

  it('caches the gallery per model and reloads it when the embeddings change', () => {
    const { db, caches, dim, model, query } = world();
    const first = loadIndex(caches, model);
    expect(loadIndex(caches, model)).toBe(first);
    const [newId] = addImages(db, 1, 1) as [number];
    addVectors(db, model, [newId], query(2), dim, 5); // an image that looks exactly like the query
    const reloaded = loadIndex(caches, model);
    expect(reloaded).not.toBe(first);
    expect(reloaded.index.size).toBe(601);
    expect(searchByVector(caches, model, query(2), { k: 1 })[0]?.imageId).toBe(newId);
    db.prepare(`DELETE FROM images WHERE id = ?`).run(newId); // cascades to its vector
    expect(loadIndex(caches, model).index.size).toBe(600);
  });

  it('sees vectors rewritten in place once the writer calls invalidateIndex', () => {
    const { db, caches, model, imageIds, query } = world();
    const before = searchByVector(caches, model, query(4), { k: 1 })[0]?.imageId;
    const target = imageIds[123] as number;
    expect(before).not.toBe(target);
    db.prepare(`UPDATE embeddings SET vector = ? WHERE model_id = ? AND image_id = ?`).run(
      blob(query(4)),
      model,
      target,
    );
    invalidateIndex(caches, model);
    expect(searchByVector(caches, model, query(4), { k: 1 })[0]?.imageId).toBe(target);
  });
});
