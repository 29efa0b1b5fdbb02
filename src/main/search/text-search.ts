// Text → ranked images: the model's own tokenizer and text tower turn the query into a vector, and the
// search service (./index.ts) ranks that model's image vectors by cosine. The text tower stays warm in
// the workspace's encoder pool, so a query costs one tokenisation and one small ORT run.
import type { QueryTokens, SearchHitView, TextSearchResult, TrackHitGroup } from '#shared/search/types';
import type { MtiSearch } from '#shared/mti/types';
import type { DatasetId, ModelId } from '#shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import { imageSummaries } from '../db/repos/images';
import { countEmbeddedInScope, countImagesMissingEmbedding } from '../db/repos/embeddings';
import { cropOrigins, getTrackSpan } from '../db/repos/footage';
import { storedManifest } from '../db/repos/models';
import type { ReadableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import { encodeTexts, tokenizerFor } from '../ml/encoder-pool';
import type { WorkspaceServices } from '../services';
import { resolveModelRow } from '../ml/models';
import { DEFAULT_K, type SearchMode } from './index';
import { searchRanked } from './store-search';

// The MTI service reads summaries from here with the rest of the search helpers.
export { imageSummaries };

export interface TextSearchArg {
  modelId: ModelId;
  query: string;
  k?: number;
  datasetId?: DatasetId;
  mode?: SearchMode;
  /** Footage crops of these cameras only (by name). */
  cameras?: readonly string[];
  /** Footage crops seen in this wall-clock range only (epoch ms, inclusive). */
  fromMs?: number;
  toMs?: number;
}

/** An MTI search as shown: its footage rows with camera, time, track and box, and grouped by track. */
export function withFootage(db: ReadableDb, search: MtiSearch): MtiSearch {
  const origins = cropOrigins(
    db,
    search.results.map((r) => r.image.id),
  );
  if (origins.size === 0) return search;
  const results = search.results.map((r) => {
    const footage = origins.get(r.image.id);
    return footage ? { ...r, footage } : r;
  });
  const tracks = groupByTrack(
    db,
    results.map((r) => ({
      rank: r.rank,
      score: r.fused,
      image: r.image,
      ...(r.footage ? { footage: r.footage } : {}),
    })),
  );
  return { ...search, results, tracks };
}

/** Footage hits grouped by track, in the order of each track's best hit. */
export function groupByTrack(db: ReadableDb, results: readonly SearchHitView[]): TrackHitGroup[] {
  const groups = new Map<number, TrackHitGroup>();
  for (const r of results) {
    const f = r.footage;
    if (!f) continue;
    const g = groups.get(f.trackId);
    if (g) {
      g.ranks.push(r.rank);
      continue;
    }
    const t = getTrackSpan(db, f.trackId);
    groups.set(f.trackId, {
      trackId: f.trackId,
      camera: f.camera,
      cameraId: f.cameraId,
      videoId: f.videoId,
      firstTime: t?.first_time ?? f.frameTime,
      lastTime: t?.last_time ?? f.frameTime,
      firstMs: t?.first_ms ?? f.timeMs,
      lastMs: t?.last_ms ?? f.timeMs,
      rank: r.rank,
      score: r.score,
      ranks: [r.rank],
    });
  }
  return [...groups.values()];
}

/** Tokens the query needs against the model's context; no ONNX session is opened for this. */
export function queryTokens(db: ReadableDb, modelId: ModelId, query: string): QueryTokens {
  const row = resolveModelRow(db, modelId);
  const tokenizer = tokenizerFor(storedManifest(row).tokenizer);
  const count = tokenizer.tokenCount(query);
  return { count, contextLength: row.context_length, truncated: count > row.context_length };
}

const embeddedInScope = (db: ReadableDb, modelId: ModelId, datasetId: DatasetId | undefined): number =>
  countEmbeddedInScope(db, modelId, datasetId);

/** What a text search uses of the workspace: its read connection, text towers and vector caches. */
export interface SearchWorkspace {
  reader: ReadableDb;
  services: Pick<WorkspaceServices, 'encoders' | 'vectors'>;
}

/**
 * The top `k` images for a description. When nothing in scope has a vector from the model yet, the
 * answer is an empty list with `unembedded` set (the UI offers to start an embed job), not an error.
 */
export async function searchText(ws: SearchWorkspace, arg: TextSearchArg): Promise<TextSearchResult> {
  const db = ws.reader;
  const started = performance.now();
  const query = arg.query.trim();
  if (query === '') throw new AppError('bad_request', 'Type a description of the person to search for.');
  const row = resolveModelRow(db, arg.modelId);
  if (arg.datasetId !== undefined && !getDatasetRow(db, arg.datasetId))
    throw notFound(`Dataset ${arg.datasetId}`);
  const modelId = row.id as ModelId;
  const unembedded = countImagesMissingEmbedding(db, modelId, arg.datasetId);
  const tokens = queryTokens(db, modelId, query);
  const model = await ws.services.encoders.get(row);
  if (embeddedInScope(db, modelId, arg.datasetId) === 0) {
    return {
      modelId,
      ...tokens,
      results: [],
      tracks: [],
      unembedded,
      provider: model.encoder.provider,
      ms: performance.now() - started,
    };
  }
  const { vectors } = await encodeTexts(model, [query]);
  const hits = await searchRanked(ws.services.vectors, modelId, vectors[0]!, {
    k: arg.k ?? DEFAULT_K,
    datasetId: arg.datasetId,
    mode: arg.mode,
    filter: {
      ...(arg.cameras?.length ? { cameras: arg.cameras } : {}),
      ...(arg.fromMs !== undefined ? { timeFrom: arg.fromMs } : {}),
      ...(arg.toMs !== undefined ? { timeTo: arg.toMs } : {}),
    },
  });
  const summaries = new Map(
    imageSummaries(
      db,
      hits.map((h) => h.imageId),
    ).map((s) => [s.id, s]),
  );
  const origins = cropOrigins(
    db,
    hits.map((h) => h.imageId),
  );
  const results: SearchHitView[] = [];
  for (const h of hits) {
    const image = summaries.get(h.imageId);
    const footage = origins.get(h.imageId);
    if (image)
      results.push({ rank: results.length + 1, score: h.score, image, ...(footage ? { footage } : {}) });
  }
  return {
    modelId,
    ...tokens,
    results,
    tracks: groupByTrack(db, results),
    unembedded,
    provider: model.encoder.provider,
    ms: performance.now() - started,
  };
}
