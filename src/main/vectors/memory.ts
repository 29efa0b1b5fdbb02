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
import { matchesFilter, topImages } from './types';

export class MemoryVectorStore implements VectorStore {
  readonly backend = 'memory' as const;
  readonly modelKey: string;
  readonly dim: number;
  private n = 0;
  private vectors: Float32Array;
  private imageIds: Int32Array;
  private views: Int32Array;
  private datasetIds: Int32Array;
  private times: Float64Array;
  private cameras: (string | null)[] = [];
  private splits: (string | null)[] = [];
  /** Image id → view → slot. */
  private slotsOf = new Map<number, Map<number, number>>();
  private dead = 0;
  /** The index over the live rows (in image id, view order) and the most rows any image has. */
  private built: { index: VectorIndex; rowsPerImage: number } | null = null;

  constructor(id: StoreIdentity, capacity = 1024) {
    this.modelKey = id.modelKey;
    this.dim = id.dim;
    this.vectors = new Float32Array(capacity * id.dim);
    this.imageIds = new Int32Array(capacity);
    this.views = new Int32Array(capacity);
    this.datasetIds = new Int32Array(capacity);
    this.times = new Float64Array(capacity);
  }

  private grow(need: number): void {
    if (need <= this.imageIds.length) return;
    const cap = Math.max(need, this.imageIds.length * 2);
    const v = new Float32Array(cap * this.dim);
    v.set(this.vectors.subarray(0, this.n * this.dim));
    this.vectors = v;
    for (const key of ['imageIds', 'views', 'datasetIds'] as const) {
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
      let slots = this.slotsOf.get(r.imageId);
      if (!slots) this.slotsOf.set(r.imageId, (slots = new Map()));
      const old = slots.get(r.view);
      if (old !== undefined) {
        this.imageIds[old] = -1;
        this.dead++;
      }
      const s = this.n++;
      this.vectors.set(r.vector, s * this.dim);
      this.imageIds[s] = r.imageId;
      this.views[s] = r.view;
      this.datasetIds[s] = r.datasetId;
      this.times[s] = r.time ?? NaN;
      this.cameras[s] = r.camera;
      this.splits[s] = r.split;
      slots.set(r.view, s);
    }
    this.built = null;
    return Promise.resolve();
  }

  delete(imageIds: readonly number[]): Promise<void> {
    for (const id of imageIds) {
      const slots = this.slotsOf.get(id);
      if (!slots) continue;
      for (const s of slots.values()) this.imageIds[s] = -1;
      this.dead += slots.size;
      this.slotsOf.delete(id);
      this.built = null;
    }
    return Promise.resolve();
  }

  /**
   * Drops deleted slots and puts rows in image id order (then view), so ties rank by image id as everywhere
   * else.
   */
  private compact(): void {
    const before = (a: number, b: number): number =>
      this.imageIds[a]! - this.imageIds[b]! || this.views[a]! - this.views[b]!;
    let sorted = true;
    let prev = -1;
    for (let s = 0; s < this.n; s++) {
      if (this.imageIds[s]! < 0) continue;
      if (prev >= 0 && before(prev, s) > 0) sorted = false;
      prev = s;
    }
    if (sorted && this.dead === 0) return;
    const live: number[] = [];
    for (let s = 0; s < this.n; s++) if (this.imageIds[s]! >= 0) live.push(s);
    live.sort(before);
    const d = this.dim;
    const v = new Float32Array(Math.max(live.length, 1) * d);
    const ids = new Int32Array(Math.max(live.length, 1));
    const vs = new Int32Array(ids.length);
    const ds = new Int32Array(ids.length);
    const ts = new Float64Array(ids.length);
    const cams: (string | null)[] = [];
    const splits: (string | null)[] = [];
    this.slotsOf.clear();
    live.forEach((s, i) => {
      v.set(this.vectors.subarray(s * d, (s + 1) * d), i * d);
      ids[i] = this.imageIds[s]!;
      vs[i] = this.views[s]!;
      ds[i] = this.datasetIds[s]!;
      ts[i] = this.times[s]!;
      cams.push(this.cameras[s]!);
      splits.push(this.splits[s]!);
      let slots = this.slotsOf.get(ids[i]);
      if (!slots) this.slotsOf.set(ids[i], (slots = new Map()));
      slots.set(vs[i], i);
    });
    Object.assign(this, {
      vectors: v,
      imageIds: ids,
      views: vs,
      datasetIds: ds,
      times: ts,
      cameras: cams,
      splits,
    });
    this.n = live.length;
    this.dead = 0;
  }

  private build(): { index: VectorIndex; rowsPerImage: number } {
    if (!this.built) {
      this.compact();
      let rowsPerImage = 1;
      for (const slots of this.slotsOf.values()) rowsPerImage = Math.max(rowsPerImage, slots.size);
      this.built = {
        index: new VectorIndex(this.vectors.subarray(0, this.n * this.dim), this.dim),
        rowsPerImage,
      };
    }
    return this.built;
  }

  private index(): VectorIndex {
    return this.build().index;
  }

  private meta(s: number): Omit<VectorRow, 'vector'> {
    const t = this.times[s]!;
    return {
      imageId: this.imageIds[s]!,
      view: this.views[s]!,
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

  async search(query: Float32Array, k: number, opts: VectorSearchOptions = {}): Promise<VectorHit[]> {
    const { index, rowsPerImage } = this.build();
    if (this.n === 0) return [];
    const mask = this.mask(opts.filter);
    const fast = !opts.exact && index.size > FAST_FROM;
    const rows = (m: number): Promise<VectorHit[]> => {
      const hits: ScoredIndex[] = fast ? index.fastTopK(query, m, { mask }) : index.topK(query, m, { mask });
      return Promise.resolve(hits.map((h) => ({ imageId: this.imageIds[h.index]!, score: h.score })));
    };
    return topImages(k, rows, k * rowsPerImage);
  }

  scoreIds(queries: readonly Float32Array[], imageIds: ArrayLike<number>): Promise<Float32Array[]> {
    this.index();
    const d = this.dim;
    const slots = Array.from({ length: imageIds.length }, (_, i) => [
      ...(this.slotsOf.get(imageIds[i]!)?.values() ?? []),
    ]);
    return Promise.resolve(
      queries.map((q) => {
        const out = new Float32Array(slots.length);
        slots.forEach((of, i) => {
          let best = NaN;
          for (const s of of) {
            const x = dotAt(this.vectors, s * d, q, d);
            if (!(x <= best)) best = x;
          }
          out[i] = best;
        });
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
