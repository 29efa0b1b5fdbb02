// The review feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { CaptionId, DatasetId, ImageId, ModelId } from '../ids';
import type { Split, CaptionSource, CaptionStatus, ImageSummary, Caption } from '../library/types';

// ── Review desk and export (issue 5) ─────────────────────────────────────────────────────────────
/** What a reviewer can decide about a caption from the keyboard; `reset` puts it back to pending. */
export const REVIEW_DECISIONS = ['accept', 'reject', 'flag', 'reset'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];
/** What the audit trail records. Bulk rows share a batch, so one undo reverses the whole bulk action. */
export const REVIEW_ACTIONS = [...REVIEW_DECISIONS, 'edit', 'undo', 'bulk-accept', 'bulk-reject'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

/** The queue's filter; every field narrows. Captions are the *current* row of their edit chain. */
export interface ReviewFilter {
  statuses?: CaptionStatus[] | undefined;
  sources?: CaptionSource[] | undefined;
  datasetId?: DatasetId | undefined;
  split?: Split | 'none' | undefined;
  personId?: string | undefined;
  /** CLIP image–text cosine, with the workspace's scoring model; captions without a score never match a range. */
  scoreMin?: number | undefined;
  scoreMax?: number | undefined;
  /** Caption length in words. */
  minWords?: number | undefined;
  maxWords?: number | undefined;
  /** Case-insensitive substring of the caption text. */
  text?: string | undefined;
  /** Only captions whose MTG run dropped at least one Q&A round. */
  hasDroppedRounds?: boolean | undefined;
  /** Queue order; absent means 'image'. */
  order?: ReviewOrder | undefined;
}

/**
 * The review queue's orders: image order (image id, then caption id), or by the CLIP score of the
 * scoring model, lowest or highest first; ties by image then caption id, and captions without a score
 * after every scored one (in image order).
 */
export const REVIEW_ORDERS = ['image', 'score-asc', 'score-desc'] as const;
export type ReviewOrder = (typeof REVIEW_ORDERS)[number];

export interface ReviewQueueEntry {
  captionId: CaptionId;
  imageId: ImageId;
  datasetId: DatasetId;
  personId: string | null;
  split: Split | null;
  source: CaptionSource;
  status: CaptionStatus;
  text: string;
  words: number;
  score: number | null;
  version: number;
}

export interface ReviewQueuePage {
  items: ReviewQueueEntry[];
  total: number;
}

export const QA_DROP_REASONS = [
  'not_visible',
  'refusal',
  'negative',
  'redundant',
  'empty',
  'error',
  'unverified',
] as const;
export type QaDropReason = (typeof QA_DROP_REASONS)[number];

export interface QaRoundView {
  idx: number;
  question: string;
  answer: string | null;
  kept: boolean;
  dropReason: QaDropReason | null;
  dropDetail: string | null;
}

/** The MTG run that produced a caption: what the desk shows as evidence. */
export interface CaptionEvidence {
  runId: number;
  initialCaption: string | null;
  reconstruction: string | null;
  vqaModel: string;
  reconstructorModel: string;
  promptSet: { name: string; version: number } | null;
  rounds: QaRoundView[];
  createdAt: number;
}

export interface ReviewHistoryEntry {
  id: number;
  captionId: CaptionId;
  reviewer: string;
  action: ReviewAction;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  createdAt: number;
  /** Reversed by a later undo. */
  undone: boolean;
}

export interface ReviewItem {
  caption: Caption & { derivedFrom: CaptionId | null };
  image: ImageSummary & { datasetName: string; camera: string | null };
  /** The model (or dataset) text this chain started from; the desk diffs the editor against it. */
  original: { captionId: CaptionId; source: CaptionSource; text: string };
  /** The dataset's own captions of this image, for comparison. */
  humanCaptions: { captionId: CaptionId; text: string }[];
  evidence: CaptionEvidence | null;
  /** CLIP image–text cosine of this text with the image; null when no model has embedded the image. */
  score: { model: string; value: number } | null;
  /** The whole chain's audit trail, newest first. */
  history: ReviewHistoryEntry[];
}

export interface ReviewUndoResult {
  /** What was undone, in words; null when there was nothing to undo. */
  undone: string | null;
  /** The caption the undo touched, as it is now (the desk shows it). */
  item: ReviewItem | null;
}

export interface ReviewBulkResult {
  changed: number;
  batch: number | null;
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** How much of a review queue has a CLIP score from the workspace's scoring model (what the score filter uses). */
export interface ScoreCoverage {
  /** The scoring model: the newest one that embedded any image; null when none has (nothing can be scored). */
  model: { id: ModelId; name: string } | null;
  /** Captions in the queue. */
  total: number;
  scored: number;
  /** Captions in the queue whose image has no vector from the model: they need embedding first. */
  withoutVector: number;
}

export interface ReviewStats {
  total: number;
  byStatus: Record<CaptionStatus, number>;
  bySource: Record<CaptionSource, number>;
  /** Decisions per clock hour over the last 24 hours (undone ones left out), oldest first. */
  perHour: { hourStart: number; count: number }[];
  /** Decisions per hour over the span the reviewers were actually at work (gaps over 30 minutes left out). */
  itemsPerHour: number | null;
  lengthHistogram: HistogramBin[];
  /** Share of current, not rejected captions that mention each attribute group. */
  attributeCoverage: { attribute: string; count: number; share: number }[];
  score: { model: string; histogram: HistogramBin[]; scored: number } | null;
}

export interface SavedFilter {
  id: number;
  name: string;
  filter: ReviewFilter;
  createdAt: number;
  updatedAt: number;
}

/** What an export would write, before it starts (the export dialog's counts and target). */
export interface ExportPreview {
  /** Accepted current captions of each source. */
  bySource: Record<CaptionSource, number>;
  /** Of the chosen sources together: captions, and the images they describe. */
  captions: number;
  images: number;
  /** Where a relative folder is placed. */
  workspaceFolder: string;
  /** The folder the export would be written to; null when none was given or it is refused. */
  outDir: string | null;
  /** Why the folder given cannot be used, when it cannot. */
  outDirProblem: string | null;
}

export const EXPORT_FORMATS = ['cuhk-pedes', 'icfg-pedes', 'rstpreid', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** How images reach the export folder: copied, hard-linked (same disk), or referenced where they are. */
export const EXPORT_IMAGE_MODES = ['copy', 'hardlink', 'reference'] as const;
export type ExportImageMode = (typeof EXPORT_IMAGE_MODES)[number];
