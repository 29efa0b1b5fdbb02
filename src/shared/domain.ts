// Domain vocabulary shared by main and renderer. Plain data only.
import type { CropOrigin } from './footage';
import type { CaptionId, DatasetId, IdentityId, ImageId, JobId, ModelId } from './ids';
import type { Brand } from './ids';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export const DATASET_FORMATS = ['folder', 'cuhk-pedes', 'icfg-pedes', 'rstpreid'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Person re-ID dataset layouts the folder import recognises (issue 16). */
export const REID_LAYOUTS = ['market', 'duke', 'msmt17', 'cuhk03', 'luperson'] as const;
export type ReidLayout = (typeof REID_LAYOUTS)[number];
/** What a folder import is told: detect the layout, use this one, or a plain folder of images. */
export const LAYOUT_CHOICES = ['auto', ...REID_LAYOUTS, 'plain'] as const;
export type LayoutChoice = (typeof LAYOUT_CHOICES)[number];
/** An image's part in its dataset's own protocol; query and gallery images are in the test split. */
export const IMAGE_ROLES = ['train', 'query', 'gallery'] as const;
export type ImageRole = (typeof IMAGE_ROLES)[number];
/** junk: Market/Duke's -1 (bad detections); distractor: 0000 (not a person of the set); unknown: no label. */
export const PERSON_KINDS = ['identity', 'junk', 'distractor', 'unknown'] as const;
export type PersonKind = (typeof PERSON_KINDS)[number];

/** What a folder holds as its layout reads it: counted before the import starts. */
export interface LayoutPreview {
  /** Image files the layout takes in (counted up to a cap; see `complete`). */
  images: number;
  /** False when counting stopped at the cap: the figures are a lower bound. */
  complete: boolean;
  byRole: Record<ImageRole | 'none', number>;
  bySplit: Record<Split | 'none', number>;
  /** Distinct person ids (junk and distractors are not persons), in all and per role. */
  persons: number;
  personsByRole: Record<ImageRole, number>;
  cameras: string[];
  junk: number;
  distractors: number;
  /** Distinct source groups (LUPerson's videos, CUHK03's detected/labeled). */
  sourceGroups: number;
  /** Image files outside the layout's folders (Market's gt_bbox/): not imported. */
  skipped: number;
  examples: {
    relPath: string;
    personId: string | null;
    personKind: PersonKind;
    camera: string | null;
    role: ImageRole | null;
    sourceGroup: string | null;
  }[];
}

export interface LayoutDetection {
  folder: string;
  /** What the folder looks like; null: no re-ID layout recognised (a plain folder). */
  detected: ReidLayout | null;
  /** The layout the import will use: the detected one for 'auto', the forced one otherwise; null: plain. */
  layout: ReidLayout | null;
  /** Why, in sentences (folders and file names found, or what was missing). */
  evidence: string[];
  /** Counts under `layout`; null for a plain folder. */
  preview: LayoutPreview | null;
}

/** `importing` while its import job runs; `incomplete` when that job was cancelled or failed. */
export const DATASET_STATUSES = ['importing', 'ready', 'incomplete'] as const;
export type DatasetStatus = (typeof DATASET_STATUSES)[number];

export const CAPTION_SOURCES = ['human', 'mtg', 'edited'] as const;
export type CaptionSource = (typeof CAPTION_SOURCES)[number];

export const CAPTION_STATUSES = ['pending', 'accepted', 'rejected', 'flagged'] as const;
export type CaptionStatus = (typeof CAPTION_STATUSES)[number];

/** Library filter on captions: `none` = images with no caption at all. */
export const CAPTION_FILTERS = ['any', 'none', ...CAPTION_STATUSES] as const;
export type CaptionFilter = (typeof CAPTION_FILTERS)[number];

export const JOB_KINDS = ['import', 'embed', 'mtg', 'export', 'score', 'eval-mti', 'footage'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * `paused`: stopped by the user, resumable from its cursor. `done-with-failures`: finished, but some
 * items failed (each is one of the job's issues); the CLI exits non-zero on it. `cancelled`: stopped for good
 * (it can still be resumed).
 */
export const JOB_STATUSES = [
  'queued',
  'running',
  'paused',
  'done',
  'done-with-failures',
  'failed',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** True when a job no longer runs by itself: it finished, failed, or was paused or cancelled. */
export const isJobStopped = (status: JobStatus): boolean => status !== 'queued' && status !== 'running';

/** True when a job ran to its end (some items may have failed). */
export const isJobFinished = (status: JobStatus): boolean =>
  status === 'done' || status === 'done-with-failures';

export interface Dataset {
  id: DatasetId;
  name: string;
  format: DatasetFormat;
  /** The re-ID layout it was imported as; null for a plain folder or an annotation file. */
  layout: ReidLayout | null;
  status: DatasetStatus;
  imageCount: number;
  identityCount: number;
  captionCount: number;
  createdAt: number;
}

export interface ImageSummary {
  id: ImageId;
  datasetId: DatasetId;
  /** Path relative to the dataset root, for display only: the API never resolves paths. */
  relPath: string;
  width: number;
  height: number;
  personId: string | null;
  split: Split | null;
  captionCount: number;
}

export interface Caption {
  id: CaptionId;
  imageId: ImageId;
  source: CaptionSource;
  text: string;
  status: CaptionStatus;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface ImageDetail extends ImageSummary {
  datasetName: string;
  identityId: IdentityId | null;
  camera: string | null;
  role: ImageRole | null;
  personKind: PersonKind;
  sourceGroup: string | null;
  sha256: string;
  bytes: number;
  format: string;
  createdAt: number;
  captions: Caption[];
}

export interface ImagePage {
  items: ImageSummary[];
  /** Total matching the filter, for the virtualized grid's scroll height. */
  total: number;
}

export interface JobIssue {
  severity: 'error' | 'warning';
  item: string;
  message: string;
}

export interface Job {
  id: JobId;
  kind: JobKind;
  title: string;
  status: JobStatus;
  done: number;
  total: number | null;
  message: string | null;
  error: string | null;
  issueCount: number;
  attempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Items per second over the current attempt; null before the first item. */
  rate: number | null;
}

export interface LibraryStats {
  datasets: number;
  images: number;
  identities: number;
  captions: Record<CaptionStatus, number>;
  imagesBySplit: Record<Split | 'none', number>;
}

// ── MLLM endpoints (issue 4) ────────────────────────────────────────────────────────────────────
export type LlmEndpointId = Brand<number, 'LlmEndpointId'>;

/** What an endpoint is used for: MTG/MTI questions about images, caption reconstruction, or both. */
export const LLM_ROLES = ['vqa', 'reconstructor', 'both'] as const;
export type LlmRole = (typeof LLM_ROLES)[number];

/**
 * Where an endpoint's API key comes from. The key itself is never stored in the workspace nor sent to
 * the renderer: only this reference is. `file` must be readable by its owner only (mode 0600).
 */
export type KeyRef =
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string }
  | { kind: 'none' }
  | { kind: 'safe-storage'; id: string };
export const KEY_REF_KINDS = ['env', 'file', 'none', 'safe-storage'] as const;

export interface EndpointReplica {
  baseUrl: string;
  concurrency: number;
}

/** One server of an endpoint: what the calls log says it did, and its health as this process sees it. */
export interface ReplicaFigures {
  baseUrl: string;
  concurrency: number;
  /** Null when this process has not called the endpoint yet (health is known only from calls and probes). */
  healthy: boolean | null;
  inFlight: number;
  calls: number;
  errors: number;
  meanLatencyMs: number | null;
  promptTokens: number;
  completionTokens: number;
  lastError: string | null;
  lastCallAt: number | null;
}

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

/** Paid tokens and their cost for one job, endpoint or day (USD; null where an endpoint has no price). */
export interface UsageLine {
  key: string;
  calls: number;
  batchCalls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
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

export interface LlmEndpoint {
  id: LlmEndpointId;
  name: string;
  /** OpenAI-compatible base URL, usually ending in `/v1`. */
  baseUrl: string;
  model: string;
  role: LlmRole;
  temperature: number;
  maxTokens: number;
  /** Requests in flight at once against this endpoint. */
  concurrency: number;
  /** Requests started per minute; null = no limit beyond `concurrency`. */
  requestsPerMinute: number | null;
  /** Per-attempt timeout. */
  timeoutMs: number;
  keyRef: KeyRef;
  /** Which body field carries `maxTokens` (OpenAI's reasoning models reject `max_tokens`). */
  tokenLimitParam: TokenLimitParam;
  /**
   * More servers of the same model beside `baseUrl` (one vLLM server per GPU box), each with its own
   * concurrency. Calls go to the least busy healthy one; answers are cached under `baseUrl` whichever served.
   */
  replicas: EndpointReplica[];
  /** USD per million prompt / completion tokens; null: not priced (cost is then shown as unknown). */
  priceInput: number | null;
  priceOutput: number | null;
  /** Share of the price paid for Batch API calls (OpenAI: 0.5). */
  batchDiscount: number;
  /** Whether `temperature` is sent (OpenAI's reasoning models reject any value but the default). */
  temperatureParam: TemperatureParam;
  createdAt: number;
  updatedAt: number;
}

/**
 * 'auto' sends `max_completion_tokens` to OpenAI's o1/o3/o4/gpt-5 families (by model name) and
 * `max_tokens` to everything else (vLLM, Ollama, llama.cpp, GPT-4o); a 400 naming the field switches once.
 */
export const TOKEN_LIMIT_PARAMS = ['auto', 'max_tokens', 'max_completion_tokens'] as const;
export type TokenLimitParam = (typeof TOKEN_LIMIT_PARAMS)[number];
/** 'auto' omits `temperature` for the same reasoning families and sends it to the rest. */
export const TEMPERATURE_PARAMS = ['auto', 'send', 'omit'] as const;
export type TemperatureParam = (typeof TEMPERATURE_PARAMS)[number];

/** The request fields a call actually used: what the probe reports and the cache key includes. */
export interface SentParams {
  tokenLimitParam: Exclude<TokenLimitParam, 'auto'>;
  temperature: boolean;
}

/** In order: each one is only tried when the ones before it passed. */
export const PROBE_CHECKS = ['key', 'reachable', 'model', 'chat', 'vision', 'replicas'] as const;
export type ProbeCheckName = (typeof PROBE_CHECKS)[number];
export type ProbeCheckStatus = 'ok' | 'warning' | 'failed' | 'skipped';

export interface ProbeCheck {
  name: ProbeCheckName;
  status: ProbeCheckStatus;
  detail: string;
  latencyMs: number | null;
}

export interface EndpointProbe {
  endpoint: string;
  model: string;
  /** Every check passed (warnings allowed). */
  ok: boolean;
  checks: ProbeCheck[];
  /** One sentence: what to do next. */
  advice: string;
  /** Model ids the server listed, when it answered /models (capped). */
  availableModels: string[] | null;
  /**
   * The token-limit field and temperature the text answer went through (after any switch the server
   * forced with a 400); null when no answer came back.
   */
  sentParams?: SentParams | null;
}

// ── CLIP models (issue 3) ─────────────────────────────────────────────────────────────────────────
/** How images are resized for a model: IRRA/RDE stretch to H×W; stock CLIP scales and centre-crops. */
export const RESIZE_MODES = ['irra', 'clip'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

export interface ClipModel {
  id: ModelId;
  name: string;
  /** Absolute folder the model was registered from; the ONNX files are read from there. */
  folder: string;
  /** [height, width] */
  imageSize: [number, number];
  resize: ResizeMode;
  contextLength: number;
  embeddingDim: number;
  visionSha256: string;
  textSha256: string;
  /** Which tokenizer the folder provides, in words (e.g. "bpe_simple_vocab_16e6.txt.gz in the folder"). */
  tokenizer: string;
  /** What validation accepted with a remark (other output names, bundled vocab, …). */
  notes: string[];
  /** Images that have a vector from this model. */
  embeddedImages: number;
  createdAt: number;
}

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

// ── MTG: multi-turn caption generation (issue 4) ──────────────────────────────────────────────────
/** One attribute-targeted question of the pool. `settledBy` are regexes (case-insensitive): when one
 * matches what is already known about the image, the question is skipped. */
export interface PoolQuestion {
  id: string;
  attribute: string;
  /** `open` answers are phrases ("red", "a blue backpack"); `yesno` answers become `yes` when affirmative. */
  kind: 'open' | 'yesno';
  text: string;
  /** Noun added to a bare answer so it reads as a fact on its own ("red" + "shoes" → "red shoes"). */
  subject?: string;
  /** The fact stated by an affirmative answer to a yes/no question. */
  yes?: string;
  settledBy: string[];
}

/** A versioned set of MTG templates, relevance filters and the question pool. */
export interface PromptSetBody {
  name: string;
  version?: number;
  description?: string;
  templates: {
    /** P_init. */
    initial: string;
    /** Wraps each pool question; `{question}` is replaced. */
    question: string;
    /** `{caption}` and `{answers}` are replaced. */
    reconstruct: string;
    /** One kept Q&A pair inside `{answers}`: `{question}`, `{answer}`. */
    answerLine: string;
    /**
     * The optional verification check: a yes/no question about one kept fact (`{fact}`; `{question}` and
     * `{answer}` are also filled). Absent in sets saved before it existed; the default is used then.
     */
    verify?: string;
  };
  filters: {
    /** Regexes for answers saying the attribute cannot be seen. */
    notVisible: string[];
    refusal: string[];
    /** One regex for a negative answer ("no", "none"): the thing asked about is absent. */
    negative: string;
  };
  pool: PoolQuestion[];
}

export interface PromptSet {
  id: number;
  name: string;
  version: number;
  /** sha256 of the body's canonical JSON: equal bodies are one version. */
  sha256: string;
  body: PromptSetBody;
  createdAt: number;
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
