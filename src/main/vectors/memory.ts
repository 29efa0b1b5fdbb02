// The in-process backend: today's VectorIndex (ml/vector-index.ts: exact scan, 1-bit fast path) over
// columns held here. Rows live in growable typed arrays; the index is rebuilt (a view when rows came in
// image id order, else a sorted copy) on the first search after a change. Nothing is written to disk:
// the workspace's SQLite `embeddings` table is where these vectors come from on open.
import { FAST_FROM } from '../search/index';
import { dotAt, VectorIndex, type ScoredIndex } from '../ml/vector-index';
import type {
  StoreIdentity,
  VectorFilter,
  VectorHit,
  VectorRow,
  VectorSearchOptions,
  VectorStore,
} from './types';
import { matchesFilter } from './types';

export class MemoryVectorStore implements VectorStore {
  readonly backend = 'memory' as const;
  readonly modelKey: string;
  readonly dim: number;
  private n = 0;
  private vectors: Float32Array;
  private imageIds: Int32Array;
  private datasetIds: Int32Array;
  private times: Float64Array;
  private cameras: (string | null)[] = [];
  private splits: (string | null)[] = [];
  private slotOf = new Map<number, number>();
  private dead = 0;
  private built: { index: VectorIndex; order: Int32Array | null } | null = null;

  constructor(id: StoreIdentity, capacity = 1024) {
    this.modelKey = id.modelKey;
    this.dim = id.dim;
    this.vectors = new Float32Array(capacity * id.dim);
    this.imageIds = new Int32Array(capacity);
    this.datasetIds = new Int32Array(capacity);
    this.times = new Float64Array(capacity);
  }

  private grow(need: number): void {
    if (need <= this.imageIds.length) return;
    const cap = Math.max(need, this.imageIds.length * 2);
    const v = new Float32Array(cap * this.dim);
    v.set(this.vectors.subarray(0, this.n * this.dim));
    this.vectors = v;
    for (const key of ['imageIds', 'datasetIds'] as const) {
      const a = new Int32Array(cap);
      a.set(this[key].subarray(0, this.n));
      this[key] = a;
    }
    const t = new Float64Array(cap);
    t.set(this.times.subarray(0, this.n));
    this.times = t;
  }

  upsert(rows: readonly VectorRow[]): Promise<void> {
    this.grow(this.n + rows.length);
    for (const r of rows) {
      if (r.vector.length !== this.dim)
        throw new RangeError(`image ${r.imageId}: ${r.vector.length} values, the store holds ${this.dim}`);
      const old = this.slotOf.get(r.imageId);
      if (old !== undefined) {
        this.imageIds[old] = -1;
        this.dead++;
      }
      const s = this.n++;
      this.vectors.set(r.vector, s * this.dim);
      this.imageIds[s] = r.imageId;
      this.datasetIds[s] = r.datasetId;
      this.times[s] = r.time ?? NaN;
      this.cameras[s] = r.camera;
      this.splits[s] = r.split;
      this.slotOf.set(r.imageId, s);
    }
    this.built = null;
    return Promise.resolve();
  }

  delete(imageIds: readonly number[]): Promise<void> {
    for (const id of imageIds) {
      const s = this.slotOf.get(id);
      if (s === undefined) continue;
      this.imageIds[s] = -1;
      this.slotOf.delete(id);
      this.dead++;
      this.built = null;
    }
    return Promise.resolve();
  }

  /** Drops deleted slots and puts rows in image id order, so ties rank by image id as everywhere else. */
  private compact(): void {
    let sorted = true;
    let prev = -Infinity;
    for (let s = 0; s < this.n; s++) {
      const id = this.imageIds[s]!;
      if (id < 0) continue;
      if (id < prev) sorted = false;
      prev = id;
    }
    if (sorted && this.dead === 0) return;
    const live: number[] = [];
    for (let s = 0; s < this.n; s++) if (this.imageIds[s]! >= 0) live.push(s);
    live.sort((a, b) => this.imageIds[a]! - this.imageIds[b]!);
    const d = this.dim;
    const v = new Float32Array(Math.max(live.length, 1) * d);
    const ids = new Int32Array(Math.max(live.length, 1));
    const ds = new Int32Array(ids.length);
    const ts = new Float64Array(ids.length);
    const cams: (string | null)[] = [];
    const splits: (string | null)[] = [];
    this.slotOf.clear();
    live.forEach((s, i) => {
      v.set(this.vectors.subarray(s * d, (s + 1) * d), i * d);
      ids[i] = this.imageIds[s]!;
      ds[i] = this.datasetIds[s]!;
      ts[i] = this.times[s]!;
      cams.push(this.cameras[s]!);
      splits.push(this.splits[s]!);
      this.slotOf.set(ids[i], i);
    });
    Object.assign(this, { vectors: v, imageIds: ids, datasetIds: ds, times: ts, cameras: cams, splits });
    this.n = live.length;
    this.dead = 0;
  }

  private index(): VectorIndex {
    if (!this.built) {
      this.compact();
      this.built = {
        index: new VectorIndex(this.vectors.subarray(0, this.n * this.dim), this.dim),
        order: null,
      };
    }
    return this.built.index;
  }

  private meta(s: number): Omit<VectorRow, 'vector'> {
    const t = this.times[s]!;
    return {
      imageId: this.imageIds[s]!,
      datasetId: this.datasetIds[s]!,
      camera: this.cameras[s] ?? null,
      time: Number.isNaN(t) ? null : t,
      split: this.splits[s] ?? null,
    };
  }

  private mask(filter: VectorFilter | undefined): Uint8Array | undefined {
    if (!filter) return undefined;
    const m = new Uint8Array(this.n);
    const ds = filter.datasetIds ? new Set(filter.datasetIds) : null;
    const onlyDatasets =
      ds &&
      !filter.cameras &&
      filter.timeFrom === undefined &&
      filter.timeTo === undefined &&
      filter.split === undefined;
    for (let s = 0; s < this.n; s++) {
      if (onlyDatasets) m[s] = ds.has(this.datasetIds[s]!) ? 1 : 0;
      else m[s] = matchesFilter(this.meta(s), filter) ? 1 : 0;
    }
    return m;
  }

  search(query: Float32Array, k: number, opts: VectorSearchOptions = {}): Promise<VectorHit[]> {
    const index = this.index();
    if (this.n === 0) return Promise.resolve([]);
    const mask = this.mask(opts.filter);
    const fast = !opts.exact && index.size > FAST_FROM;
    const hits: ScoredIndex[] = fast ? index.fastTopK(query, k, { mask }) : index.topK(query, k, { mask });
    return Promise.resolve(hits.map((h) => ({ imageId: this.imageIds[h.index]!, score: h.score })));
  }

  /** The full similarity row in image id order (evaluation and MTI rank the whole gallery). */
  scoreAll(query: Float32Array): { imageIds: Int32Array; scores: Float32Array } {
    const index = this.index();
    return { imageIds: this.imageIds.subarray(0, this.n), scores: index.scoreAll(query) };
  }

  scoreIds(queries: readonly Float32Array[], imageIds: ArrayLike<number>): Promise<Float32Array[]> {
    this.index();
    const d = this.dim;
    const slots = Int32Array.from({ length: imageIds.length }, (_, i) => this.slotOf.get(imageIds[i]!) ?? -1);
    return Promise.resolve(
      queries.map((q) => {
        const out = new Float32Array(slots.length);
        slots.forEach((s, i) => (out[i] = s < 0 ? NaN : dotAt(this.vectors, s * d, q, d)));
        return out;
      }),
    );
  }

  count(filter?: VectorFilter): Promise<number> {
    this.index();
    if (!filter) return Promise.resolve(this.n);
    const m = this.mask(filter)!;
    let c = 0;
    for (const x of m) c += x;
    return Promise.resolve(c);
  }

  async *rows(batch = 4096): AsyncIterable<VectorRow[]> {
    this.index();
    for (let start = 0; start < this.n; start += batch) {
      const out: VectorRow[] = [];
      for (let s = start; s < Math.min(this.n, start + batch); s++)
        out.push({ ...this.meta(s), vector: this.vectors.slice(s * this.dim, (s + 1) * this.dim) });
      yield out;
    }
  }

  /** Builds the fast path's codes now rather than on the first search. */
  finish(): Promise<void> {
    const index = this.index();
    if (index.size > FAST_FROM) index.prepareFast();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.built = null;
    this.vectors = new Float32Array(0);
    this.n = 0;
    return Promise.resolve();
  }
}
