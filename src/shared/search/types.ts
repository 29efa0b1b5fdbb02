// The search feature's vocabulary, shared by main and renderer (carved out of the former domain.ts). Plain data only.
import type { CropOrigin } from '../footage/types';
import type { ModelId } from '../ids';
import type { ImageSummary } from '../library/types';

// ── Text→image search and evaluation (issue 3) ───────────────────────────────────────────────────
export interface QueryTokens {
  /** Tokens the query needs, start and end included, before truncation. */
  count: number;
  contextLength: number;
  /** The query is longer than the model's context: its tail is not seen by the model. */
  truncated: boolean;
}

export interface SearchHitView {
  /** 1-based. */
  rank: number;
  /** Cosine similarity of the query and the image, −1…1. */
  score: number;
  image: ImageSummary;
  /** For a crop cut from footage: its camera, time, track, frame and box. */
  footage?: CropOrigin;
}

/** Footage hits of one track together: one walk past one camera, however many of its crops matched. */
export interface TrackHitGroup {
  trackId: number;
  camera: string;
  cameraId: number;
  videoId: number;
  /** The track's span: seconds in its video, and wall-clock (null without a clock time). */
  firstTime: number;
  lastTime: number;
  firstMs: number | null;
  lastMs: number | null;
  /** Its best hit's rank and score. */
  rank: number;
  score: number;
  /** Ranks of its hits in `results`, best first. */
  ranks: number[];
}

export interface TextSearchResult extends QueryTokens {
  modelId: ModelId;
  results: SearchHitView[];
  /** The footage crops among `results`, grouped by track in the order of their best hit. */
  tracks: TrackHitGroup[];
  /** Images in the searched scope (the dataset, or the workspace) with no vector from this model yet. */
  unembedded: number;
  /** ONNX Runtime provider of the text tower, e.g. "cpu" or "webgpu+cpu". */
  provider: string;
  /** Encode + rank, milliseconds. */
  ms: number;
}
