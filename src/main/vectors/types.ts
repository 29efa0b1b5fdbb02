// The vector store: where one model's image vectors live and how they are ranked. Two backends
// (memory.ts: the in-process index; lance.ts: LanceDB tables on disk), one contract, so search,
// evaluation and the bench rank the same way whichever a workspace uses (docs: CONTEXT.md "vectors").
// SQLite's `embeddings` table stays the record of every vector; a store is built from it (or copied from
// another store) and can always be rebuilt, so a damaged store loses nothing.

export const VECTOR_BACKENDS = ['memory', 'lancedb'] as const;
export type VectorBackend = (typeof VECTOR_BACKENDS)[number];

/**
 * One vector of an image with the columns searches filter on. An image has one row (view 0, its own vector)
 * or more: a footage crop's views (migration 015; 1 and 2) are rows of the crop's image with its columns.
 * Every search ranks images, not rows: an image scores the best of its rows (`bestPerImage`).
 */
export interface VectorRow {
  imageId: number;
  /** 0: the image's own vector; 1…: a view of it. (imageId, view) is the row's key. */
  view: number;
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
  /** Adds rows, replacing rows of the same image id and view. */
  upsert(rows: readonly VectorRow[]): Promise<void>;
  /** Removes every row (own vector and views) of these images. */
  delete(imageIds: readonly number[]): Promise<void>;
  /** Top `k` images by cosine (each its best row), best first; ties by lower image id. */
  search(query: Float32Array, k: number, opts?: VectorSearchOptions): Promise<VectorHit[]>;
  /**
   * Exact cosine of each query with each of `imageIds` (the best of the image's rows): row q is aligned with
   * `imageIds`, NaN where the store has no vector for an id. What re-ranking a whole gallery (MTI) and evaluation need: every score of a given
   * image set, not a top K. Computed with the same dot product on every backend, so the scores are equal.
   */
  scoreIds(queries: readonly Float32Array[], imageIds: ArrayLike<number>): Promise<Float32Array[]>;
  /** Rows (vectors, views included) that pass the filter. */
  count(filter?: VectorFilter): Promise<number>;
  /** Every row (switching backends, export). */
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

/**
 * Images ranked by their best row: `rows` scored and sorted (score desc, image id asc), so an image's first
 * row is its best; the first `k` distinct images. When `rows` is a backend's exact top `m` rows, the answer
 * is the exact top images for as many as it holds: an image with a better best row has that row earlier.
 */
export function bestPerImage(rows: readonly VectorHit[], k: number): VectorHit[] {
  const seen = new Set<number>();
  const out: VectorHit[] = [];
  for (const r of rows) {
    if (seen.has(r.imageId)) continue;
    seen.add(r.imageId);
    out.push(r);
    if (out.length === k) break;
  }
  return out;
}

/**
 * The top `k` images from a backend's top rows: asks for `k` rows, then more (×`grow`) while the rows it got
 * were all it asked for and hold fewer than `k` images (an image with views can fill several places).
 * `firstAsk` starts higher where the store knows its images' most rows.
 */
export async function topImages(
  k: number,
  topRows: (m: number) => Promise<VectorHit[]>,
  firstAsk = k,
  grow = 3,
): Promise<VectorHit[]> {
  for (let m = Math.max(k, firstAsk); ; m *= grow) {
    const rows = await topRows(m);
    const images = bestPerImage(rows, k);
    if (images.length === k || rows.length < m) return images;
  }
}
