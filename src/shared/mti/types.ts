// MTI (ALGORITHMS.md §3) as the renderer, the CLI and the database see it: parameters, the transcript of
// every step (who decided it: the MLLM or the analyst), and a saved search with its re-ranked results.
import type { EvalQueryKind } from '../eval/types';
import type { ImageSummary, Split } from '../library/types';
import type { TrackHitGroup } from '../search/types';
import type { CropOrigin } from '../footage/types';
import type { ImageId, ModelId } from '../ids';

export interface MtiParams {
  /** Candidates examined for an anchor per round (paper: 20). */
  k: number;
  /**
   * Early exit: when the top candidate's cosine exceeds ξ and the MLLM confirms it, it is the anchor and
   * the query is taken as good enough (no questions). Depends on the model's cosine scale (paper 0.85,
   * the reference code 0.5); `ctgi eval --mti` prints the top-1 distribution to choose it.
   */
  xi: number;
  /** Weight of the original query in the fused score λ·S(q,v) + (1−λ)·S(q̂,v) (reference: 0.8). */
  lambda: number;
  /** Rounds run without the analyst (the reference runs 5; each later round examines the next candidates). */
  rounds: number;
  /** Diagnostic questions per round, at most (all asked in one call). */
  questions: number;
  /**
   * Anchor checks in flight at once, started in rank order; the chosen anchor is the first "yes" in rank
   * order whatever this is. K (the default) gives the shortest round, 1 the fewest MLLM calls (the
   * sequential algorithm); `npm run bench:mti` measures both sides.
   */
  checkConcurrency: number;
}

export const MTI_DEFAULTS: MtiParams = {
  k: 20,
  xi: 0.85,
  lambda: 0.8,
  rounds: 1,
  questions: 6,
  checkConcurrency: 20,
};

/**
 * Parameters as stored by any version, completed with the defaults. Searches saved before the knob was
 * renamed carry `concurrency`; it meant the same thing.
 */
export function mtiParamsOf(stored: Partial<MtiParams> & { concurrency?: number }): MtiParams {
  const { concurrency, ...rest } = stored;
  const defined = Object.fromEntries(
    Object.entries(rest).filter(([, v]) => v !== undefined),
  ) as Partial<MtiParams>;
  return {
    ...MTI_DEFAULTS,
    ...(concurrency !== undefined ? { checkConcurrency: concurrency } : {}),
    ...defined,
  };
}

export type MtiActor = 'mllm' | 'analyst';
export type MtiVerdict = 'yes' | 'no' | 'unclear';

/** One "does q describe this image?" check. */
export interface MtiCheck {
  imageId: ImageId;
  /** 1-based rank in the ranking the round examined. */
  rank: number;
  /** That ranking's score of the image. */
  score: number;
  /** The MLLM's words (null when the analyst decided without asking). */
  answer: string | null;
  verdict: MtiVerdict;
  by: MtiActor;
  ms: number | null;
}

export interface MtiQuestion {
  id: string;
  attribute: string;
  text: string;
  answer: string | null;
  by: MtiActor;
  /** Whether the answer went into q̂ (not "cannot tell", a refusal or an absence). */
  kept: boolean;
  dropReason: string | null;
}

export interface MtiRound {
  index: number;
  /** The query this round starts from: the analyst's words in round 1, the previous q̂ after. */
  query: string;
  checks: MtiCheck[];
  anchor: { imageId: ImageId; rank: number; by: MtiActor } | null;
  /** Top-1 above ξ and confirmed: anchor at once, no questions. */
  earlyStop: boolean;
  questions: MtiQuestion[];
  /** Pool questions not asked because the query already settles them. */
  skipped: { questionId: string; reason: string }[];
  /** q̂ of this round; null when there is no anchor. */
  refined: string | null;
  refinedBy: MtiActor | null;
  /** MLLM calls started in this round, including checks cut short once the anchor was known. */
  calls: number;
  ms: number;
  /** Why the round stopped early: no anchor among the candidates, or the endpoint failed. */
  note: string | null;
}

export type MtiAction =
  | { kind: 'reject-anchor' }
  | { kind: 'pick-anchor'; imageId: ImageId }
  | { kind: 'answer'; questionId: string; answer: string }
  | { kind: 'edit-refined'; text: string }
  | { kind: 'next-round' }
  | { kind: 'back' };

export interface MtiLogEntry {
  at: number;
  by: MtiActor;
  /** "round 1: anchor #3 (image 812)", "analyst answered top-colour: red", … */
  text: string;
}

export interface MtiTranscript {
  query: string;
  params: MtiParams;
  rounds: MtiRound[];
  log: MtiLogEntry[];
  /** Set when the search fell back to the plain ranking (endpoint failure, cancel): the reason, in words. */
  fallback: string | null;
  /** The rounds before each analyst action, newest last: what "back" restores. */
  history: MtiRound[][];
  /** Footage: the cameras and time range whose crops are the gallery (absent: every embedded image). */
  footage?: FootageScope;
}

/** Which footage crops a search ranks: these cameras (by name), seen in this wall-clock range (epoch ms). */
export interface FootageScope {
  cameras?: string[];
  fromMs?: number;
  toMs?: number;
}

export interface MtiResultRow {
  rank: number;
  image: ImageSummary;
  /** S(q, v): cosine of the analyst's query. */
  base: number;
  /** S(q̂, v) as mixed in (1 for the anchor); null without refinement. */
  refined: number | null;
  fused: number;
  anchor: boolean;
  /** Rank under S(q, v) alone, to show what MTI moved. */
  baseRank: number;
  /** For a crop cut from footage: its camera, time, track, frame and box (added when read, not stored). */
  footage?: CropOrigin;
}

export interface MtiSearch {
  id: number;
  modelId: ModelId;
  modelName: string;
  datasetId: number | null;
  query: string;
  vqaEndpoint: string | null;
  aggregatorEndpoint: string | null;
  transcript: MtiTranscript;
  /** The query the current ranking uses for its (1−λ) part. */
  refined: string | null;
  results: MtiResultRow[];
  /** The footage crops among `results`, grouped by track (by fused score); added when read. */
  tracks?: TrackHitGroup[];
  status: 'running' | 'done' | 'fallback' | 'cancelled';
  createdAt: number;
  updatedAt: number;
}

export interface MtiSearchSummary {
  id: number;
  query: string;
  refined: string | null;
  modelName: string;
  rounds: number;
  status: MtiSearch['status'];
  updatedAt: number;
}

/** Live steps of a running search (EventMap 'mti:progress'). */
export interface MtiProgress {
  searchId: number;
  phase: 'check' | 'anchor' | 'questions' | 'refined' | 'ranked' | 'fallback' | 'done';
  round: MtiRound;
}

/** Retrieval metrics in percent, 0–100 (the IRRA protocol). */
export interface MetricsRow {
  r1: number;
  r5: number;
  r10: number;
  mAP: number;
  mINP: number;
}

/** The IRRA figures of one query on one ranking. */
export interface QueryFigures {
  /** 1-based rank of the first match. */
  first: number;
  /** Average precision, 0–1. */
  ap: number;
  /** matches / rank of the last match, 0–1. */
  inp: number;
}

/**
 * Everything the report needs from one query, small enough to persist per query (so an interrupted
 * evaluation continues instead of starting over: db/repos/eval-mti.ts), instead of two gallery-wide score rows.
 */
export interface MtiEvalQueryResult {
  captionId: number;
  query: string;
  /** On S(q, ·) and on MTI's scores; null when the query's person has no image in the gallery. */
  without: QueryFigures | null;
  with: QueryFigures | null;
  calls: number;
  ms: number;
  /** Best S(q, v) over the gallery. */
  top1: number;
  anchor: boolean;
  anchorCorrect: boolean;
  earlyStop: boolean;
  fallback: boolean;
  refined: string | null;
}

/** The `eval-mti` job's report (`ctgi eval --mti`, the MTI report view): metrics without and with MTI over a labelled split. */
export interface MtiEvalReport {
  modelName: string;
  split: Split;
  queryKind: EvalQueryKind;
  queries: number;
  gallery: number;
  params: MtiParams;
  vqaEndpoint: string;
  aggregatorEndpoint: string;
  without: MetricsRow;
  with: MetricsRow;
  /** MLLM calls per query (checks started, questions, aggregation). */
  callsPerQuery: { mean: number; p50: number; p95: number; max: number };
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
  /** Shares of queries, 0–100. */
  anchorFound: number;
  earlyStops: number;
  fallbacks: number;
  /** The anchor was an image of the query's person. */
  anchorCorrect: number;
  /** cosine of the best gallery image per query: choose ξ above the bulk for early exits that are safe. */
  top1Similarity: {
    min: number;
    p10: number;
    median: number;
    p90: number;
    max: number;
    mean: number;
    histogram: { from: number; to: number; count: number }[];
  };
  examples: { query: string; refined: string | null; before: number; after: number }[];
  ms: number;
}
