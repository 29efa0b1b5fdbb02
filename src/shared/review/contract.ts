// The review desk's and the export's channels (issue 5); shared/contract.ts merges them with every other
// feature's: same rules (one object argument, validated by these schemas).
import { z } from 'zod';
import { id } from '../schema-fields';
import type {
  ExportPreview,
  ReviewBulkResult,
  ReviewItem,
  ReviewQueuePage,
  ReviewStats,
  ReviewUndoResult,
  SavedFilter,
  ScoreCoverage,
} from './types';
import type { Job } from '../jobs/types';
import { CAPTION_SOURCES, CAPTION_STATUSES, SPLITS } from '../library/types';
import { EXPORT_FORMATS, EXPORT_IMAGE_MODES, REVIEW_DECISIONS, REVIEW_ORDERS } from './types';
import type { CaptionId, DatasetId, ModelId } from '../ids';

/**
 * Who decided: a short name shown in the audit trail. The owner's desk sends the name kept in the
 * browser; for a named user of a shared server the server records their own name instead (issue 13).
 */
export const reviewerSchema = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .regex(/^[^\p{Cc}]+$/u, 'no control characters')
  .default('annotator');

export const reviewFilterSchema = z.object({
  statuses: z.array(z.enum(CAPTION_STATUSES)).max(4).optional(),
  sources: z.array(z.enum(CAPTION_SOURCES)).max(3).optional(),
  datasetId: id<DatasetId>().optional(),
  split: z.enum([...SPLITS, 'none']).optional(),
  personId: z.string().min(1).max(200).optional(),
  scoreMin: z.number().min(-1).max(1).optional(),
  scoreMax: z.number().min(-1).max(1).optional(),
  minWords: z.number().int().min(0).max(10_000).optional(),
  maxWords: z.number().int().min(0).max(10_000).optional(),
  text: z.string().max(500).optional(),
  hasDroppedRounds: z.boolean().optional(),
  /** Queue order (pages, next/previous and bulk actions alike); absent is image order. */
  order: z.enum(REVIEW_ORDERS).optional(),
});

export const reviewInvokeSchemas = {
  /** One page of the queue (current captions matching the filter) in the filter's order, with the total. */
  'review:queue': z.object({
    filter: reviewFilterSchema.default({}),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(0).max(1000).default(100),
  }),
  'review:item': z.object({ captionId: id<CaptionId>() }),
  /**
   * The next (or previous) caption in queue order after `from` (the start when absent) that matches the
   * filter; `unreviewed` keeps only pending ones. Null at the end of the queue.
   */
  'review:neighbor': z.object({
    filter: reviewFilterSchema.default({}),
    from: id<CaptionId>().optional(),
    direction: z.enum(['next', 'prev']).default('next'),
    unreviewed: z.boolean().default(false),
  }),
  /** accept / reject / flag / reset, checked against the version the desk showed (optimistic locking). */
  'review:decide': z.object({
    captionId: id<CaptionId>(),
    version: z.number().int().positive(),
    decision: z.enum(REVIEW_DECISIONS),
    reviewer: reviewerSchema,
  }),
  /** Accept (or flag…) with edits: a new caption row derived from this one; the model's text stays. */
  'review:edit': z.object({
    captionId: id<CaptionId>(),
    version: z.number().int().positive(),
    text: z.string().max(5000),
    status: z.enum(CAPTION_STATUSES).default('accepted'),
    reviewer: reviewerSchema,
  }),
  /** Reverses this reviewer's last decision, edit or bulk action that is not undone yet. */
  'review:undo': z.object({ reviewer: reviewerSchema }),
  'review:history': z.object({ captionId: id<CaptionId>() }),
  /**
   * Accepts or rejects every caption matching the filter. `expected` is the count the user confirmed:
   * when the set changed meanwhile, nothing is written and the answer is a conflict.
   */
  'review:bulk': z.object({
    filter: reviewFilterSchema,
    decision: z.enum(['accept', 'reject']),
    expected: z.number().int().min(0),
    reviewer: reviewerSchema,
  }),
  'review:stats': z.object({ datasetId: id<DatasetId>().optional() }),
  'review:filters': z.object({}),
  'review:saveFilter': z.object({ name: z.string().trim().min(1).max(100), filter: reviewFilterSchema }),
  'review:deleteFilter': z.object({ id: z.number().int().positive() }),
  /** How many captions of the queue have a CLIP score from the scoring model, and how many cannot have one yet. */
  'review:scoreCoverage': z.object({ filter: reviewFilterSchema.default({}) }),
  /**
   * Starts a job that scores every current caption (of the dataset and statuses given) that has no score
   * from the model yet; the model defaults to the one the score filter uses. A score job of the same
   * model and scope that is still queued or running is returned instead of a second one.
   */
  'review:scoreAll': z.object({
    modelId: id<ModelId>().optional(),
    datasetId: id<DatasetId>().optional(),
    statuses: z.array(z.enum(CAPTION_STATUSES)).min(1).max(4).optional(),
  }),
  /**
   * What an export of these sources would write (accepted current captions, per source and in all) and
   * where `outDir` would go: a relative folder is placed in the workspace's folder.
   */
  'export:preview': z.object({
    datasetId: id<DatasetId>().optional(),
    sources: z.array(z.enum(CAPTION_SOURCES)).min(1).max(3).optional(),
    outDir: z.string().max(4096).optional(),
  }),
  /**
   * Writes accepted captions as a dataset file (+ images) into a new folder, as a job. A relative `outDir`
   * is placed in the workspace's folder; missing folders above it are made.
   */
  'export:start': z.object({
    outDir: z.string().min(1),
    format: z.enum(EXPORT_FORMATS),
    datasetId: id<DatasetId>().optional(),
    images: z.enum(EXPORT_IMAGE_MODES).default('copy'),
    /** Which accepted captions go out; by default all three sources. */
    sources: z.array(z.enum(CAPTION_SOURCES)).min(1).max(3).optional(),
    /** For images without a split: shares by identity (normalised) and the shuffle's seed. */
    splitRatios: z
      .object({ train: z.number().min(0), val: z.number().min(0), test: z.number().min(0) })
      .refine((r) => r.train + r.val + r.test > 0, 'at least one ratio must be above 0')
      .default({ train: 0.8, val: 0.1, test: 0.1 }),
    seed: z.number().int().default(1),
    /** Write into an existing non-empty folder's place (the old one is replaced only when all is written). */
    overwrite: z.boolean().default(false),
  }),
} as const;

export interface ReviewInvokeResults {
  'review:queue': ReviewQueuePage;
  'review:item': ReviewItem;
  'review:neighbor': ReviewItem | null;
  'review:decide': ReviewItem;
  'review:edit': ReviewItem;
  'review:undo': ReviewUndoResult;
  'review:history': ReviewItem['history'];
  'review:bulk': ReviewBulkResult;
  'review:stats': ReviewStats;
  'review:filters': SavedFilter[];
  'review:saveFilter': SavedFilter;
  'review:deleteFilter': { deleted: boolean };
  'review:scoreCoverage': ScoreCoverage;
  'review:scoreAll': { job: Job; toScore: number; withoutVector: number };
  'export:preview': ExportPreview;
  'export:start': { job: Job; outDir: string; captions: number; images: number };
}
