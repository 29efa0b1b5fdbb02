// MTG's channels: starting a captioning job, estimating its cost, its budget, its Batch API rounds, and
// the runs behind an image's captions.
import { z } from 'zod';
import type { DatasetId, ImageId, JobId } from '../ids';
import type { Job } from '../jobs/types';
import { SPLITS } from '../library/types';
import { endpointName } from '../llm/contract';
import { id } from '../schema-fields';
import type { BatchRound, MtgEstimate, MtgRun } from './types';

export const mtgInvokeSchemas = {
  /** MTG over a dataset, a split of it, or chosen images; results are captions with status `pending`. */
  'mtg:start': z.object({
    datasetId: id<DatasetId>().optional(),
    split: z.enum(SPLITS).optional(),
    imageIds: z.array(id<ImageId>()).min(1).max(1_000_000).optional(),
    vqaEndpoint: endpointName,
    reconstructorEndpoint: endpointName,
    rounds: z.number().int().min(0).max(50).default(6),
    /** Images in flight at once; by default twice the VQA endpoint's concurrency. */
    concurrency: z.number().int().min(1).max(1024).optional(),
    /** A saved prompt set (prompts:list); by default the newest version of "default". */
    promptSetId: z.number().int().positive().optional(),
    /** Caption images again even if they already have an MTG caption. */
    redo: z.boolean().default(false),
    /** Check each kept answer with a second yes/no question before it reaches the caption; off (the paper) if absent. */
    verify: z.boolean().optional(),
    /** USD: the job pauses when its calls have cost this much. */
    budgetUsd: z.number().positive().max(1_000_000).optional(),
    /** 'batch': through the endpoint's Batch API, round by round, at the batch price. */
    /** 'offline' (files for vLLM's batch runner) is for the command line: it writes files on this machine. */
    mode: z.enum(['sync', 'batch']).optional(),
    /** Batch mode: how often the batch is polled (the provider's own pace: minutes for OpenAI). */
    batchPollMs: z.number().int().min(10).max(600_000).optional(),
  }),
  /** Runs MTG on a few images of the selection (answers are cached for the job) and scales up their tokens. */
  'mtg:estimate': z.object({
    datasetId: id<DatasetId>().optional(),
    split: z.enum(SPLITS).optional(),
    imageIds: z.array(id<ImageId>()).min(1).max(1_000_000).optional(),
    vqaEndpoint: endpointName,
    reconstructorEndpoint: endpointName,
    rounds: z.number().int().min(0).max(50).default(6),
    redo: z.boolean().default(false),
    verify: z.boolean().optional(),
    sample: z.number().int().min(1).max(50).default(3),
  }),
  /** Sets the budget of an MTG job (null: none), e.g. to resume one that its budget paused. */
  'mtg:budget': z.object({ jobId: id<JobId>(), budgetUsd: z.number().positive().max(1_000_000).nullable() }),
  /** The Batch API submissions of an MTG job, round by round. */
  'mtg:batches': z.object({ jobId: id<JobId>() }),
  'mtg:runs': z.object({ imageId: id<ImageId>() }),
} as const;

export interface MtgInvokeResults {
  'mtg:start': { job: Job; images: number };
  'mtg:runs': MtgRun[];
  'mtg:estimate': MtgEstimate;
  'mtg:budget': Job;
  'mtg:batches': BatchRound[];
}
