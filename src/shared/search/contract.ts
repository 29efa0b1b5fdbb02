// Text → image search's channels: the ranked search and the search box's token counter.
import { z } from 'zod';
import { footageScopeFields } from '../footage/contract';
import type { DatasetId, ModelId } from '../ids';
import { id } from '../schema-fields';
import type { QueryTokens, TextSearchResult } from './types';

export const searchInvokeSchemas = {
  /** Ranks the model's embedded images for a description (text tower → cosine top-K). */
  'search:text': z.object({
    modelId: id<ModelId>(),
    query: z.string().max(20_000),
    k: z.number().int().min(1).max(1000).default(100),
    datasetId: id<DatasetId>().optional(),
    ...footageScopeFields,
  }),
  /** The query's token count against the model's context (the search box's live counter). */
  'search:tokens': z.object({ modelId: id<ModelId>(), query: z.string().max(20_000) }),
} as const;

export interface SearchInvokeResults {
  'search:text': TextSearchResult;
  'search:tokens': QueryTokens;
}
