// The one API contract. Every front door (Electron IPC, HTTP + SSE, CLI) calls the same handlers,
// keyed `noun:verb`, with one object argument validated by a schema. Each feature owns its channels in
// `shared/<feature>/contract.ts` (schemas and result types) beside its vocabulary (`types.ts`); this module
// only merges them (CONTEXT.md maps each channel's noun to its feature), refusing a channel two features define.
import type { z } from 'zod';
import type { DatasetId } from './ids';
import { mergeFeatures } from './merge';
import { evalInvokeSchemas, type EvalInvokeResults } from './eval/contract';
import { footageInvokeSchemas, type FootageInvokeResults } from './footage/contract';
import { jobsInvokeSchemas, type JobsInvokeResults } from './jobs/contract';
import type { Job } from './jobs/types';
import { libraryInvokeSchemas, type LibraryInvokeResults } from './library/contract';
import { llmInvokeSchemas, type LlmInvokeResults } from './llm/contract';
import { modelsInvokeSchemas, type ModelsInvokeResults } from './models/contract';
import { mtgInvokeSchemas, type MtgInvokeResults } from './mtg/contract';
import { mtiInvokeSchemas, type MtiInvokeResults } from './mti/contract';
import type { MtiProgress } from './mti/types';
import { reviewInvokeSchemas, type ReviewInvokeResults } from './review/contract';
import { searchInvokeSchemas, type SearchInvokeResults } from './search/contract';
import { teamInvokeSchemas, type TeamInvokeResults } from './team/contract';

export const invokeSchemas = mergeFeatures({
  library: libraryInvokeSchemas,
  jobs: jobsInvokeSchemas,
  models: modelsInvokeSchemas,
  llm: llmInvokeSchemas,
  mtg: mtgInvokeSchemas,
  search: searchInvokeSchemas,
  eval: evalInvokeSchemas,
  review: reviewInvokeSchemas,
  mti: mtiInvokeSchemas,
  footage: footageInvokeSchemas,
  team: teamInvokeSchemas,
});

export type Channel = keyof typeof invokeSchemas;
export type InvokeArg<C extends Channel> = z.input<(typeof invokeSchemas)[C]>;
export type ParsedArg<C extends Channel> = z.output<(typeof invokeSchemas)[C]>;

export interface InvokeResults
  extends
    LibraryInvokeResults,
    JobsInvokeResults,
    ModelsInvokeResults,
    LlmInvokeResults,
    MtgInvokeResults,
    SearchInvokeResults,
    EvalInvokeResults,
    ReviewInvokeResults,
    MtiInvokeResults,
    FootageInvokeResults,
    TeamInvokeResults {}

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
