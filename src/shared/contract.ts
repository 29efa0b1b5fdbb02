// The one API contract. Every front door (Electron IPC, HTTP + SSE, CLI) calls the same handlers,
// keyed `noun:verb`, with one object argument validated by the schema below.
import { z } from 'zod';
import type {
  Dataset,
  ImageDetail,
  EndpointProbe,
  ImagePage,
  Job,
  JobIssue,
  LibraryStats,
  LlmEndpoint,
  MtgEstimate,
  BatchRound,
  ReplicaFigures,
  UsageLine,
} from './domain';
import { CAPTION_FILTERS, DATASET_FORMATS, LAYOUT_CHOICES, SPLITS } from './domain';
import type { LayoutDetection } from './domain';
import type { ClipModel } from './domain';
import type { MtgRun, PromptSet, PromptSetBody } from './domain';
import { LLM_ROLES } from './domain';
import { TEMPERATURE_PARAMS, TOKEN_LIMIT_PARAMS } from './domain';
import type { EvalReport, QueryTokens, TextSearchResult } from './domain';
import { EVAL_CAPTION_SOURCES, EVAL_PROTOCOLS, EVAL_QUERY_KINDS } from './domain';
import type { DatasetId, ImageId, JobId, ModelId } from './ids';
import { reviewInvokeSchemas, type ReviewInvokeResults } from './review-contract';
import { mtiInvokeSchemas, type MtiInvokeResults } from './mti-contract';
import { footageInvokeSchemas, footageScopeFields, type FootageInvokeResults } from './footage-contract';
import { teamInvokeSchemas, type TeamInvokeResults } from './team-contract';
import type { MtiProgress } from './mti';

const id = <T>() =>
  z
    .number()
    .int()
    .positive()
    .transform((n) => n as T);

const endpointName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][\w.@-]*$/, 'use letters, digits, and . _ - @ (no spaces)');
/** Never the key itself: where to find it (see KeyRef in domain.ts). */
const keyRefSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('env'),
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'),
  }),
  z.object({ kind: z.literal('file'), path: z.string().min(1) }),
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('safe-storage'), id: z.string().min(1).max(200) }),
]);
export const endpointInputSchema = z.object({
  name: endpointName,
  baseUrl: z.url({ protocol: /^https?$/ }),
  model: z.string().min(1).max(300),
  role: z.enum(LLM_ROLES).default('both'),
  /** The paper's VQA setting. */
  temperature: z.number().min(0).max(2).default(0.01),
  maxTokens: z.number().int().min(1).max(1_000_000).default(512),
  concurrency: z.number().int().min(1).max(256).default(4),
  requestsPerMinute: z.number().int().min(1).max(1_000_000).nullable().default(null),
  timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  keyRef: keyRefSchema.default({ kind: 'none' }),
  /** Left out: 'auto' (see TokenLimitParam). */
  tokenLimitParam: z.enum(TOKEN_LIMIT_PARAMS).optional(),
  temperatureParam: z.enum(TEMPERATURE_PARAMS).optional(),
  /** More servers of the same model (see LlmEndpoint.replicas); each base URL once, not the main one. */
  replicas: z
    .array(
      z.object({
        baseUrl: z.url({ protocol: /^https?$/ }),
        concurrency: z.number().int().min(1).max(256).default(4),
      }),
    )
    .max(64)
    .default([]),
  priceInput: z.number().min(0).max(10_000).nullable().default(null),
  priceOutput: z.number().min(0).max(10_000).nullable().default(null),
  batchDiscount: z.number().min(0).max(1).default(0.5),
  /** Only with keyRef.kind = 'safe-storage': the secret to store there. Never stored in the workspace. */
  apiKey: z.string().min(1).optional(),
});

/** A prompt set as edited in Settings (see resources/prompts/mtg-default.json). Regexes are checked in main. */
export const promptSetBodySchema = z.object({
  name: z.string().min(1).max(100),
  version: z.number().int().positive().optional(),
  description: z.string().max(2000).optional(),
  templates: z.object({
    initial: z.string().min(1).max(4000),
    question: z
      .string()
      .min(1)
      .max(4000)
      .refine((t) => t.includes('{question}'), 'must contain {question}'),
    reconstruct: z
      .string()
      .min(1)
      .max(8000)
      .refine(
        (t) => t.includes('{caption}') && t.includes('{answers}'),
        'must contain {caption} and {answers}',
      ),
    answerLine: z
      .string()
      .min(1)
      .max(1000)
      .refine((t) => t.includes('{answer}'), 'must contain {answer}'),
    verify: z
      .string()
      .min(1)
      .max(4000)
      .refine((t) => t.includes('{fact}'), 'must contain {fact}')
      .optional(),
  }),
  filters: z.object({
    notVisible: z.array(z.string().min(1)).max(200),
    refusal: z.array(z.string().min(1)).max(200),
    negative: z.string().min(1),
  }),
  pool: z
    .array(
      z.object({
        id: z.string().min(1).max(100),
        attribute: z.string().min(1).max(100),
        kind: z.enum(['open', 'yesno']),
        text: z.string().min(1).max(1000),
        subject: z.string().min(1).max(100).optional(),
        yes: z.string().min(1).max(200).optional(),
        settledBy: z.array(z.string().min(1)).max(50),
      }),
    )
    .min(1)
    .max(500),
}) satisfies z.ZodType<PromptSetBody>;

export const invokeSchemas = {
  ...reviewInvokeSchemas,
  ...mtiInvokeSchemas,
  ...footageInvokeSchemas,
  ...teamInvokeSchemas,
  'library:stats': z.object({}),
  'datasets:list': z.object({}),
  'datasets:delete': z.object({ id: id<DatasetId>() }),
  'images:list': z.object({
    datasetId: id<DatasetId>().optional(),
    split: z.enum([...SPLITS, 'none']).optional(),
    personId: z.string().min(1).optional(),
    captions: z.enum(CAPTION_FILTERS).default('any'),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(2000).default(200),
  }),
  'images:get': z.object({ id: id<ImageId>() }),
  'jobs:list': z.object({ limit: z.number().int().min(1).max(500).default(100) }),
  'jobs:get': z.object({ id: id<JobId>() }),
  'jobs:issues': z.object({ id: id<JobId>(), limit: z.number().int().min(1).max(5000).default(500) }),
  /** Stops a queued or running job so that `jobs:resume` continues it from where it stopped. */
  'jobs:pause': z.object({ id: id<JobId>() }),
  /** Stops a job for good (a paused one too). */
  'jobs:cancel': z.object({ id: id<JobId>() }),
  'jobs:resume': z.object({ id: id<JobId>() }),
  'import:start': z.object({
    /** Absolute path to a folder of images, or to the folder that holds a dataset's images. */
    imageRoot: z.string().min(1),
    /** A TBPS annotation file; absent for a plain folder of images. */
    annotationFile: z.string().min(1).optional(),
    /** Forced format; by default it is detected from the annotation file. */
    format: z.enum(DATASET_FORMATS).optional(),
    name: z.string().min(1).max(200).optional(),
    /**
     * A folder without annotation file: 'auto' detects a re-ID layout (Market-1501, DukeMTMC-reID, MSMT17,
     * CUHK03, LUPerson), a layout forces one, 'plain' (the default) imports it as a plain folder of images.
     */
    layout: z.enum(LAYOUT_CHOICES).optional(),
  }),
  /** The re-ID layout a folder is in and what it holds under it, before any import starts. */
  'import:detect': z.object({
    folder: z.string().min(1),
    layout: z.enum(LAYOUT_CHOICES).default('auto'),
  }),
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
  'endpoints:list': z.object({}),
  'endpoints:save': endpointInputSchema,
  'endpoints:delete': z.object({ name: endpointName }),
  'endpoints:probe': z.object({ name: endpointName }),
  /** Desktop app only: moves a damaged keychain file aside so keys can be entered again. */
  'endpoints:reset-key-store': z.object({}),
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
  'usage:summary': z.object({
    by: z.enum(['job', 'endpoint', 'day']),
    jobId: id<JobId>().optional(),
    sinceMs: z.number().int().min(0).optional(),
  }),
  'endpoints:replicas': z.object({ name: endpointName }),
  /** The Batch API submissions of an MTG job, round by round. */
  'mtg:batches': z.object({ jobId: id<JobId>() }),
  'mtg:runs': z.object({ imageId: id<ImageId>() }),
  'prompts:list': z.object({}),
  'prompts:save': z.object({ body: promptSetBodySchema }),
  /** Ranks the model's embedded images for a description (text tower → cosine top-K). */
  'search:text': z.object({
    modelId: id<ModelId>(),
    query: z.string().max(20_000),
    k: z.number().int().min(1).max(1000).default(100),
    datasetId: id<DatasetId>().optional(),
    ...footageScopeFields,
  }),
  /** The query's token count against the model's context (the search box's live counter). */
  'search:tokens': z.object({ modelId: id<ModelId>(), query: z.string().max(20_000) }),
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

export type Channel = keyof typeof invokeSchemas;
export type InvokeArg<C extends Channel> = z.input<(typeof invokeSchemas)[C]>;
export type ParsedArg<C extends Channel> = z.output<(typeof invokeSchemas)[C]>;

export interface InvokeResults
  extends ReviewInvokeResults, MtiInvokeResults, FootageInvokeResults, TeamInvokeResults {
  'library:stats': LibraryStats;
  'datasets:list': Dataset[];
  'datasets:delete': { deleted: boolean };
  'images:list': ImagePage;
  'images:get': ImageDetail;
  'jobs:list': Job[];
  'jobs:get': Job;
  'jobs:issues': JobIssue[];
  'jobs:pause': Job;
  'jobs:cancel': Job;
  'jobs:resume': Job;
  'import:start': { job: Job; datasetId: DatasetId };
  'import:detect': LayoutDetection;
  'models:list': ClipModel[];
  'models:register': ClipModel;
  'embed:start': { job: Job };
  'endpoints:list': LlmEndpoint[];
  'endpoints:save': LlmEndpoint;
  'endpoints:delete': { deleted: boolean };
  'endpoints:probe': EndpointProbe;
  /** Where the old file was kept; null when there was none. */
  'endpoints:reset-key-store': { keptAs: string | null };
  'mtg:start': { job: Job; images: number };
  'mtg:runs': MtgRun[];
  'mtg:estimate': MtgEstimate;
  'mtg:budget': Job;
  'usage:summary': UsageLine[];
  'endpoints:replicas': ReplicaFigures[];
  'mtg:batches': BatchRound[];
  'prompts:list': PromptSet[];
  'prompts:save': PromptSet;
  'search:text': TextSearchResult;
  'search:tokens': QueryTokens;
  'eval:run': EvalReport;
}

/** What the renderer (and any client) sees: `window.api.invoke('images:get', {id})`. */
export type InvokeMap = { [C in Channel]: (arg: InvokeArg<C>) => Promise<InvokeResults[C]> };

export interface EventMap {
  'jobs:progress': Job;
  'library:changed': { datasetId: DatasetId | null };
  /** A running MTI search's latest step (anchor check, questions, q̂, re-rank). */
  'mti:progress': MtiProgress;
}
export type EventName = keyof EventMap;

export const ERROR_CODES = [
  'bad_request',
  'not_found',
  'conflict',
  'unauthorized',
  /** Authenticated, but not allowed from where the call came (a foreign Origin, a key the API may not set). */
  'forbidden',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export interface ApiError {
  code: ErrorCode;
  message: string;
}
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** Images travel by id only; both transports serve them under this shape. */
/** `frame`: the whole video frame a footage crop was cut from. */
export type ImageVariant = 'thumb' | 'full' | 'frame';
