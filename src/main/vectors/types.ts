// The vector store: where one model's image vectors live and how they are ranked. Two backends
// (memory.ts: the in-process index; lance.ts: LanceDB tables on disk), one contract, so search,
// evaluation and the bench rank the same way whichever a workspace uses (docs: CONTEXT.md "vectors").
// SQLite's `embeddings` table stays the record of every vector; a store is built from it (or copied from
// another store) and can always be rebuilt, so a damaged store loses nothing.

export const VECTOR_BACKENDS = ['memory', 'lancedb'] as const;
export type VectorBackend = (typeof VECTOR_BACKENDS)[number];

/** One image's vector with the columns searches filter on. */
export interface VectorRow {
  imageId: number;
  datasetId: number;
  /** Camera name for footage crops; null for dataset images. */
  camera: string | null;
  /** Capture time, ms since the epoch; null when unknown. */
  time: number | null;
  /** 'train' | 'val' | 'test' or null. */
  split: string | null;
  /** Unit length (cosine = dot); `dim` values. */
  vector: Float32Array;
}

/** Filters are applied inside the search (LanceDB: a `where` prefilter), never to its top K afterwards. */
export interface VectorFilter {
  datasetIds?: readonly number[];
  cameras?: readonly string[];
  /** Inclusive range in ms; either end may be open. */
  timeFrom?: number;
  timeTo?: number;
  split?: string;
}

export interface VectorSearchOptions {
  filter?: VectorFilter;
  /** Score every (filtered) vector; rankings then equal across backends. Default: the backend's fast path. */
  exact?: boolean;
}

export interface VectorHit {
  imageId: number;
  /** Cosine similarity. */
  score: number;
}

/** What a store holds: one model's vectors, checked on every open. */
export interface StoreIdentity {
  /** A stable key for the model: its name and the sha256 of its image tower (another tower → another key). */
  modelKey: string;
  dim: number;
}

export interface VectorStore extends StoreIdentity {
  readonly backend: VectorBackend;
  /** Adds rows, replacing rows of the same image id. */
  upsert(rows: readonly VectorRow[]): Promise<void>;
  delete(imageIds: readonly number[]): Promise<void>;
  /** Top `k` by cosine, best first; ties by lower image id. */
  search(query: Float32Array, k: number, opts?: VectorSearchOptions): Promise<VectorHit[]>;
  /**
   * Exact cosine of each query with each of `imageIds`: row q is aligned with `imageIds`, NaN where the store
   * has no vector for an id. What re-ranking a whole gallery (MTI) and evaluation need: every score of a given
   * image set, not a top K. Computed with the same dot product on every backend, so the scores are equal.
   */
  scoreIds(queries: readonly Float32Array[], imageIds: ArrayLike<number>): Promise<Float32Array[]>;
  count(filter?: VectorFilter): Promise<number>;
  /** Every row, in image id order (switching backends, export). */
  rows(): AsyncIterable<VectorRow[]>;
  /** Builds the approximate index after bulk loading (no-op where none is needed). */
  finish(): Promise<void>;
  close(): Promise<void>;
}

/** Rows in this workspace from which the automatic backend is LanceDB: above it the RAM index costs GBs. */
export const LANCEDB_FROM = 2_000_000;

/** The backend a workspace gets when its setting is 'auto'. */
export const autoBackend = (rows: number): VectorBackend => (rows >= LANCEDB_FROM ? 'lancedb' : 'memory');

export function matchesFilter(r: Omit<VectorRow, 'vector'>, f: VectorFilter | undefined): boolean {
  if (!f) return true;
  if (f.datasetIds && !f.datasetIds.includes(r.datasetId)) return false;
  if (f.cameras && (r.camera === null || !f.cameras.includes(r.camera))) return false;
  if (f.timeFrom !== undefined && (r.time === null || r.time < f.timeFrom)) return false;
  if (f.timeTo !== undefined && (r.time === null || r.time > f.timeTo)) return false;
  if (f.split !== undefined && r.split !== f.split) return false;
  return true;
}
