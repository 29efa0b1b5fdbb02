/**
 * Retrieval metrics of the IRRA/RDE protocol (ALGORITHMS.md §4): every query ranks the whole gallery by
 * similarity, descending; a match is a gallery item with the query's person id.
 *
 * Ties: equal scores are ordered by gallery index (a stable sort). IRRA's torch.argsort is not stable, so its
 * tie order is unspecified; ours is fixed so results reproduce. NaN scores rank below everything.
 *
 * Queries whose person id has no image in the gallery have no defined AP/INP (IRRA would produce NaN); they are
 * left out of every metric and counted in `queriesWithoutMatch`.
 */
import { AppError } from '../errors';

export interface RetrievalMetrics extends MetricFigures {
  gallery: number;
  queriesWithoutMatch: number;
}

export interface PerQuery {
  /** 1-based rank of the first match; 0 when the query has no match. */
  firstMatchRank: Int32Array;
  /** Average precision in 0–1; NaN when the query has no match. */
  ap: Float64Array;
  /** matches / rank of the last match, 0–1; NaN when the query has no match. */
  inp: Float64Array;
}

export type PersonId = number | string;

export interface MetricsOptions {
  /**
   * Gallery items that take no part in a query's ranking — neither match nor non-match, as if absent from
   * the gallery for that query: the re-ID rule's same person seen by the same camera (reid-protocol.ts).
   */
  exclude?: (query: number, gallery: number) => boolean;
}

/** Above this many matches per query, sort the row instead of counting per match. */
const SORT_THRESHOLD = 48;

/**
 * @param similarity queries × gallery, row-major.
 * @param queryPids person id of each query (caption).
 * @param galleryPids person id of each gallery image.
 */
export function retrievalMetrics(
  similarity: Float32Array,
  queryPids: ArrayLike<PersonId>,
  galleryPids: ArrayLike<PersonId>,
  options: MetricsOptions = {},
): RetrievalMetrics & { perQuery: PerQuery } {
  const nq = queryPids.length;
  const ng = galleryPids.length;
  if (similarity.length !== nq * ng) {
    throw new AppError(
      'bad_request',
      `The similarity matrix has ${similarity.length} values, expected ${nq} queries × ${ng} gallery items.`,
    );
  }
  // Map ids to small integers once: comparisons in the hot loop stay numeric.
  const codes = new Map<PersonId, number>();
  const code = (p: PersonId): number => {
    let c = codes.get(p);
    if (c === undefined) codes.set(p, (c = codes.size));
    return c;
  };
  const g = Int32Array.from({ length: ng }, (_, j) => code(galleryPids[j]!));
  const byPid = new Map<number, number[]>();
  for (let j = 0; j < ng; j++) {
    const list = byPid.get(g[j]!);
    if (list) list.push(j);
    else byPid.set(g[j]!, [j]);
  }

  const firstMatchRank = new Int32Array(nq);
  const ap = new Float64Array(nq).fill(NaN);
  const inp = new Float64Array(nq).fill(NaN);
  const row = new Float32Array(ng);
  const { exclude } = options;
  const skip = exclude ? new Uint8Array(ng) : null;
  const sums = new MetricsAccumulator();

  for (let q = 0; q < nq; q++) {
    let matches = byPid.get(code(queryPids[q]!));
    if (!matches) continue;
    if (skip) {
      for (let j = 0; j < ng; j++) skip[j] = exclude!(q, j) ? 1 : 0;
      matches = matches.filter((j) => skip[j] === 0);
      if (matches.length === 0) continue;
    }
    for (let j = 0; j < ng; j++) {
      const s = similarity[q * ng + j]!;
      row[j] = Number.isNaN(s) ? -Infinity : s;
    }
    const ranks =
      matches.length > SORT_THRESHOLD
        ? ranksBySorting(row, g, g[matches[0]!]!, skip)
        : ranksByCounting(row, matches, skip);
    const m = ranks.length;
    let sum = 0;
    for (let i = 0; i < m; i++) sum += (i + 1) / ranks[i]!;
    const first = ranks[0]!;
    firstMatchRank[q] = first;
    ap[q] = sum / m;
    inp[q] = m / ranks[m - 1]!;
    sums.add(first, ap[q]!, inp[q]!);
  }

  const figures = sums.figures();
  return {
    ...figures,
    gallery: ng,
    queriesWithoutMatch: nq - figures.queries,
    perQuery: { firstMatchRank, ap, inp },
  };
}

/** R@1/5/10, mAP and mINP in percent (0–100) over the queries that were scored. */
export interface MetricFigures {
  r1: number;
  r5: number;
  r10: number;
  mAP: number;
  mINP: number;
  /** Queries that were scored (those with at least one match). */
  queries: number;
}

/**
 * The one place R@k, mAP and mINP are summed: per query, in the order queries are added. A split scored in
 * chunks (eval.ts), from persisted per-query figures (eval-mti.ts) or whole (`retrievalMetrics`) adds the
 * same numbers in the same order, so it gets the same figures to the last bit.
 */
export class MetricsAccumulator {
  private scored = 0;
  private hits1 = 0;
  private hits5 = 0;
  private hits10 = 0;
  private sumAp = 0;
  private sumInp = 0;

  /** One query with a match: the 1-based rank of its first match, its AP and INP (0–1). */
  add(firstMatchRank: number, ap: number, inp: number): void {
    this.scored++;
    this.sumAp += ap;
    this.sumInp += inp;
    if (firstMatchRank <= 1) this.hits1++;
    if (firstMatchRank <= 5) this.hits5++;
    if (firstMatchRank <= 10) this.hits10++;
  }

  figures(): MetricFigures {
    const pct = (x: number): number => (this.scored ? (100 * x) / this.scored : 0);
    return {
      r1: pct(this.hits1),
      r5: pct(this.hits5),
      r10: pct(this.hits10),
      mAP: pct(this.sumAp),
      mINP: pct(this.sumInp),
      queries: this.scored,
    };
  }
}

/** 1-based ranks of the matches, ascending: everything scored higher, plus equal scores earlier in the gallery. */
function ranksByCounting(row: Float32Array, matches: readonly number[], skip: Uint8Array | null): number[] {
  const m = matches.length;
  const ms = Float64Array.from(matches, (j) => row[j]!);
  const ranks = new Int32Array(m).fill(1);
  for (let k = 0; k < row.length; k++) {
    if (skip !== null && skip[k] === 1) continue;
    const s = row[k]!;
    for (let t = 0; t < m; t++) {
      const v = ms[t]!;
      if (s > v || (s === v && k < matches[t]!)) ranks[t]!++;
    }
  }
  return Array.from(ranks).sort((a, b) => a - b);
}

function ranksBySorting(row: Float32Array, g: Int32Array, pid: number, skip: Uint8Array | null): number[] {
  const order: number[] = [];
  for (let j = 0; j < row.length; j++) if (skip === null || skip[j] === 0) order.push(j);
  order.sort((a, b) => row[b]! - row[a]! || a - b);
  const ranks: number[] = [];
  order.forEach((j, i) => g[j] === pid && ranks.push(i + 1));
  return ranks;
}

/** Linear-interpolated quantile (numpy's default) of values sorted ascending; NaN when there are none. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Top1Summary {
  min: number;
  p10: number;
  median: number;
  p90: number;
  max: number;
  mean: number;
}

/**
 * The spread of the queries' best gallery similarity, which is what ξ (MTI's early exit) is set against.
 * Sorts `top1` in place.
 */
export function summarizeTop1(top1: Float64Array): Top1Summary {
  const n = top1.length;
  const mean = top1.reduce((a, b) => a + b, 0) / n;
  top1.sort();
  return {
    min: top1[0]!,
    p10: quantile(top1, 0.1),
    median: quantile(top1, 0.5),
    p90: quantile(top1, 0.9),
    max: top1[n - 1]!,
    mean,
  };
}
