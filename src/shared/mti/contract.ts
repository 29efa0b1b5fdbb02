// MTI's and saved searches' channels (issue 6); shared/contract.ts merges them with every other
// feature's: same rules (one object argument, validated by these schemas).
import { z } from 'zod';
import { id } from '../schema-fields';
import { footageScopeFields } from '../footage/contract';
import { EVAL_QUERY_KINDS } from '../eval/types';
import { SPLITS } from '../library/types';
import type { Job } from '../jobs/types';
import type { DatasetId, ImageId, JobId, ModelId } from '../ids';
import type { MtiEvalReport, MtiSearch, MtiSearchSummary } from './types';

const endpointName = z.string().min(1).max(100);

export const mtiParamsSchema = z.object({
  k: z.number().int().min(1).max(200).optional(),
  xi: z.number().min(-1).max(2).optional(),
  lambda: z.number().min(0).max(1).optional(),
  rounds: z.number().int().min(0).max(20).optional(),
  questions: z.number().int().min(0).max(30).optional(),
  /** Anchor checks in flight at once (1 = sequential, fewest calls; K = shortest round). */
  checkConcurrency: z.number().int().min(1).max(256).optional(),
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

/** What an MTI evaluation runs on: also the stored parameters of its `eval-mti` job. */
export const mtiEvalSchema = z.object({
  modelId: id<ModelId>(),
  split: z.enum(SPLITS).default('test'),
  datasetId: id<DatasetId>().optional(),
  queries: z.enum(EVAL_QUERY_KINDS).default('one-attribute'),
  vqaEndpoint: endpointName.optional(),
  aggregatorEndpoint: endpointName.optional(),
  params: mtiParamsSchema.default({}),
  /** MTI costs MLLM calls per query: evaluate the first N. */
  limit: z.number().int().min(1).max(1_000_000).default(48),
  /** Queries in flight at once (each runs its own anchor checks concurrently). */
  parallel: z.number().int().min(1).max(64).optional(),
});

export const mtiInvokeSchemas = {
  /**
   * Retrieval without and with MTI over a labelled split, with its cost and the top-1 spread for ξ, as an
   * `eval-mti` job (progress per query, cancel, resume); the report is stored with the job.
   */
  'eval:mti-start': mtiEvalSchema,
  /** The report of an `eval-mti` job: the named one, else the newest (of `modelId`, when given). */
  'eval:mti-report': z.object({ jobId: id<JobId>().optional(), modelId: id<ModelId>().optional() }),
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
    /** Footage: the search ranks (and shows the MLLM) only these cameras' crops in this time range. */
    ...footageScopeFields,
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
  'eval:mti-start': { job: Job };
  /** `report` is null until the job is done; `job` is null when no evaluation was ever started. */
  'eval:mti-report': { job: Job | null; report: MtiEvalReport | null };
  'mti:start': MtiSearch;
  'mti:step': MtiSearch;
  'mti:cancel': { cancelled: boolean };
  'searches:list': MtiSearchSummary[];
  'searches:get': MtiSearch;
  'searches:delete': { deleted: boolean };
}
