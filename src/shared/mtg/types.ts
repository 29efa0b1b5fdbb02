// The mtg feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { CaptionId, ImageId, JobId } from '../ids';

/** One Batch API submission of a job (one MTG round, or a smaller retry of its failed lines). */
export interface BatchRound {
  round: number;
  try: number;
  /** submitted · in_progress · finalizing · completed/expired/failed (waiting to be collected) · collected. */
  status: string;
  requests: number;
  completed: number;
  failed: number;
  providerBatchId: string | null;
}

/** What an MTG job is expected to cost, from a small sample of its images run first (and cached). */
export interface MtgEstimate {
  images: number;
  sampleImages: number;
  callsPerImage: number;
  promptTokensPerImage: number;
  completionTokensPerImage: number;
  promptTokens: number;
  completionTokens: number;
  /** Synchronous calls at the endpoints' prices; null when an endpoint has no price. */
  costUsd: number | null;
  /** The same through the Batch API, at its discount. */
  batchCostUsd: number | null;
}

/** Why a Q&A pair was left out of the reconstruction. */
export const DROP_REASONS = [
  'not_visible',
  'refusal',
  'negative',
  'redundant',
  'empty',
  'error',
  'unverified',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface QaRound {
  index: number;
  questionId: string;
  question: string;
  /** The exact text sent (the question inside its template). */
  prompt: string;
  answer: string | null;
  kept: boolean;
  dropReason: DropReason | null;
  dropDetail: string | null;
  /** What the answer adds, as a short phrase (kept pairs only). */
  fact: string | null;
  llmCallId: number | null;
  cached: boolean;
  latencyMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface MtgRun {
  id: number;
  imageId: ImageId;
  jobId: JobId | null;
  status: 'done' | 'failed';
  error: string | null;
  captionId: CaptionId | null;
  initialCaption: string | null;
  reconstruction: string | null;
  promptSet: { id: number; name: string; version: number; sha256: string };
  vqa: { endpoint: string; model: string };
  reconstructor: { endpoint: string; model: string };
  params: Record<string, unknown>;
  /** Questions not asked because the caption or earlier answers already settled them. */
  skipped: { questionId: string; reason: string }[];
  calls: number;
  cachedCalls: number;
  promptTokens: number;
  completionTokens: number;
  elapsedMs: number;
  createdAt: number;
  rounds: QaRound[];
}
