// Vector search over one model's gallery: N vectors of D float32 values, L2-normalised, so the dot
// product is the cosine. Two ways to answer a query:
// - exact: one pass over the contiguous Float32Array, bounded heap for the top K;
// - fast: 1-bit codes (is each component above the gallery mean?), scored against the float query
//   by per-query byte tables: a first pass over every code reads only the half of the code words that
//   weigh most for this query and keeps a shortlist; a second pass scores the shortlist on all words
//   and keeps R; those R are rescored exactly. At 1M × 512 the codes are 64 MB instead of 2 GB.
//   From PARALLEL_FROM vectors a helper thread scans half of the first pass when a core looks free
//   (vector-index/parallel.ts); the answer is the same with or without it.
//   Figures: scripts/bench-search.ts.
// Also measured, and not used (pure JS, no SIMD, one core, 1M × 512): int8 dot products ≈ 900 ms, slower
// than the float scan (≈ 650 ms); a symmetric Hamming first pass (query signs vs code, popcount table,
// ≈ 16 ms) is as cheap but ranks worse: it needed an 8192-vector exact rescore to reach recall@10 0.99
// at 100k; IVF needs k-means and a 1M × lists assignment at build, minutes in JS.
import { look, partialScores } from './vector-index/kernels';
import { scanHelper } from './vector-index/parallel';

// Ties are broken by the lower gallery index everywhere (ALGORITHMS.md §4: stable by gallery order).

export interface ScoredIndex {
  /** Position in the gallery (0-based, the order the vectors were given in). */
  index: number;
  score: number;
}

export interface TopKOptions {
  /** Only positions whose mask byte is non-zero take part (e.g. one dataset of a shared gallery). */
  mask?: Uint8Array;
}

export interface FastTopKOptions extends TopKOptions {
  /** Candidates kept by the Hamming pass for the asymmetric pass; more costs time and buys recall. */
  shortlist?: number;
  /** Candidates kept by the asymmetric pass and rescored exactly. */
  rescore?: number;
  /** Code words (32 dimensions each) the first pass reads per vector, chosen per query by weight. */
  firstPassWords?: number;
  /**
   * Let a helper thread scan half of a large gallery: 'auto' (default) when a core looks free, true
   * whenever the helper is up, false never. Results are the same either way; only latency differs.
   */
  parallel?: boolean | 'auto';
}

/** Keeps the best `k` (score desc, index asc) pairs seen so far; the root is the worst kept. */
export class TopK {
  private readonly scores: Float64Array;
  private readonly indices: Int32Array;
  private count = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(Math.max(k, 1));
    this.indices = new Int32Array(Math.max(k, 1));
  }

  /** Scores at or below this cannot enter once the heap is full (callers scanning in index order). */
  get threshold(): number {
    return this.count < this.k ? -Infinity : (this.scores[0] as number);
  }

  push(index: number, score: number): void {
    if (this.k <= 0) return;
    if (this.count < this.k) {
      this.siftUp(this.count++, index, score);
      return;
    }
    const rs = this.scores[0] as number;
    // Replace the root only when strictly better: higher score, or the same score at a lower index.
    if (score > rs || (score === rs && index < (this.indices[0] as number))) this.siftDown(index, score);
  }

  /** Best first; equal scores in gallery order. */
  result(): ScoredIndex[] {
    const out: ScoredIndex[] = [];
    for (let i = 0; i < this.count; i++)
      out.push({ index: this.indices[i] as number, score: this.scores[i] as number });
    return out.sort((a, b) => b.score - a.score || a.index - b.index);
  }

  // "worse(a, b)": a ranks below b.
  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  private siftUp(pos: number, index: number, score: number): void {
    const s = this.scores;
    const ix = this.indices;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const ps = s[parent] as number;
      const pi = ix[parent] as number;
      if (!this.worse(score, index, ps, pi)) break;
      s[pos] = ps;
      ix[pos] = pi;
      pos = parent;
    }
    s[pos] = score;
    ix[pos] = index;
  }

  private siftDown(index: number, score: number): void {
    const s = this.scores;
    const ix = this.indices;
    const n = this.count;
    let pos = 0;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.worse(s[r] as number, ix[r] as number, s[l] as number, ix[l] as number)) c = r;
      const cs = s[c] as number;
      const ci = ix[c] as number;
      if (!this.worse(cs, ci, score, index)) break;
      s[pos] = cs;
      ix[pos] = ci;
      pos = c;
    }
    s[pos] = score;
    ix[pos] = index;
  }
}

/**
 * Cosine similarity of two vectors of any length (not assumed unit): 0 when either is all zeros. The one
 * cosine of the code base: the review desk's caption scores use it, and so do the tests that compare
 * embeddings (ONNX against PyTorch, PES, image formats).
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Dot product of `q` with the vector stored at `offset` in `data`; four accumulators keep the FPU busy. */
export function dotAt(data: Float32Array, offset: number, q: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  const end4 = dim & ~3;
  for (; j < end4; j += 4) {
    s0 += (data[offset + j] as number) * (q[j] as number);
    s1 += (data[offset + j + 1] as number) * (q[j + 1] as number);
    s2 += (data[offset + j + 2] as number) * (q[j + 2] as number);
    s3 += (data[offset + j + 3] as number) * (q[j + 3] as number);
  }
  for (; j < dim; j++) s0 += (data[offset + j] as number) * (q[j] as number);
  return s0 + s1 + (s2 + s3);
}

/** A gallery of `size` vectors of `dim` float32 values in one contiguous array. */
export class VectorIndex {
  readonly size: number;
  private codes: BinaryCodes | null = null;

  constructor(
    readonly vectors: Float32Array,
    readonly dim: number,
  ) {
    if (!Number.isInteger(dim) || dim <= 0)
      throw new RangeError(`dimension must be a positive integer, got ${dim}`);
    if (vectors.length % dim !== 0)
      throw new RangeError(`${vectors.length} values do not split into vectors of ${dim}`);
    this.size = vectors.length / dim;
  }

  private checkQuery(query: Float32Array): void {
    if (query.length !== this.dim)
      throw new RangeError(`query has ${query.length} dimensions, the gallery has ${this.dim}`);
  }

  private checkMask(mask: Uint8Array | undefined): void {
    if (mask && mask.length !== this.size)
      throw new RangeError(`mask has ${mask.length} entries, the gallery has ${this.size}`);
  }

  /** The full similarity row (MTI and evaluation rank the whole gallery). */
  scoreAll(query: Float32Array, out: Float32Array = new Float32Array(this.size)): Float32Array {
    this.checkQuery(query);
    if (out.length !== this.size)
      throw new RangeError(`output has ${out.length} slots, the gallery has ${this.size}`);
    const { vectors, dim } = this;
    for (let i = 0, o = 0; i < this.size; i++, o += dim) out[i] = dotAt(vectors, o, query, dim);
    return out;
  }

  /** Exact top `k` by dot product; equal scores keep gallery order. */
  topK(query: Float32Array, k: number, opts: TopKOptions = {}): ScoredIndex[] {
    this.checkQuery(query);
    this.checkMask(opts.mask);
    const heap = new TopK(Math.min(k, this.size));
    const { vectors, dim } = this;
    const mask = opts.mask;
    let floor = heap.threshold;
    for (let i = 0, o = 0; i < this.size; i++, o += dim) {
      if (mask && mask[i] === 0) continue;
      const s = dotAt(vectors, o, query, dim);
      // Scanning in index order, an equal score never displaces a kept one: strictly greater only.
      if (s > floor) {
        heap.push(i, s);
        floor = heap.threshold;
      }
    }
    return heap.result();
  }

  /** Builds (once) the 1-bit codes the fast path scans; 6–11 s per million 512-d vectors under load ≈ 8. */
  prepareFast(): void {
    this.codes ??= BinaryCodes.build(this.vectors, this.dim, this.size);
  }

  /**
   * Approximate top `k`: two coarse passes on 1-bit codes pick `shortlist`, then `rescore` candidates
   * (ties at each cut in gallery order), which are scored exactly. Returned scores are exact cosines,
   * ordered as in `topK`; only membership can differ from exact search.
   */
  fastTopK(query: Float32Array, k: number, opts: FastTopKOptions = {}): ScoredIndex[] {
    this.checkQuery(query);
    this.checkMask(opts.mask);
    this.prepareFast();
    const codes = this.codes as BinaryCodes;
    const budget = fastBudget(this.size, k);
    const rescore = Math.max(k, opts.rescore ?? budget.rescore);
    const shortlist = Math.max(rescore, opts.shortlist ?? budget.shortlist);
    const coarse = codes.partialShortlist(
      query,
      opts.firstPassWords ?? FIRST_PASS_WORDS,
      shortlist,
      opts.mask,
      opts.parallel ?? 'auto',
    );
    const fine = codes.asymmetricShortlist(query, coarse, rescore);
    const heap = new TopK(Math.min(k, fine.length));
    const { vectors, dim } = this;
    for (let c = 0; c < fine.length; c++) {
      const i = fine[c] as number;
      heap.push(i, dotAt(vectors, i * dim, query, dim));
    }
    return heap.result();
  }
}

/**
 * Candidate budgets measured on clustered CLIP-like data (scripts/bench-search.ts) to keep
 * recall@10 ≥ 0.99 against exact search. At 1M (200 queries, one run, interleaved): shortlist/rescore
 * 100k/4096 → 0.9945, 50k/4096 → 0.9925, 40k/6144 → 0.9940, 30k/4096 → 0.989, 50k/2048 → 0.981.
 * The rescore is what limits recall; the shortlist is what costs time. bench:search --queries 200
 * --alt-budget 100000,4096, load ≈ 5 on 2 cores: 40k/6000 p50 63 ms, p95 109 ms, recall 0.9935;
 * 100k/4096 p50 83 ms, p95 153 ms, recall 0.9945. Below ~700k the floors (4096, 4 × rescore) rule.
 */
export function fastBudget(size: number, k: number): { shortlist: number; rescore: number } {
  const rescore = Math.min(size, Math.max(4096, 8 * k, Math.ceil(size * RESCORE_SHARE)));
  const shortlist = Math.min(size, Math.max(4 * rescore, Math.ceil(size * SHORTLIST_SHARE)));
  return { shortlist, rescore };
}
/** Words (of 16 at 512-d) the first pass reads per code: the 8 that weigh most for the query. */
const FIRST_PASS_WORDS = 8;
/** Galleries from this size split the first pass with the scan helper thread. */
export const PARALLEL_FROM = 100_000;
const SHORTLIST_SHARE = 0.04;
const RESCORE_SHARE = 0.006;

/**
 * One bit per dimension: is the component above the gallery mean? Centring matters because CLIP
 * embeddings share a large common direction; without it many bits are the same for every image.
 * The query is not quantised: each code stands for `mean ± spread` per dimension, so its score is
 * Σ q_j·spread_j·(±1) (+ a constant), summed byte by byte from a per-query table of 256 partial sums
 * per byte. Ranking by q·x equals ranking by q·(x − mean), which is what the bits approximate.
 */
class BinaryCodes {
  /** Per-query partial scores, reused: one search runs at a time on the JS thread. */
  private readonly scratch: Float32Array;

  private constructor(
    private readonly bits: Uint32Array,
    private readonly words: number,
    private readonly dim: number,
    private readonly size: number,
    /** Mean absolute deviation from the mean, per dimension: the magnitude one bit stands for. */
    private readonly spread: Float64Array,
  ) {
    this.scratch = new Float32Array(new SharedArrayBuffer(size * 4));
  }

  static build(vectors: Float32Array, dim: number, size: number): BinaryCodes {
    const mean = new Float64Array(dim);
    for (let i = 0, o = 0; i < size; i++, o += dim)
      for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) + (vectors[o + j] as number);
    for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) / Math.max(size, 1);
    const spread = new Float64Array(dim);
    const words = Math.ceil(dim / 32);
    // Shared, so the scan helper thread (vector-index/parallel.ts) reads the codes without a copy.
    const bits = new Uint32Array(new SharedArrayBuffer(size * words * 4));
    for (let i = 0, o = 0, w = 0; i < size; i++, o += dim, w += words) {
      // Each word is assembled in a local and stored once: a read-modify-write of the (shared) code
      // array per dimension made this loop several times slower.
      for (let t = 0; t < words; t++) {
        let word = 0;
        const end = Math.min(dim, (t + 1) * 32);
        for (let j = t * 32; j < end; j++) {
          const d = (vectors[o + j] as number) - (mean[j] as number);
          spread[j] = (spread[j] as number) + Math.abs(d);
          if (d > 0) word |= 1 << (j & 31);
        }
        bits[w + t] = word;
      }
    }
    for (let j = 0; j < dim; j++) spread[j] = (spread[j] as number) / Math.max(size, 1);
    return new BinaryCodes(bits, words, dim, size, spread);
  }

  /** table[b * 256 + v]: Σ over the 8 dimensions of byte b of q_j · spread_j · (bit ? +1 : −1). */
  private byteTable(query: Float32Array): { table: Float32Array; weight: Float64Array } {
    const nBytes = this.words * 4; // whole words: the padding bits past dim are 0 and weigh nothing
    // float32 halves the table (64 KB at 512-d) so more of it stays in cache; ample for a coarse score.
    const table = new Float32Array(nBytes * 256);
    const weight = new Float64Array(nBytes);
    const w = new Float64Array(8);
    for (let b = 0; b < nBytes; b++) {
      const t = b * 256;
      let base = 0;
      let total = 0;
      for (let bit = 0; bit < 8; bit++) {
        const j = b * 8 + bit;
        w[bit] = j < this.dim ? (query[j] as number) * (this.spread[j] as number) : 0;
        base -= w[bit] as number;
        total += Math.abs(w[bit] as number);
      }
      weight[b] = total;
      table[t] = base;
      for (let v = 1; v < 256; v++) {
        const low = v & -v;
        table[t + v] = (table[t + (v ^ low)] as number) + 2 * (w[31 - Math.clz32(low)] as number);
      }
    }
    return { table, weight };
  }

  /**
   * First pass over every code: the asymmetric score restricted to the `m` 32-bit words (32 dimensions
   * each) that carry the most of this query's weight, then the best `r` by that partial score
   * (bucketed, ties at the cut in gallery order). Returns gallery positions in gallery order.
   */
  partialShortlist(
    query: Float32Array,
    m: number,
    r: number,
    mask: Uint8Array | undefined,
    parallel: boolean | 'auto',
  ): Int32Array {
    const { size, words } = this;
    const { table, weight } = this.byteTable(query);
    m = Math.max(1, Math.min(m, words));
    const wordWeight = Array.from({ length: words }, (_, t) => {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += weight[4 * t + k] ?? 0;
      return sum;
    });
    const picked = Array.from({ length: words }, (_, t) => t)
      .sort((a, b) => (wordWeight[b] as number) - (wordWeight[a] as number))
      .slice(0, m)
      .sort((a, b) => a - b);
    // A compact table (1024 entries per picked word: its four byte tables) that stays in cache.
    const sub = new Float32Array(m * 1024);
    const at = new Int32Array(m);
    for (let p = 0; p < m; p++) {
      const t = picked[p] as number;
      at[p] = t;
      sub.set(table.subarray(t * 1024, t * 1024 + 1024), p * 1024);
    }
    const scores = this.scratch;
    const job = { bits: this.bits, words, sub, at, m, mask, scores };
    // Split across two threads only where the scan is long enough to repay the hand-off (~0.2 ms).
    const helper = parallel !== false && size >= PARALLEL_FROM ? scanHelper() : null;
    let range = helper && (parallel === true || helper.coreLooksFree()) ? helper.scan(job, size) : null;
    if (!range) {
      const r2 = new Float64Array(2);
      partialScores(this.bits, words, sub, at, m, mask ?? null, 0, scores, 0, size, r2);
      range = [r2[0] as number, r2[1] as number];
    }
    const [lo, hi] = range;
    return selectTop(scores, size, r, lo, hi);
  }

  /** The best `r` of `candidates` by the full asymmetric score, in gallery order. */
  asymmetricShortlist(query: Float32Array, candidates: Int32Array, r: number): Int32Array {
    if (candidates.length <= r) return candidates;
    const { words, bits } = this;
    const { table } = this.byteTable(query);
    const scores = this.scratch;
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < candidates.length; c++) {
      const o = (candidates[c] as number) * words;
      let s = 0;
      if (words === 16)
        s =
          look(table, 0, bits[o + 0] as number) +
          look(table, 1024, bits[o + 1] as number) +
          look(table, 2048, bits[o + 2] as number) +
          look(table, 3072, bits[o + 3] as number) +
          look(table, 4096, bits[o + 4] as number) +
          look(table, 5120, bits[o + 5] as number) +
          look(table, 6144, bits[o + 6] as number) +
          look(table, 7168, bits[o + 7] as number) +
          look(table, 8192, bits[o + 8] as number) +
          look(table, 9216, bits[o + 9] as number) +
          look(table, 10240, bits[o + 10] as number) +
          look(table, 11264, bits[o + 11] as number) +
          look(table, 12288, bits[o + 12] as number) +
          look(table, 13312, bits[o + 13] as number) +
          look(table, 14336, bits[o + 14] as number) +
          look(table, 15360, bits[o + 15] as number);
      else for (let w = 0, t = 0; w < words; w++, t += 1024) s += look(table, t, bits[o + w] as number);
      scores[c] = s;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    const picked = selectTop(scores, candidates.length, r, lo, hi);
    for (let p = 0; p < picked.length; p++) picked[p] = candidates[picked[p] as number] as number;
    return picked;
  }
}

const BUCKETS = 4096;

/**
 * Positions of the `r` highest of `scores[0..n)` (−Infinity = excluded), in gallery order. A histogram
 * over [lo, hi] finds the cut in two linear passes; within the cut bucket, lower positions win.
 * Bucketing makes the cut approximate (up to one bucket's width), which a coarse pass can afford.
 */
function selectTop(scores: Float32Array, n: number, r: number, lo: number, hi: number): Int32Array {
  if (!(hi >= lo)) return new Int32Array(0);
  const width = hi > lo ? (hi - lo) / (BUCKETS - 1) : 1;
  const inv = 1 / width;
  const hist = new Uint32Array(BUCKETS);
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (s === -Infinity) continue;
    const b = ((s - lo) * inv) | 0;
    hist[b] = (hist[b] as number) + 1;
  }
  let cut = BUCKETS - 1;
  let above = 0;
  while (cut >= 0 && above + (hist[cut] as number) < r) above += hist[cut--] as number;
  let edge = cut >= 0 ? r - above : 0;
  const out = new Int32Array(above + edge);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (s === -Infinity) continue;
    const b = ((s - lo) * inv) | 0;
    if (b > cut) out[k++] = i;
    else if (b === cut && edge > 0) {
      out[k++] = i;
      edge--;
    }
  }
  return k === out.length ? out : out.subarray(0, k);
}

/** Resolves when the fast path's scan helper thread can take work (false: it never will, one thread). */
export { scanHelperReady as fastHelperReady } from './vector-index/parallel';
