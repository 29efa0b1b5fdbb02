import { describe, expect, it } from 'vitest';
import { PARALLEL_FROM, TopK, VectorIndex, fastHelperReady } from '../../src/main/ml/vector-index';
import { clipLikeGallery, normalizeInPlace, seededRandom } from '../../src/main/ml/vector-index/synthetic';

/** The reference: score everything, sort by score desc then index asc. */
function naiveTopK(vectors: Float32Array, dim: number, q: Float32Array, k: number, mask?: Uint8Array) {
  const all: { index: number; score: number }[] = [];
  for (let i = 0; i < vectors.length / dim; i++) {
    if (mask && !mask[i]) continue;
    let s = 0;
    for (let j = 0; j < dim; j++) s += (vectors[i * dim + j] as number) * (q[j] as number);
    all.push({ index: i, score: s });
  }
  return all.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

/** Coarse values (multiples of 1/4) and repeated rows, so many scores tie exactly. */
function tiedData(n: number, dim: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    if (i > 0 && rand() < 0.3) {
      const src = Math.floor(rand() * i);
      v.copyWithin(i * dim, src * dim, src * dim + dim);
    } else for (let j = 0; j < dim; j++) v[i * dim + j] = Math.round(rand() * 8 - 4) / 4;
  }
  return v;
}

describe('exact top-K', () => {
  it('equals a full sort on random data with many exact ties, ties in gallery order', () => {
    for (const dim of [1, 3, 8, 37]) {
      const data = tiedData(500, dim, dim);
      const index = new VectorIndex(data, dim);
      const q = tiedData(1, dim, 100 + dim);
      for (const k of [1, 5, 20, 499, 500, 800]) {
        const got = index.topK(q, k);
        expect(got).toEqual(naiveTopK(data, dim, q, k));
        const tied = got.filter((h, i) => i > 0 && h.score === got[i - 1]?.score);
        if (k >= 20) expect(tied.length).toBeGreaterThan(0); // the data really does tie
      }
    }
  });

  it('only ranks positions allowed by the mask', () => {
    const dim = 16;
    const data = tiedData(300, dim, 7);
    const mask = new Uint8Array(300).map((_, i) => (i % 3 === 0 ? 1 : 0));
    const q = tiedData(1, dim, 8);
    const got = new VectorIndex(data, dim).topK(q, 25, { mask });
    expect(got).toEqual(naiveTopK(data, dim, q, 25, mask));
    expect(got.every((h) => h.index % 3 === 0)).toBe(true);
  });

  it('scoreAll returns every dot product in gallery order', () => {
    const dim = 13;
    const data = tiedData(50, dim, 3);
    const q = tiedData(1, dim, 4);
    const row = new VectorIndex(data, dim).scoreAll(q);
    expect(row).toHaveLength(50);
    for (let i = 0; i < 50; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (data[i * dim + j] as number) * (q[j] as number);
      expect(row[i]).toBeCloseTo(s, 5);
    }
  });

  it('rejects a query or data of the wrong shape instead of reading out of bounds', () => {
    expect(() => new VectorIndex(new Float32Array(10), 3)).toThrow(/do not split/);
    const index = new VectorIndex(new Float32Array(12), 4);
    expect(() => index.topK(new Float32Array(3), 1)).toThrow(/3 dimensions/);
    expect(() => index.scoreAll(new Float32Array(5))).toThrow(/5 dimensions/);
  });

  it('TopK keeps the best k whatever the push order, lower index first on equal scores', () => {
    const heap = new TopK(3);
    for (const [i, s] of [
      [9, 0.5],
      [4, 0.5],
      [7, 0.9],
      [1, 0.1],
      [2, 0.5],
      [0, 0.5],
    ] as const)
      heap.push(i, s);
    expect(heap.result()).toEqual([
      { index: 7, score: 0.9 },
      { index: 0, score: 0.5 },
      { index: 2, score: 0.5 },
    ]);
  });
});

describe('fast top-K (1-bit coarse passes + exact rescore)', () => {
  // Budgets in proportion to a large gallery's (shortlist 10%, rescore 2%), not the defaults, which at
  // this size would rescore a tenth of the gallery and so hardly approximate at all.
  function recall(
    size: number,
    dim: number,
    identities: number,
    share = { shortlist: 0.1, rescore: 0.02 },
  ): { recall: number; exactScores: boolean } {
    const budget = { shortlist: Math.ceil(size * share.shortlist), rescore: Math.ceil(size * share.rescore) };
    const g = clipLikeGallery({ size, dim, identities, seed: 11 });
    const index = new VectorIndex(g.vectors, dim);
    const queries = g.queries(40, 5);
    let hit = 0;
    let exactScores = true;
    for (let q = 0; q < 40; q++) {
      const qv = queries.vectors.subarray(q * dim, (q + 1) * dim);
      const truth = index.topK(qv, 10);
      const fast = index.fastTopK(qv, 10, budget);
      const want = new Set(truth.map((h) => h.index));
      const row = index.scoreAll(qv);
      hit += fast.filter((h) => want.has(h.index)).length;
      // Every returned score is the exact cosine, and the list is sorted.
      for (let r = 0; r < fast.length; r++) {
        const h = fast[r] as { index: number; score: number };
        const s = row[h.index] as number;
        if (Math.abs(s - h.score) > 1e-6 || (r > 0 && (fast[r - 1]?.score as number) < h.score))
          exactScores = false;
      }
    }
    return { recall: hit / 400, exactScores };
  }

  it('finds ≥ 99% of the exact top 10 on clustered CLIP-like 512-d data', () => {
    const r = recall(20_000, 512, 400);
    expect(r.recall).toBeGreaterThanOrEqual(0.99);
    expect(r.exactScores).toBe(true);
  }, 60_000);

  it('works for dimensions that are not a multiple of 32 (generic code path)', () => {
    // 100 bits say less than 512 do, so the budget is larger; the point here is the generic loops.
    const r = recall(8_000, 100, 200, { shortlist: 0.4, rescore: 0.08 });
    expect(r.recall).toBeGreaterThanOrEqual(0.99);
    expect(r.exactScores).toBe(true);
  }, 60_000);

  it('respects the mask and returns everything when the gallery is smaller than the budget', () => {
    const dim = 32;
    const rand = seededRandom(3);
    const data = new Float32Array(200 * dim).map(() => rand() - 0.5);
    for (let i = 0; i < 200; i++) normalizeInPlace(data, i * dim, dim);
    const index = new VectorIndex(data, dim);
    const q = data.slice(5 * dim, 6 * dim);
    const mask = new Uint8Array(200).map((_, i) => (i >= 100 ? 1 : 0));
    expect(index.fastTopK(q, 10, { mask })).toEqual(index.topK(q, 10, { mask }));
    expect(index.fastTopK(q, 10)).toEqual(index.topK(q, 10));
  });

  it('gives the same answer whether or not the helper thread scans half of a large gallery', async () => {
    expect(await fastHelperReady()).toBe(true); // the test machine has ≥ 2 cores
    const dim = 64;
    const size = PARALLEL_FROM + 20_001; // odd, so the halves differ in length
    const g = clipLikeGallery({ size, dim, identities: 1_000, seed: 21 });
    const index = new VectorIndex(g.vectors, dim);
    const queries = g.queries(12, 4);
    const mask = new Uint8Array(size).map((_, i) => (i % 5 === 2 ? 0 : 1));
    const budget = { shortlist: 4_000, rescore: 500 };
    for (let q = 0; q < 12; q++) {
      const qv = queries.vectors.subarray(q * dim, (q + 1) * dim);
      const opts = q % 2 === 0 ? budget : { ...budget, mask };
      const alone = index.fastTopK(qv, 10, { ...opts, parallel: false });
      expect(index.fastTopK(qv, 10, { ...opts, parallel: true })).toEqual(alone);
      if (q % 2 === 1) expect(alone.every((h) => h.index % 5 !== 2)).toBe(true);
    }
  }, 60_000);
});
