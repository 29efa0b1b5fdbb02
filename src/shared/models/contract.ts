// CLIP models' channels: registering a model folder and embedding the library with it.
import { z } from 'zod';
import type { DatasetId, ModelId } from '../ids';
import type { Job } from '../jobs/types';
import { id } from '../schema-fields';
import type { ClipModel } from './types';

export const modelsInvokeSchemas = {
  'models:list': z.object({}),
  /** Validates a CLIP model folder (see src/main/ml/models.ts) and registers it. */
  'models:register': z.object({
    folder: z.string().min(1),
    name: z.string().min(1).max(200).optional(),
    /** A Hugging Face ONNX folder's towers: fp32 (default), fp16 or quantized. */
    variant: z.enum(['fp32', 'fp16', 'quantized']).optional(),
  }),
  /** Embeds the images (of one dataset, or all) that have no vector from this model yet. */
  'embed:start': z.object({ modelId: id<ModelId>(), datasetId: id<DatasetId>().optional() }),
} as const;

export interface ModelsInvokeResults {
  'models:list': ClipModel[];
  'models:register': ClipModel;
  'embed:start': { job: Job };
}
