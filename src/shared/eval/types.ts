// The eval feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { DatasetId, ModelId } from '../ids';
import type { Split } from '../library/types';

/** tbps: the IRRA protocol over a split; reid: the dataset's own query/gallery roles with the re-ID rule. */
export const EVAL_PROTOCOLS = ['tbps', 'reid'] as const;
export type EvalProtocol = (typeof EVAL_PROTOCOLS)[number];
/** Which captions become queries: human ones only (TBPS datasets), or any current caption not rejected (MTG too). */
export const EVAL_CAPTION_SOURCES = ['human', 'any'] as const;
export type EvalCaptionSource = (typeof EVAL_CAPTION_SOURCES)[number];

export const EVAL_QUERY_KINDS = ['captions', 'one-attribute', 'first-clause'] as const;
/**
 * `captions`: every caption as written; `one-attribute`: one attribute phrase of the person per caption
 * (synthetic worlds, from attributes.json); `first-clause`: each caption cut at its first clause (any dataset).
 */
export type EvalQueryKind = (typeof EVAL_QUERY_KINDS)[number];

export interface EvalReport {
  modelId: ModelId;
  modelName: string;
  split: Split;
  datasetId: DatasetId | null;
  queryKind: EvalQueryKind;
  /** How the queries were made, in words (for one-attribute: from attributes.json or from first clauses). */
  queryDerivation: string;
  /** Captions turned into queries, and the scored ones (whose person has an image in the gallery). */
  captions: number;
  queries: number;
  queriesWithoutMatch: number;
  gallery: number;
  identities: number;
  /** Percentages 0–100. */
  r1: number;
  r5: number;
  r10: number;
  mAP: number;
  mINP: number;
  /** Each query's best similarity: guides the MTI early-stop threshold ξ for this model. */
  top1Similarity: { min: number; p10: number; median: number; p90: number; max: number; mean: number };
  /** Queries longer than the model's context (cut to fit). */
  truncatedQueries: number;
  /** A few queries with their first-match rank, for a glance at what was asked. */
  examples: { query: string; firstMatchRank: number }[];
  provider: string;
  ms: number;
  /** Absent in reports made before issue 16: 'tbps', human captions, no distractors. */
  protocol?: EvalProtocol;
  captionSource?: EvalCaptionSource;
  /** Whether distractor images (0000) were in the gallery. */
  distractors?: boolean;
  /** Re-ID protocol: (query, gallery image) pairs left out as the same person seen by the same camera. */
  excludedSameCamera?: number;
}
