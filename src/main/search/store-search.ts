// Ranking through the workspace's vector store (src/main/vectors). The backend is the workspace's setting
// (`<workspace>.vectors.json`, `ctgi vectors`), else chosen by size; $CTGI_VECTOR_BACKEND overrides both
// (tests run one suite on each backend that way).
// - memory: the in-process VectorIndex cache of ./index.ts, exactly as before;
// Both caches are the workspace's (./vector-caches.ts, `services.vectors`), passed in by the caller.
// - lancedb: one table per model in the settings' folder (default `<workspace>.vectors/`), loaded from the
//   workspace's `embeddings` table on first use and reloaded whenever those rows changed (the fingerprint of
//   ./index.ts is written beside the table), so a table that is stale, half-written or of another model is
//   rebuilt from the workspace, never trusted.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { DatasetId, ModelId } from '#shared/ids';
import { asImageId } from '#shared/ids';
import type { ReadableDb } from '../db/types';
import { cropImageIdsMatching } from '../db/repos/footage';
import { imageIdsInDatasets, imageIdsInSplit } from '../db/repos/vectors';
import { getModelRow } from '../db/repos/models';
import { AppError, notFound } from '../errors';
import { dotAt } from '../ml/vector-index';
import type { GalleryScorer } from '../pipelines/eval';
import {
  chooseBackend,
  LanceVectorStore,
  loadFromWorkspace,
  readVectorSettings,
  storeIdentity,
  VECTOR_BACKENDS,
  type VectorBackend,
  type VectorFilter,
} from '../vectors';
import {
  DEFAULT_K,
  fingerprint,
  loadIndexAsync,
  modelInfo,
  normalizedQuery,
  noVectors,
  searchByVectorAsync,
  type SearchHit,
  type SearchOptions,
} from './index';
import type { OpenLance, VectorCaches } from './vector-caches';

const workspaceFile = (db: ReadableDb): string => db.name;

/** The backend this workspace ranks `modelId` with. */
export function backendFor(db: ReadableDb, modelId: ModelId): VectorBackend {
  const env = process.env.CTGI_VECTOR_BACKEND;
  if (env) {
    if (!(VECTOR_BACKENDS as readonly string[]).includes(env))
      throw new AppError(
        'bad_request',
        `CTGI_VECTOR_BACKEND must be one of ${VECTOR_BACKENDS.join(', ')}; got "${env}".`,
      );
    return env as VectorBackend;
  }
  return chooseBackend(readVectorSettings(workspaceFile(db)), fingerprint(db, modelId).count);
}

/** The LanceDB folder of this workspace: the setting, else `<workspace>.vectors/` beside it. */
export function lanceFolder(db: ReadableDb): string {
  const file = workspaceFile(db);
  return readVectorSettings(file).folder ?? (file === ':memory:' ? '' : `${file}.vectors`);
}

async function openLance(db: ReadableDb, modelId: ModelId): Promise<OpenLance> {
  const row = getModelRow(db, modelId);
  if (!row) throw notFound(`Model ${modelId}`);
  const folder = lanceFolder(db);
  if (!folder)
    throw new AppError(
      'bad_request',
      'An in-memory workspace has no folder for LanceDB tables; set one (ctgi vectors --folder DIR).',
    );
  const settings = readVectorSettings(workspaceFile(db));
  // rebuild: a half-written table or one of another model is dropped; the workspace holds every vector.
  const store = await LanceVectorStore.open({
    ...storeIdentity(row),
    folder,
    table: row.name,
    rebuild: true,
    ...(settings.index ? { index: settings.index } : {}),
  });
  const synced = existsSync(store.syncPath) ? readFileSync(store.syncPath, 'utf8').trim() : '';
  return { store, synced };
}

/** The model's LanceDB table, reloaded from the workspace when its vectors changed since the last load. */
export async function lanceStoreFor(vectors: VectorCaches, modelId: ModelId): Promise<LanceVectorStore> {
  const { db } = vectors;
  const cache = vectors.lance;
  let p = cache.get(modelId);
  if (!p) cache.set(modelId, (p = openLance(db, modelId)));
  let open: OpenLance;
  try {
    open = await p;
  } catch (err) {
    cache.delete(modelId);
    throw err;
  }
  const fp = fingerprint(db, modelId).key;
  if (open.synced !== fp) {
    if ((await open.store.count()) > 0) await open.store.clear();
    await loadFromWorkspace(db, modelId, open.store);
    writeFileSync(open.store.syncPath, `${fp}\n`);
    open.synced = fp;
  }
  return open.store;
}

export interface StoreSearchOptions extends SearchOptions {
  /** Camera / time / split filters, applied inside the search on both backends. */
  filter?: VectorFilter;
}

/**
 * The memory index filters by a set of image ids: cameras and time name footage crops (the footage tables
 * hold them), a split names images; an empty filter is no filter.
 */
function memoryOptions(db: ReadableDb, opts: StoreSearchOptions): SearchOptions {
  const { filter, ...rest } = opts;
  if (!filter) return rest;
  let only: Set<number> | undefined;
  const keep = (ids: Set<number>): void => {
    only = only ? new Set([...only].filter((id) => ids.has(id))) : ids;
  };
  if (filter.cameras?.length || filter.timeFrom !== undefined || filter.timeTo !== undefined)
    keep(
      cropImageIdsMatching(db, {
        ...(filter.cameras?.length ? { cameras: filter.cameras } : {}),
        ...(filter.timeFrom !== undefined ? { fromMs: filter.timeFrom } : {}),
        ...(filter.timeTo !== undefined ? { toMs: filter.timeTo } : {}),
      }),
    );
  if (filter.split !== undefined) keep(imageIdsInSplit(db, filter.split));
  if (filter.datasetIds?.length === 1 && rest.datasetId === undefined)
    rest.datasetId = filter.datasetIds[0] as DatasetId;
  else if (filter.datasetIds) keep(imageIdsInDatasets(db, filter.datasetIds));
  return only ? { ...rest, only } : rest;
}

/** The top `k` images for a query vector through the workspace's store; the same answer shape on both. */
export async function searchRanked(
  vectors: VectorCaches,
  modelId: ModelId,
  vector: ArrayLike<number>,
  opts: StoreSearchOptions = {},
): Promise<SearchHit[]> {
  const { db } = vectors;
  const backend = opts.mode === 'sqlite' ? 'memory' : backendFor(db, modelId);
  if (backend === 'memory') return searchByVectorAsync(vectors, modelId, vector, memoryOptions(db, opts));
  const k = opts.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 1)
    throw new AppError('bad_request', `k must be a positive integer, got ${k}.`);
  const model = modelInfo(db, modelId);
  const q = normalizedQuery(vector, model.dim, model.name);
  if (fingerprint(db, modelId).count === 0) throw noVectors(model);
  const store = await lanceStoreFor(vectors, modelId);
  const filter: VectorFilter = { ...opts.filter };
  if (opts.datasetId !== undefined) filter.datasetIds = [opts.datasetId as number];
  const hasFilter = Object.values(filter).some((v) => v !== undefined);
  // A dataset without vectors is an error (embed it); a camera/time filter that leaves nothing is an empty
  // answer, as on the memory backend: the analyst narrowed too far.
  if (opts.datasetId !== undefined && (await store.count({ datasetIds: [opts.datasetId as number] })) === 0)
    throw new AppError(
      'not_found',
      `Dataset ${opts.datasetId as DatasetId} has no image vectors from model "${model.name}". ` +
        `Run \`ctgi embed --model ${model.name} --dataset ${opts.datasetId}\` first.`,
    );
  if (hasFilter && (await store.count(filter)) === 0) return [];
  const hits = await store.search(q, k, { ...(hasFilter ? { filter } : {}), exact: opts.mode === 'exact' });
  return hits.map((h) => ({ imageId: asImageId(h.imageId), score: h.score }));
}

export interface ScoreImagesOptions {
  /**
   * Scale each query to unit length first (default true, as searchRanked does). Evaluation passes the text
   * tower's vectors as they are (already unit length), so its figures stay those of the plain dot product.
   */
  normalize?: boolean;
}

/**
 * The exact cosine of each query with each of `imageIds` (ascending or not; row q aligned with them)
 * through the workspace's store: what MTI's re-rank of its gallery and evaluation need, every score of an
 * image set rather than a top K. An image with views (footage crops) scores the best of its rows, as in a
 * search. Equal bits on both backends. An id without a vector from this model is
 * refused (the caller checks coverage first and says what to embed).
 */
export async function scoreImages(
  vectors: VectorCaches,
  modelId: ModelId,
  queries: readonly ArrayLike<number>[],
  imageIds: ArrayLike<number>,
  opts: ScoreImagesOptions = {},
): Promise<Float32Array[]> {
  const { db } = vectors;
  const model = modelInfo(db, modelId);
  const qs = queries.map((v) => {
    if (opts.normalize !== false) return normalizedQuery(v, model.dim, model.name);
    if (v.length !== model.dim)
      throw new AppError(
        'bad_request',
        `Model "${model.name}" makes ${model.dim}-value vectors; the query has ${v.length}.`,
      );
    return v instanceof Float32Array ? v : Float32Array.from(v);
  });
  if (fingerprint(db, modelId).count === 0) throw noVectors(model);
  let rows: Float32Array[];
  if (backendFor(db, modelId) === 'memory') {
    const loaded = await loadIndexAsync(vectors, modelId);
    const first = firstPositions(loaded.imageIds, imageIds);
    const gallery = loaded.index.vectors;
    const galleryIds = loaded.imageIds;
    const d = loaded.dim;
    // An image's rows (its own vector, then its views) sit side by side from its first position.
    rows = qs.map((q) => {
      const out = new Float32Array(first.length).fill(NaN);
      for (let i = 0; i < first.length; i++)
        for (let p = first[i]!; p >= 0 && p < galleryIds.length && galleryIds[p] === imageIds[i]; p++) {
          const x = dotAt(gallery, p * d, q, d);
          if (!(x <= out[i]!)) out[i] = x;
        }
      return out;
    });
  } else {
    rows = await (await lanceStoreFor(vectors, modelId)).scoreIds(qs, imageIds);
  }
  const first = rows[0];
  if (first) {
    const at = first.findIndex((x) => Number.isNaN(x));
    if (at >= 0)
      throw new AppError(
        'conflict',
        `Image ${imageIds[at]} has no vector from model "${model.name}". Run \`ctgi embed --model ${model.name}\` first.`,
      );
  }
  return rows;
}

/** The first gallery position of each of `ids` in the ascending `sorted` (−1 where absent). */
function firstPositions(sorted: Int32Array, ids: ArrayLike<number>): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo < sorted.length && sorted[lo] === id ? lo : -1;
  }
  return out;
}

/** Evaluation's scorer (pipelines/eval.ts): the store's exact scores, query vectors as the text tower made them. */
export const galleryScorer =
  (vectors: VectorCaches): GalleryScorer =>
  (modelId, queries, imageIds) =>
    scoreImages(vectors, modelId, queries, imageIds, { normalize: false });
