// Text vector → ranked images, for one model at a time. The gallery of a model is loaded once into one
// Float32Array (VectorIndex) and cached per workspace and model (./vector-caches.ts, `services.vectors`);
// the cache is checked against a cheap fingerprint of that model's embeddings on every call, so new or
// deleted vectors are seen (jobs that rewrite vectors in place call invalidateIndex).
// Vectors of different models never meet: each index holds rows of exactly one model_id, and a query
// must have that model's dimension.
import { AppError, notFound } from '../errors';
import { VectorIndex, type ScoredIndex } from '../ml/vector-index';
import { bestPerImage } from '../vectors/types';
import {
  changeState,
  embeddingsFingerprint,
  modelNameAndDim,
  modelVectors,
  sqliteVecTopK,
  viewsFingerprint,
  wrongLengthVector,
} from '../db/repos/vectors';
import type { ReadableDb } from '../db/types';
import type { VectorCaches } from './vector-caches';
import { asImageId, type DatasetId, type ImageId, type ModelId } from '#shared/ids';

export interface SearchHit {
  imageId: ImageId;
  score: number;
}

/**
 * - `exact`: every vector scored (JS);
 * - `fast`: 1-bit coarse passes + exact rescore (recall@10 ≥ 0.99 measured, see bench-search);
 * - `sqlite`: exact, computed by sqlite-vec's `vec_distance_cosine` over the stored rows (no cache);
 * - `auto`: exact for galleries up to FAST_FROM vectors, fast above.
 */
export type SearchMode = 'auto' | 'exact' | 'fast' | 'sqlite';

export interface SearchOptions {
  k?: number;
  datasetId?: DatasetId;
  mode?: SearchMode;
  /** Only these images (e.g. footage crops of some cameras in a time range); ranked in JS memory. */
  only?: ReadonlySet<number>;
}

/** Below this size an exact scan takes a few ms, so approximation buys nothing. */
export const FAST_FROM = 50_000;
export const DEFAULT_K = 100;

export interface LoadedIndex {
  modelId: ModelId;
  modelName: string;
  dim: number;
  index: VectorIndex;
  /**
   * Gallery position → image id, ascending (so "lower index" ties mean "lower image id"). An image with
   * views (footage crops, migration 015) holds as many neighbouring positions: its own vector, then views.
   */
  imageIds: Int32Array;
  /** The most positions one image holds (1 without views): a ranking of k images reads k × this rows. */
  rowsPerImage: number;
  /** Gallery position → dataset id, for dataset-restricted searches. */
  datasetIds: Int32Array;
  fingerprint: string;
  /** Connection-level change counters when the fingerprint was last confirmed. */
  dbState: string;
  /** Set when the gallery worker loaded it (shared memory): the worker can rank it too. */
  gallery?: number;
}

export interface ModelInfo {
  name: string;
  dim: number;
}

export function modelInfo(db: ReadableDb, modelId: ModelId): ModelInfo {
  const row = modelNameAndDim(db, modelId);
  if (!row) throw notFound(`Model ${modelId}`);
  return row;
}

// Count and id sum of the model's rows (db/repos/vectors.ts), its images' own and their views': an insert
// or a delete (also by cascade from images) changes them. `count` is the gallery's rows. A re-embed with the
// same model rewrites the same vector; when vectors are rewritten differently, call invalidateIndex.
export function fingerprint(db: ReadableDb, modelId: ModelId): { count: number; key: string } {
  const r = embeddingsFingerprint(db, modelId);
  const v = viewsFingerprint(db, modelId);
  return { count: r.n + v.n, key: `${r.n}:${r.s}+${v.n}:${v.s}` };
}

// Nothing was written since `dbState` was taken, by this connection (total_changes) or any other
// (data_version), so the fingerprint query (a scan of the index) can be skipped.
const dbState = (db: ReadableDb): string => changeState(db);

export function noVectors(model: ModelInfo): AppError {
  return new AppError(
    'not_found',
    `Model "${model.name}" has no image vectors yet. Run \`ctgi embed --model ${model.name}\` first.`,
  );
}

export interface GalleryColumns {
  vectors: Float32Array;
  imageIds: Int32Array;
  datasetIds: Int32Array;
}

/**
 * Copies a model's stored rows (image id, dataset id, vector blob; image id order) into the columns, as
 * many as they hold; returns how many it copied. A vector of the wrong length is refused with what to do.
 * The one loop behind both the inline load and the gallery worker's, so both galleries are the same bytes.
 */
export function fillGallery(
  rows: Iterable<[number, number, unknown]>,
  model: ModelInfo,
  out: GalleryColumns,
): number {
  const { dim } = model;
  const capacity = out.imageIds.length;
  const bytes = new Uint8Array(out.vectors.buffer, out.vectors.byteOffset, capacity * dim * 4);
  let n = 0;
  for (const [imageId, datasetId, blob] of rows) {
    if (!(blob instanceof Uint8Array) || blob.byteLength !== dim * 4) {
      const got = blob instanceof Uint8Array ? `${blob.byteLength / 4} values` : `a ${typeof blob}`;
      throw new AppError(
        'conflict',
        `Image ${imageId} has a vector of ${got} under model "${model.name}", which makes ${dim}-value vectors. ` +
          `The stored embeddings are inconsistent: delete that model's vectors and run \`ctgi embed --model ${model.name}\` again.`,
      );
    }
    if (n === capacity) break; // rows added since the count was taken: the next use reloads
    bytes.set(blob, n * dim * 4);
    out.imageIds[n] = imageId;
    out.datasetIds[n] = datasetId;
    n++;
  }
  return n;
}

type CacheCheck =
  { hit: LoadedIndex } | { hit: null; model: ModelInfo; count: number; key: string; state: string };

/** The cached gallery when still current; else what a load needs (the old gallery already let go). */
function checkCache(caches: VectorCaches, modelId: ModelId): CacheCheck {
  const { db } = caches;
  const cache = caches.indexes;
  const cached = cache.get(modelId);
  const state = dbState(db);
  if (cached && cached.dbState === state) return { hit: cached };
  let model: ModelInfo;
  try {
    model = modelInfo(db, modelId);
  } catch (err) {
    caches.drop(modelId); // the model is gone: so is its gallery
    throw err;
  }
  const fp = fingerprint(db, modelId);
  if (cached && cached.fingerprint === fp.key && cached.dim === model.dim) {
    cached.dbState = state;
    cached.modelName = model.name;
    return { hit: cached };
  }
  caches.drop(modelId); // let the old gallery go before allocating the new one
  if (fp.count === 0) throw noVectors(model);
  return { hit: null, model, count: fp.count, key: fp.key, state };
}

function assemble(
  modelId: ModelId,
  need: Exclude<CacheCheck, { hit: LoadedIndex }>,
  cols: GalleryColumns,
  n: number,
  gallery?: number,
): LoadedIndex {
  const { dim } = need.model;
  const imageIds = cols.imageIds.subarray(0, n);
  return {
    modelId,
    modelName: need.model.name,
    dim,
    index: new VectorIndex(cols.vectors.subarray(0, n * dim), dim),
    imageIds,
    rowsPerImage: longestRun(imageIds),
    datasetIds: cols.datasetIds.subarray(0, n),
    fingerprint: need.key,
    dbState: need.state,
    ...(gallery !== undefined ? { gallery } : {}),
  };
}

/** The longest run of one value in an ascending array (an image's rows in the gallery). */
function longestRun(sorted: Int32Array): number {
  let most = sorted.length ? 1 : 0;
  for (let i = 1, run = 1; i < sorted.length; i++) {
    run = sorted[i] === sorted[i - 1] ? run + 1 : 1;
    if (run > most) most = run;
  }
  return most;
}

function remember(
  caches: VectorCaches,
  modelId: ModelId,
  need: Exclude<CacheCheck, { hit: LoadedIndex }>,
  cols: GalleryColumns,
  n: number,
  gallery?: number,
): LoadedIndex {
  const loaded = assemble(modelId, need, cols, n, gallery);
  caches.indexes.set(modelId, loaded);
  return loaded;
}

/** Reads the gallery on this thread (the columns in this thread's memory). */
function loadHere(
  caches: VectorCaches,
  modelId: ModelId,
  need: Exclude<CacheCheck, { hit: LoadedIndex }>,
): LoadedIndex {
  const { count, model } = need;
  const cols: GalleryColumns = {
    vectors: new Float32Array(count * model.dim),
    imageIds: new Int32Array(count),
    datasetIds: new Int32Array(count),
  };
  const n = fillGallery(modelVectors(caches.db, modelId), model, cols);
  return remember(caches, modelId, need, cols, n);
}

/** The model's gallery, from cache when its embeddings have not changed since it was loaded. */
export function loadIndex(caches: VectorCaches, modelId: ModelId): LoadedIndex {
  const need = checkCache(caches, modelId);
  return need.hit ?? loadHere(caches, modelId, need);
}

/**
 * The model's gallery as `loadIndex` gives it, but a large one (caches.offThreadFrom rows and more, of a
 * workspace file) is read by the gallery worker through its own read-only connection into shared memory,
 * so the thread that serves requests keeps serving meanwhile. Two searches that need the same gallery at
 * once share one load. Small galleries, in-memory workspaces and a worker that failed load here.
 */
export async function loadIndexAsync(caches: VectorCaches, modelId: ModelId): Promise<LoadedIndex> {
  const pending = caches.loading.get(modelId);
  if (pending) return pending;
  const need = checkCache(caches, modelId);
  if (need.hit) return need.hit;
  const thread = caches.db.name === ':memory:' || need.count < caches.offThreadFrom ? null : caches.thread;
  if (!thread?.usable) return loadHere(caches, modelId, need);
  const generation = caches.generation(modelId);
  const p = (async () => {
    const got = await thread.load({
      file: caches.db.name,
      modelId,
      modelName: need.model.name,
      dim: need.model.dim,
      count: need.count,
    });
    if (!got) return loadHere(caches, modelId, need); // the worker is gone: read here
    const cols: GalleryColumns = {
      vectors: new Float32Array(got.vectors),
      imageIds: new Int32Array(got.imageIds),
      datasetIds: new Int32Array(got.datasetIds),
    };
    // Dropped while the worker read it (vectors rewritten in place keep their fingerprint): this caller
    // gets what was read, the cache does not keep it.
    if (caches.generation(modelId) !== generation) return assemble(modelId, need, cols, got.n, got.gallery);
    return remember(caches, modelId, need, cols, got.n, got.gallery);
  })();
  caches.loading.set(modelId, p);
  try {
    return await p;
  } finally {
    caches.loading.delete(modelId);
  }
}

/** Drops cached galleries (one model, or all of this workspace's); the next search reloads. */
export function invalidateIndex(vectors: VectorCaches, modelId?: ModelId): void {
  vectors.invalidate(modelId);
}

/** A query as the index wants it: the model's dimension, finite, unit length (cosine = dot). */
export function normalizedQuery(vector: ArrayLike<number>, dim: number, modelName: string): Float32Array {
  if (vector.length !== dim)
    throw new AppError(
      'bad_request',
      `The query vector has ${vector.length} values but model "${modelName}" makes ${dim}-value vectors. ` +
        `Encode the query text with the same model as the images.`,
    );
  const q = new Float32Array(dim);
  let ss = 0;
  for (let j = 0; j < dim; j++) {
    const x = Number(vector[j]);
    if (!Number.isFinite(x))
      throw new AppError('bad_request', `The query vector has a non-finite value at ${j}.`);
    q[j] = x;
    ss += x * x;
  }
  if (ss === 0) throw new AppError('bad_request', 'The query vector is all zeros; it cannot rank anything.');
  const inv = 1 / Math.sqrt(ss);
  for (let j = 0; j < dim; j++) q[j] = (q[j] as number) * inv;
  return q;
}

/**
 * What a ranking of one gallery needs: the query at unit length, the mask, which path, how many images
 * (`k`) and how many rows to rank for them (`rows`: an image holds up to `rowsPerImage` of the top rows).
 */
interface Ranking {
  q: Float32Array;
  k: number;
  rows: number;
  mask: Uint8Array | undefined;
  fast: boolean;
}

function checkedK(opts: SearchOptions): number {
  const k = opts.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 1)
    throw new AppError('bad_request', `k must be a positive integer, got ${k}.`);
  return k;
}

/** The ranking to run over `loaded`, or null when the filter leaves nothing (an empty answer). */
function planRanking(
  loaded: LoadedIndex,
  vector: ArrayLike<number>,
  k: number,
  opts: SearchOptions,
): Ranking | null {
  const q = normalizedQuery(vector, loaded.dim, loaded.modelName);
  let mask: Uint8Array | undefined;
  if (opts.only) {
    const ds = opts.datasetId as number | undefined;
    mask = new Uint8Array(loaded.imageIds.length);
    let any = false;
    for (let i = 0; i < mask.length; i++)
      if (opts.only.has(loaded.imageIds[i]!) && (ds === undefined || loaded.datasetIds[i] === ds)) {
        mask[i] = 1;
        any = true;
      }
    // A filter that leaves nothing is an empty answer, not an error: the analyst narrowed too far.
    if (!any) return null;
  } else if (opts.datasetId !== undefined) {
    const ds = opts.datasetId as number;
    mask = new Uint8Array(loaded.imageIds.length);
    let any = false;
    for (let i = 0; i < mask.length; i++)
      if (loaded.datasetIds[i] === ds) {
        mask[i] = 1;
        any = true;
      }
    if (!any)
      throw new AppError(
        'not_found',
        `Dataset ${ds} has no image vectors from model "${loaded.modelName}". ` +
          `Run \`ctgi embed --model ${loaded.modelName} --dataset ${ds}\` first.`,
      );
  }
  const mode = opts.mode ?? 'auto';
  const fast = mode === 'fast' || ((mode === 'auto' || mode === 'sqlite') && loaded.index.size > FAST_FROM);
  return { q, k, rows: k * loaded.rowsPerImage, mask, fast };
}

/** The ranked rows as images, each at its best row (`bestPerImage`), the first `r.k`. */
const toHits = (loaded: LoadedIndex, r: Ranking, rows: readonly ScoredIndex[]): SearchHit[] =>
  bestPerImage(
    rows.map((h) => ({ imageId: loaded.imageIds[h.index] as number, score: h.score })),
    r.k,
  ).map((h) => ({ imageId: asImageId(h.imageId), score: h.score }));

const rankHere = (loaded: LoadedIndex, r: Ranking): ScoredIndex[] =>
  r.fast
    ? loaded.index.fastTopK(r.q, r.rows, { mask: r.mask })
    : loaded.index.topK(r.q, r.rows, { mask: r.mask });

/** The top `k` images of the model's gallery for a query vector, best first (ties: lower image id). */
export function searchByVector(
  vectors: VectorCaches,
  modelId: ModelId,
  vector: ArrayLike<number>,
  opts: SearchOptions = {},
): SearchHit[] {
  const k = checkedK(opts);
  if (opts.mode === 'sqlite' && !opts.only)
    return searchWithSqliteVec(vectors.db, modelId, vector, k, opts.datasetId);
  const loaded = loadIndex(vectors, modelId);
  const r = planRanking(loaded, vector, k, opts);
  return r ? toHits(loaded, r, rankHere(loaded, r)) : [];
}

/**
 * `searchByVector` for the thread that serves requests: a large gallery is loaded (`loadIndexAsync`) and
 * ranked, exact or fast, by the workspace's gallery worker over the shared columns, with the very code and
 * bytes of the inline path, so the answer is the same. Small galleries rank here.
 */
export async function searchByVectorAsync(
  vectors: VectorCaches,
  modelId: ModelId,
  vector: ArrayLike<number>,
  opts: SearchOptions = {},
): Promise<SearchHit[]> {
  const k = checkedK(opts);
  if (opts.mode === 'sqlite' && !opts.only)
    return searchWithSqliteVec(vectors.db, modelId, vector, k, opts.datasetId);
  const loaded = await loadIndexAsync(vectors, modelId);
  const r = planRanking(loaded, vector, k, opts);
  if (!r) return [];
  const thread = vectors.thread;
  if (loaded.gallery !== undefined && loaded.index.size >= vectors.offThreadFrom && thread?.usable) {
    const hits = await thread.rank({
      modelId,
      gallery: loaded.gallery,
      query: r.q,
      k: r.rows,
      fast: r.fast,
      mask: r.mask ?? null,
    });
    if (hits) return toHits(loaded, r, hits);
  }
  return toHits(loaded, r, rankHere(loaded, r));
}

/**
 * Exact search inside SQLite with sqlite-vec: no gallery in JS memory, one full scan per query. Same
 * ranking rule as the JS path (cosine desc, then image id asc). Slower than the cached JS scan
 * (bench-search), but it needs nothing loaded and is the reference the JS path is tested against.
 */
export function searchWithSqliteVec(
  db: ReadableDb,
  modelId: ModelId,
  vector: ArrayLike<number>,
  k: number,
  datasetId?: DatasetId,
): SearchHit[] {
  const model = modelInfo(db, modelId);
  const q = normalizedQuery(vector, model.dim, model.name);
  const bad = wrongLengthVector(db, modelId, model.dim * 4);
  if (bad !== undefined)
    throw new AppError(
      'conflict',
      `Image ${bad} has a vector of the wrong length under model "${model.name}" (${model.dim} values expected). ` +
        `Delete that model's vectors and run \`ctgi embed --model ${model.name}\` again.`,
    );
  const rows = sqliteVecTopK(
    db,
    modelId,
    Buffer.from(q.buffer, q.byteOffset, q.byteLength),
    datasetId ?? null,
    k,
  );
  if (rows.length === 0) {
    if (fingerprint(db, modelId).count === 0) throw noVectors(model);
    throw new AppError(
      'not_found',
      `Dataset ${datasetId} has no image vectors from model "${model.name}". ` +
        `Run \`ctgi embed --model ${model.name} --dataset ${datasetId}\` first.`,
    );
  }
  return rows.map((r) => ({ imageId: asImageId(r.imageId), score: r.score }));
}
