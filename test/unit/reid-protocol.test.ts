// The re-ID rule against a case worked out by hand: a gallery image of the query's person from the query's
// camera leaves that query's ranking (neither match nor non-match), so ranks, AP and INP are counted
// without it; a query whose only match is such an image has no match left and is counted apart.
import { describe, expect, it } from 'vitest';
import { retrievalMetrics, type PersonId } from '../../src/main/pipelines/metrics';
import { countExcluded, reidExclusion, type ReidSide } from '../../src/main/pipelines/reid-protocol';

//            g0: A c1   g1: B c2   g2: A c2   g3: C c1   g4: A c3
const gallery: ReidSide[] = [
  { pid: 'A', camera: 'c1', group: null },
  { pid: 'B', camera: 'c2', group: null },
  { pid: 'A', camera: 'c2', group: null },
  { pid: 'C', camera: 'c1', group: null },
  { pid: 'A', camera: 'c3', group: null },
];
const queries: ReidSide[] = [
  { pid: 'A', camera: 'c1', group: null }, // its g0 is same person, same camera
  { pid: 'B', camera: 'c2', group: null }, // its only match g1 is same person, same camera
];
const sims = new Float32Array([
  // query A: similarity falls with the gallery index
  0.9, 0.8, 0.7, 0.6, 0.5,
  // query B
  0.1, 0.9, 0.2, 0.3, 0.4,
]);
const pids = (s: ReidSide[]): PersonId[] => s.map((x) => x.pid!);

describe('re-ID protocol: same person and same camera excluded', () => {
  it('without the rule (TBPS-style): A matches at ranks 1, 3, 5', () => {
    const m = retrievalMetrics(sims, pids(queries), pids(gallery));
    // A: AP = (1/1 + 2/3 + 3/5) / 3 = 0.755…; B: its match is rank 1, AP 1.
    expect(m.queries).toBe(2);
    expect(m.r1).toBe(100);
    expect(m.mAP).toBeCloseTo((100 * ((1 + 2 / 3 + 3 / 5) / 3 + 1)) / 2, 6);
  });

  it('with the rule: A ranks g1 g2 g3 g4, its matches at 2 and 4; B has no match left', () => {
    const exclude = reidExclusion(queries, gallery);
    const m = retrievalMetrics(sims, pids(queries), pids(gallery), { exclude });
    expect(m.queries).toBe(1);
    expect(m.queriesWithoutMatch).toBe(1);
    expect(Array.from(m.perQuery.firstMatchRank)).toEqual([2, 0]);
    expect(m.r1).toBe(0);
    expect(m.r5).toBe(100);
    expect(m.r10).toBe(100);
    expect(m.mAP).toBeCloseTo(100 * ((1 / 2 + 2 / 4) / 2), 6); // 50
    expect(m.mINP).toBeCloseTo(100 * (2 / 4), 6); // 50
    expect(countExcluded(queries, gallery, exclude)).toBe(2);
  });

  it('the same rule through the sorting path (many matches per query) gives the same ranks', () => {
    // 60 gallery images of A: the even ones from c1 (the query's camera), the odd ones from c2.
    const big: ReidSide[] = Array.from({ length: 60 }, (_, j) => ({
      pid: 'A',
      camera: j % 2 === 0 ? 'c1' : 'c2',
      group: null,
    }));
    big.push({ pid: 'Z', camera: 'c2', group: null }); // a non-match ranked first
    const s = new Float32Array(61);
    for (let j = 0; j < 60; j++) s[j] = 1 - j / 100;
    s[60] = 2;
    const q = [{ pid: 'A', camera: 'c1', group: null }];
    const m = retrievalMetrics(s, ['A'], pids(big), { exclude: reidExclusion(q, big) });
    // Left: Z, then the 30 odd ones at ranks 2..31. AP = mean of k/(k+1), k = 1..30.
    let ap = 0;
    for (let k = 1; k <= 30; k++) ap += k / (k + 1);
    expect(m.perQuery.firstMatchRank[0]).toBe(2);
    expect(m.mAP).toBeCloseTo((100 * ap) / 30, 5);
    expect(m.mINP).toBeCloseTo((100 * 30) / 31, 5);
  });

  it('CUHK03: with sameGroupOnly a query ranks only the gallery of its own source group', () => {
    const g: ReidSide[] = [
      { pid: 'A', camera: 'c2', group: 'labeled' },
      { pid: 'B', camera: 'c2', group: 'detected' },
      { pid: 'A', camera: 'c2', group: 'detected' },
    ];
    const q: ReidSide[] = [{ pid: 'A', camera: 'c1', group: 'detected' }];
    const m = retrievalMetrics(new Float32Array([0.9, 0.8, 0.7]), ['A'], pids(g), {
      exclude: reidExclusion(q, g, { sameGroupOnly: true }),
    });
    expect(m.perQuery.firstMatchRank[0]).toBe(2); // g0 (labeled) is out; B, then A
  });
});
