// Text → ranked images: the model's own tokenizer and text tower turn the query into a vector, and the
// search service (./index.ts) ranks that model's image vectors by cosine. The text tower stays warm in
// the workspace's encoder pool, so a query costs one tokenisation and one small ORT run.
import type { QueryTokens, SearchHitView, TextSearchResult } from '../../shared/domain';
import type { DatasetId, ModelId } from '../../shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import { imageSummaries } from '../db/repos/images';
import { countImagesMissingEmbedding } from '../db/repos/embeddings';
import { storedManifest } from '../db/repos/models';
import type { Db } from '../db/types';
import { AppError, notFound } from '../errors';
import { encodeTexts, textEncoderPool, tokenizerFor } from '../ml/encoder-pool';
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
}

/** Tokens the query needs against the model's context; no ONNX session is opened for this. */
export function queryTokens(db: Db, modelId: ModelId, query: string): QueryTokens {
  const row = resolveModelRow(db, modelId);
  const tokenizer = tokenizerFor(storedManifest(row).tokenizer);
  const count = tokenizer.tokenCount(query);
  return { count, contextLength: row.context_length, truncated: count > row.context_length };
}

function embeddedInScope(db: Db, modelId: ModelId, datasetId: DatasetId | undefined): number {
  return (
    db
      .prepare(
        `SELECT count(*) AS n FROM embeddings e JOIN images i ON i.id = e.image_id
         WHERE e.model_id = ? AND (? IS NULL OR i.dataset_id = ?)`,
      )
      .get(modelId, datasetId ?? null, datasetId ?? null) as { n: number }
  ).n;
}

/**
 * The top `k` images for a description. When nothing in scope has a vector from the model yet, the
 * answer is an empty list with `unembedded` set (the UI offers to start an embed job), not an error.
 */
export async function searchText(db: Db, arg: TextSearchArg): Promise<TextSearchResult> {
  const started = performance.now();
  const query = arg.query.trim();
  if (query === '') throw new AppError('bad_request', 'Type a description of the person to search for.');
  const row = resolveModelRow(db, arg.modelId);
  if (arg.datasetId !== undefined && !getDatasetRow(db, arg.datasetId))
    throw notFound(`Dataset ${arg.datasetId}`);
  const modelId = row.id as ModelId;
  const unembedded = countImagesMissingEmbedding(db, modelId, arg.datasetId);
  const tokens = queryTokens(db, modelId, query);
  const model = await textEncoderPool(db).get(row);
  if (embeddedInScope(db, modelId, arg.datasetId) === 0) {
    return {
      modelId,
      ...tokens,
      results: [],
      unembedded,
      provider: model.encoder.provider,
      ms: performance.now() - started,
    };
  }
  const { vectors } = await encodeTexts(model, [query]);
  const hits = await searchRanked(db, modelId, vectors[0]!, {
    k: arg.k ?? DEFAULT_K,
    datasetId: arg.datasetId,
    mode: arg.mode,
  });
  const summaries = new Map(
    imageSummaries(
      db,
      hits.map((h) => h.imageId),
    ).map((s) => [s.id, s]),
  );
  const results: SearchHitView[] = [];
  for (const h of hits) {
    const image = summaries.get(h.imageId);
    if (image) results.push({ rank: results.length + 1, score: h.score, image });
  }
  return {
    modelId,
    ...tokens,
    results,
    unembedded,
    provider: model.encoder.provider,
    ms: performance.now() - started,
  };
}
