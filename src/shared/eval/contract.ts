// Retrieval evaluation's channel (ALGORITHMS.md §4).
import { z } from 'zod';
import type { DatasetId, ModelId } from '../ids';
import { SPLITS } from '../library/types';
import { id } from '../schema-fields';
import { EVAL_CAPTION_SOURCES, EVAL_PROTOCOLS, EVAL_QUERY_KINDS } from './types';
import type { EvalReport } from './types';

export const evalInvokeSchemas = {
  /** IRRA-protocol retrieval metrics of a model over a labelled split (ALGORITHMS.md §4). */
  'eval:run': z.object({
    modelId: id<ModelId>(),
    split: z.enum(SPLITS).default('test'),
    datasetId: id<DatasetId>().optional(),
    queries: z.enum(EVAL_QUERY_KINDS).default('captions'),
    protocol: z.enum(EVAL_PROTOCOLS).default('tbps'),
    captionSource: z.enum(EVAL_CAPTION_SOURCES).optional(),
    distractors: z.boolean().default(false),
  }),
} as const;

export interface EvalInvokeResults {
  'eval:run': EvalReport;
}
