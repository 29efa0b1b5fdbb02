import { describe, expect, it } from 'vitest';
import { MetricsAccumulator, retrievalMetrics } from '../../src/main/pipelines/metrics';

const sim = (rows: number[][]): Float32Array => Float32Array.from(rows.flat());

/** The IRRA rank() computation, written the slow obvious way (full stable sort per query), for cross-checks. */
function reference(s: Float32Array, qp: number[], gp: number[]) {
  const ng = gp.length;
  let r1 = 0,
    r5 = 0,
    r10 = 0,
    sAp = 0,
    sInp = 0,
    n = 0;
  qp.forEach((pid, q) => {
    const order = gp.map((_, j) => j).sort((a, b) => s[q * ng + b]! - s[q * ng + a]! || a - b);
    const matches = order.map((j) => gp[j] === pid);
    if (!matches.includes(true)) return;
    n++;
    const cum: number[] = [];
    matches.reduce((acc, m, i) => (cum[i] = acc + (m ? 1 : 0)), 0);
    const first = matches.indexOf(true);
    const last = matches.lastIndexOf(true);
    if (first < 1) r1++;
    if (first < 5) r5++;
    if (first < 10) r10++;
    sAp += matches.reduce((acc, m, i) => acc + (m ? cum[i]! / (i + 1) : 0), 0) / cum[ng - 1]!;
    sInp += cum[last]! / (last + 1);
  });
  return {
    r1: (100 * r1) / n,
    r5: (100 * r5) / n,
    r10: (100 * r10) / n,
    mAP: (100 * sAp) / n,
    mINP: (100 * sInp) / n,
  };
}

describe('retrieval metrics (IRRA protocol)', () => {
  it('computes R@k, mAP and mINP on a hand-checked case with ties and several matches', () => {
    // q0 (person 1): ranking g0 .9, g1 .8, g3 .5, g2 .1 → matches at ranks 1 and 4: AP = (1/1 + 2/4)/2 = .75, INP = 2/4.
    // q1 (person 3): all tied → gallery order, its match g3 is 4th: AP = 1/4, INP = 1/4, R@1 miss, R@5 hit.
    const m = retrievalMetrics(
      sim([
        [0.9, 0.8, 0.1, 0.5],
        [0.7, 0.7, 0.7, 0.7],
      ]),
      [1, 3],
      [1, 2, 1, 3],
    );
    expect(m).toMatchObject({ r1: 50, r5: 100, r10: 100, queries: 2, gallery: 4, queriesWithoutMatch: 0 });
    expect(m.mAP).toBeCloseTo(50, 10);
    expect(m.mINP).toBeCloseTo(37.5, 10);
    expect(Array.from(m.perQuery.firstMatchRank)).toEqual([1, 4]);
    expect(Array.from(m.perQuery.ap)).toEqual([0.75, 0.25]);
    expect(Array.from(m.perQuery.inp)).toEqual([0.5, 0.25]);
  });

  it('breaks ties by gallery order: an earlier tied match ranks first, a later one after the others', () => {
    const early = retrievalMetrics(sim([[0.5, 0.5, 0.5]]), ['a'], ['a', 'b', 'c']);
    const late = retrievalMetrics(sim([[0.5, 0.5, 0.5]]), ['c'], ['a', 'b', 'c']);
    expect(early.perQuery.firstMatchRank[0]).toBe(1);
    expect(late.perQuery.firstMatchRank[0]).toBe(3);
    // Only ties matter: a strictly higher score still wins whatever its position.
    expect(retrievalMetrics(sim([[0.5, 0.5, 0.6]]), ['c'], ['a', 'b', 'c']).r1).toBe(100);
  });

  it('mINP punishes a query whose last match is at the bottom', () => {
    // Three matches at ranks 1, 2 and 10 of 10: AP = (1 + 1 + 3/10)/3, INP = 3/10.
    const scores = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
    const gallery = [7, 7, 1, 2, 3, 4, 5, 6, 8, 7];
    const m = retrievalMetrics(sim([scores]), [7], gallery);
    expect(m.mAP).toBeCloseTo((100 * (1 + 1 + 0.3)) / 3, 10);
    expect(m.mINP).toBeCloseTo(30, 10);
    expect(m.r1).toBe(100);
  });

  it('gives 100 everywhere for a perfect ranking and the floor for the worst', () => {
    const n = 12;
    const ids = Array.from({ length: n }, (_, i) => i);
    const perfect = new Float32Array(n * n);
    const worst = new Float32Array(n * n);
    for (let q = 0; q < n; q++)
      for (let j = 0; j < n; j++) {
        perfect[q * n + j] = q === j ? 1 : 0;
        worst[q * n + j] = q === j ? -1 : 0;
      }
    expect(retrievalMetrics(perfect, ids, ids)).toMatchObject({
      r1: 100,
      r5: 100,
      r10: 100,
      mAP: 100,
      mINP: 100,
    });
    const w = retrievalMetrics(worst, ids, ids);
    expect(w).toMatchObject({ r1: 0, r5: 0, r10: 0 });
    expect(w.mAP).toBeCloseTo(100 / n, 10);
    expect(w.mINP).toBeCloseTo(100 / n, 10);
  });

  it('leaves out queries whose person is not in the gallery, and ranks NaN scores last', () => {
    const m = retrievalMetrics(
      sim([
        [NaN, 0.1],
        [0.3, 0.2],
      ]),
      [1, 9],
      [1, 2],
    );
    expect(m).toMatchObject({ queries: 1, queriesWithoutMatch: 1, r1: 0, r5: 100 });
    expect(m.perQuery.firstMatchRank[1]).toBe(0);
    expect(Number.isNaN(m.perQuery.ap[1])).toBe(true);
    expect(() => retrievalMetrics(new Float32Array(3), [1], [1, 2])).toThrow(/1 queries × 2 gallery/);
  });

  it('agrees with a full-sort reference on random data with many ties, both code paths', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const [nq, ng, people] of [
      [60, 50, 12],
      [20, 400, 3],
    ] as const) {
      const qp = Array.from({ length: nq }, () => Math.floor(rand() * people));
      const gp = Array.from({ length: ng }, () => Math.floor(rand() * people));
      const s = Float32Array.from({ length: nq * ng }, () => Math.round(rand() * 8) / 8); // coarse → many ties
      const got = retrievalMetrics(s, qp, gp);
      const want = reference(s, qp, gp);
      for (const k of ['r1', 'r5', 'r10', 'mAP', 'mINP'] as const) expect(got[k]).toBeCloseTo(want[k], 9);
    }
  });

  it('gives the same figures to the bit when a split is summed in chunks or from per-query figures', () => {
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const [nq, ng, people] = [90, 70, 15];
    const qp = Array.from({ length: nq }, () => Math.floor(rand() * people) + (rand() < 0.1 ? 100 : 0));
    const gp = Array.from({ length: ng }, () => Math.floor(rand() * people));
    const s = Float32Array.from({ length: nq * ng }, () => rand());
    const whole = retrievalMetrics(s, qp, gp);
    expect(whole.queriesWithoutMatch).toBeGreaterThan(0);
    // eval.ts: chunk by chunk, re-adding each chunk's per-query figures.
    const chunked = new MetricsAccumulator();
    for (let start = 0; start < nq; start += 16) {
      const end = Math.min(nq, start + 16);
      const m = retrievalMetrics(s.subarray(start * ng, end * ng), qp.slice(start, end), gp);
      for (let i = 0; i < end - start; i++) {
        const first = m.perQuery.firstMatchRank[i]!;
        if (first > 0) chunked.add(first, m.perQuery.ap[i]!, m.perQuery.inp[i]!);
      }
    }
    const { perQuery: _p, gallery: _g, queriesWithoutMatch: _w, ...figures } = whole;
    expect(chunked.figures()).toStrictEqual(figures);
    // No query: zeros, not NaN.
    expect(new MetricsAccumulator().figures()).toStrictEqual({
      r1: 0,
      r5: 0,
      r10: 0,
      mAP: 0,
      mINP: 0,
      queries: 0,
    });
  });

  it('scores a CUHK-PEDES-sized test split (6148 captions × 3074 images) quickly', () => {
    const nq = 6148,
      ng = 3074;
    const gp = Array.from({ length: ng }, (_, j) => Math.floor(j / 3));
    const qp = Array.from({ length: nq }, (_, q) => Math.floor(q / 6));
    const s = new Float32Array(nq * ng);
    for (let i = 0; i < s.length; i++) s[i] = (Math.imul(i, 2654435761) >>> 0) / 4294967296; // cheap hash noise
    const t0 = performance.now();
    const m = retrievalMetrics(s, qp, gp);
    const seconds = (performance.now() - t0) / 1000;
    console.info(`metrics: ${nq} × ${ng} in ${seconds.toFixed(2)} s`);
    expect(m.queries + m.queriesWithoutMatch).toBe(nq);
    expect(seconds).toBeLessThan(10);
  });
});
