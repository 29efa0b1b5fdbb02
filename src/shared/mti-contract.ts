// MTI's and saved searches' channels (issue 6), kept beside contract.ts, which spreads them into its one
// invokeSchemas map: same rules (one object argument, validated by these schemas).
import { z } from 'zod';
import type { ImageId, ModelId } from './ids';
import type { MtiSearch, MtiSearchSummary } from './mti';

const id = <T>() =>
  z
    .number()
    .int()
    .positive()
    .transform((n) => n as T);
const endpointName = z.string().min(1).max(100);

export const mtiParamsSchema = z.object({
  k: z.number().int().min(1).max(200).optional(),
  xi: z.number().min(-1).max(2).optional(),
  lambda: z.number().min(0).max(1).optional(),
  rounds: z.number().int().min(0).max(20).optional(),
  questions: z.number().int().min(0).max(30).optional(),
  concurrency: z.number().int().min(1).max(256).optional(),
});

export const mtiActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('reject-anchor') }),
  z.object({ kind: z.literal('pick-anchor'), imageId: id<ImageId>() }),
  z.object({
    kind: z.literal('answer'),
    questionId: z.string().min(1).max(100),
    answer: z.string().trim().min(1).max(500),
  }),
  z.object({ kind: z.literal('edit-refined'), text: z.string().trim().min(1).max(20_000) }),
  z.object({ kind: z.literal('next-round') }),
  z.object({ kind: z.literal('back') }),
]);

export const mtiInvokeSchemas = {
  /**
   * Ranks the gallery for the query, then runs MTI's rounds with the MLLM (live steps as `mti:progress`);
   * resolves with the saved search. An endpoint failure falls back to the plain ranking and says why.
   */
  'mti:start': z.object({
    modelId: id<ModelId>(),
    query: z.string().max(20_000),
    datasetId: z.number().int().positive().optional(),
    /** Endpoint names; by default the first saved endpoint whose role fits. */
    vqaEndpoint: endpointName.optional(),
    aggregatorEndpoint: endpointName.optional(),
    params: mtiParamsSchema.default({}),
    /** Result rows kept with the search. */
    results: z.number().int().min(1).max(1000).default(100),
  }),
  /** An analyst's action on the latest round (or on `round`, dropping the rounds after it). */
  'mti:step': z.object({
    id: z.number().int().positive(),
    action: mtiActionSchema,
    round: z.number().int().positive().optional(),
  }),
  'mti:cancel': z.object({ id: z.number().int().positive() }),
  'searches:list': z.object({ limit: z.number().int().min(1).max(500).default(100) }),
  'searches:get': z.object({ id: z.number().int().positive() }),
  'searches:delete': z.object({ id: z.number().int().positive() }),
} as const;

export interface MtiInvokeResults {
  'mti:start': MtiSearch;
  'mti:step': MtiSearch;
  'mti:cancel': { cancelled: boolean };
  'searches:list': MtiSearchSummary[];
  'searches:get': MtiSearch;
  'searches:delete': { deleted: boolean };
}
