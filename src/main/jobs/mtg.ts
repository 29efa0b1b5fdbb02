// The MTG job: multi-turn captions for a dataset, a split of it, or chosen images. Its scope (the images it
// covers) is fixed when it is queued, so images imported later are not taken in. Images run concurrently
// (a pool over images; every call also passes its endpoint's limiter). Each image's run, Q&A rounds,
// pending caption and the job's progress are written in one transaction, so what is stored is always
// whole. The resume cursor is the data itself: an image with a run of this job is handled. A crash loses
// only the images in flight. Every answer is logged the moment it arrives (llm_calls), so redoing them is
// served from the cache; what a crash does cost is the calls in flight at that moment (sent, not yet
// answered or not yet logged): at most the endpoints' concurrency, asked and paid for again.
import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import type { InvokeResults, ParsedArg } from '#shared/contract';
import { SPLITS } from '#shared/library/types';
import type { Job } from '#shared/jobs/types';
import type { LlmEndpoint, PromptSet } from '#shared/llm/types';
import type { MtgEstimate } from '#shared/mtg/types';
import { asDatasetId, asImageId, type ImageId, type JobId } from '#shared/ids';
import { getDatasetRow } from '../db/repos/datasets';
import { countJobImages, getJobRow, updateJobParams } from '../db/repos/jobs';
import {
  countImagesToCaption,
  countJobImagesToCaption,
  countJobRuns,
  getImagesToCaption,
  getPromptSet,
  insertMtgRun,
  latestPromptSet,
  listImageIdsToCaption,
  listJobImagesToCaption,
  listPromptSets,
  savePromptSet,
  type ImageToCaption,
  type MtgSelection,
} from '../db/repos/mtg';
import type { WritableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import {
  createLlmClient,
  type ChatRequest,
  type ChatResult,
  type LlmClient,
  type PreparedCall,
} from '../llm/client';
import { BatchCollector } from '../llm/batch/collector';
import { customIdOf, parseCustomId, parseResults, requestLine } from '../llm/batch/jsonl';
import { writeFile } from 'node:fs/promises';
import { recoverBatches } from '../llm/batch/submit';
import { nextBatchRound } from '../db/repos/batches';
import { requireEndpoint } from '../llm/endpoints';
import { LlmError } from '../llm/errors';
import type { LlmImage } from '../llm/hash';
import { costOf, CostMeter, formatUsd, jobUsage } from '../llm/cost';
import { replicasOf } from '../llm/replicas';
import { runMtg, type MtgAnswer, type MtgDeps } from '../pipelines/mtg';
import { mllmImageOf } from '../media/library';
import { compilePromptSet, defaultPromptSetBody } from '../pipelines/question-pool';
import type { Workspace } from '../workspace';
import type { JobDefinition } from './runner';

export const mtgParams = z.object({
  datasetId: z.number().int().positive().optional(),
  split: z.enum(SPLITS).optional(),
  /** Only in jobs queued before scopes existed: chosen images now go to the scope (job_images), not here. */
  imageIds: z.array(z.number().int().positive()).optional(),
  vqaEndpoint: z.string().min(1),
  reconstructorEndpoint: z.string().min(1),
  rounds: z.number().int().min(0).max(50).default(6),
  concurrency: z.number().int().min(1).max(1024).optional(),
  /** Pinned when the job is queued, so a resumed job asks exactly what its first attempt asked. */
  promptSetId: z.number().int().positive(),
  redo: z.boolean().default(false),
  waveSize: z.number().int().min(1).max(50).optional(),
  /** Second-opinion check of each kept answer (pipelines/mtg.ts); absent in jobs queued before it existed. */
  verify: z.boolean().default(false),
  /** USD: the job pauses once its calls have cost this much (priced endpoints only); raise it to go on. */
  budgetUsd: z.number().positive().nullable().default(null),
  /**
   * 'batch': the calls go through the endpoint's Batch API (/v1/files + /v1/batches), round by round, at the
   * batch price; 'sync' (default): one HTTP call each.
   */
  mode: z.enum(['sync', 'batch', 'offline']).default('sync'),
  /** Offline mode: where the next round's requests are written (OpenAI batch JSONL, as vLLM's run_batch reads). */
  exportFile: z.string().min(1).nullable().default(null),
  /** Batch mode: images in flight, i.e. requests per batch round (OpenAI takes up to 50,000 per batch). */
  batchImages: z.number().int().min(1).max(50_000).default(1000),
  batchPollMs: z.number().int().min(10).max(600_000).default(5000),
  batchTries: z.number().int().min(1).max(10).default(5),
});
export type MtgParams = z.infer<typeof mtgParams>;

interface MtgState {
  /** Runs (done + failed) written by this job so far; the rest is recounted from mtg_runs. */
  handled: number;
}

/** Endpoint-level failures: after this many images in a row fail with one, the job stops and says why. */
const FATAL_AFTER: Partial<Record<LlmError['kind'], number>> = {
  auth: 1,
  model_not_found: 1,
  no_vision: 1,
  unreachable: 5,
  timeout: 8,
  server: 8,
  rate_limited: 8,
};

const PAGE = 256;

export const mtgJob: JobDefinition<MtgParams, MtgState> = {
  kind: 'mtg',
  params: mtgParams,
  title: (p, scope) => {
    const what = scope.chosen
      ? `${scope.images} images`
      : p.datasetId
        ? `dataset ${p.datasetId}`
        : 'all images';
    return `MTG captions for ${what}${p.split ? ` (${p.split})` : ''}, ${p.rounds} rounds${p.verify ? ', verified' : ''}`;
  },
  scope: (db, p, chosen) => listImageIdsToCaption(db, selectionOf(p, chosen)),
  async run(ctx) {
    const { db, params, jobId, services } = ctx;
    const vqa = requireEndpoint(db, params.vqaEndpoint);
    const rec = requireEndpoint(db, params.reconstructorEndpoint);
    const set = getPromptSet(db, params.promptSetId);
    if (!set) throw notFound(`Prompt set ${params.promptSetId}`);
    const compiled = compilePromptSet(set.body);
    const { keys, llm: runtime } = services;
    const vqaClient = createLlmClient(db, vqa, keys, { jobId, runtime });
    const recClient = rec.name === vqa.name ? vqaClient : createLlmClient(db, rec, keys, { jobId, runtime });
    // Twice what the VQA servers take at once (all replicas together), so none waits for images.
    const capacity = replicasOf(vqa).reduce((n, r) => n + r.concurrency, 0);
    const batch = params.mode === 'batch' || params.mode === 'offline';
    const concurrency = batch ? params.batchImages : (params.concurrency ?? Math.min(1024, 2 * capacity));
    const runParams = {
      rounds: params.rounds,
      waveSize: params.waveSize ?? null,
      verify: params.verify,
      vqa: { baseUrl: vqa.baseUrl, temperature: vqa.temperature, maxTokens: vqa.maxTokens },
      reconstructor: { baseUrl: rec.baseUrl, temperature: rec.temperature, maxTokens: rec.maxTokens },
    };

    const totals = countJobRuns(db, jobId);
    let handled = totals.done + totals.failed;
    let failed = totals.failed;
    let calls = totals.calls;
    let cachedCalls = totals.cachedCalls;
    let tokens = totals.tokens;
    // The scope less what other jobs captioned meanwhile: the scope's size unless something else ran on it.
    const total = handled + countJobImagesToCaption(db, jobId, params.redo);
    const started = Date.now();
    const handledAtStart = handled;
    // Cost from where an earlier attempt left off (the log), then call by call.
    const meter = new CostMeter(jobUsage(db, jobId));
    const priced = vqa.priceInput !== null || rec.priceInput !== null;
    const message = (): string => {
      const rate = (handled - handledAtStart) / Math.max(0.001, (Date.now() - started) / 1000);
      const eta = rate > 0 && handled < total ? ` · ETA ${formatDuration((total - handled) / rate)}` : '';
      const cost = priced
        ? ` · ${formatUsd(meter.knownUsd)} spent${params.budgetUsd !== null ? ` of ${formatUsd(params.budgetUsd)}` : ''}`
        : '';
      return `${calls} calls (${cachedCalls} cached) · ${tokens} tokens${cost} · ${failed} failed${eta}`;
    };
    const overBudget = (): boolean => params.budgetUsd !== null && meter.knownUsd >= params.budgetUsd;
    const budgetPause = (): void =>
      ctx.pause(
        `Paused: the budget of ${formatUsd(params.budgetUsd)} is spent (${formatUsd(meter.knownUsd)}). ` +
          `Raise it to go on: ctgi mtg --resume ${jobId} --budget USD (images done are kept).`,
      );
    if (overBudget()) {
      budgetPause();
      throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason));
    }

    // Batch mode: first the batches an earlier attempt submitted (polled and collected, never sent again),
    // then a collector that sends each round as one batch.
    let collector: BatchCollector | null = null;
    if (batch) {
      setMaxListeners(0, ctx.signal); // each poll and each image's waiting call listens for a cancel
      const batchPolicy = {
        pollMs: params.batchPollMs,
        maxTries: params.batchTries,
        onStatus: (
          row: { round: number; try: number },
          status: string,
          c: { total: number; completed: number; failed: number },
        ) =>
          ctx.progress({
            done: handled,
            total,
            message: `${message()} · batch round ${row.round}${row.try > 1 ? ` (try ${row.try})` : ''} ${status}: ${c.completed}/${c.total} answered${c.failed ? `, ${c.failed} failed` : ''}`,
            state: { handled },
          }),
      };
      for (const c of new Set([vqaClient, recClient]))
        await recoverBatches(db, c, jobId, batchPolicy, ctx.signal);
      const exportRound =
        params.mode === 'offline'
          ? async (calls: { client: LlmClient; call: PreparedCall }[], round: number): Promise<void> => {
              const file = params.exportFile;
              if (file === null)
                throw new AppError(
                  'bad_request',
                  'An offline MTG job needs a file to write its requests to (--batch-export FILE).',
                );
              await writeFile(
                file,
                calls
                  .map((c) => requestLine(customIdOf(c.call.purpose, c.call.requestHash), c.call.body))
                  .join('\n') + '\n',
              );
              ctx.pause(
                `Round ${round}: ${calls.length} requests written to ${file}. Run them with vLLM's batch runner ` +
                  `(python -m vllm.entrypoints.openai.run_batch -i ${file} -o OUT.jsonl --model ${vqa.model}), ` +
                  `then: ctgi mtg --resume ${jobId} --batch-import OUT.jsonl --batch-export NEXT.jsonl`,
              );
            }
          : undefined;
      collector = new BatchCollector(
        db,
        jobId,
        nextBatchRound(db, jobId),
        { ...batchPolicy, export: exportRound },
        ctx.signal,
      );
    }
    ctx.progress({ done: handled, total, message: message(), state: { handled } });

    // A fatal endpoint problem stops the pool (and aborts its calls) as a cancel would, then fails the job.
    const stop = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stop.signal]);
    setMaxListeners(0, signal); // one listener per call in flight; hundreds is the point, not a leak
    let fatal: AppError | null = null;
    const streak = { kind: '', count: 0 };

    const processImage = async (img: ImageToCaption): Promise<void> => {
      const t0 = performance.now();
      const viaBatch = collector?.image();
      try {
        // media's one reader: inside the dataset folder, a regular file, the bytes imported, sent in a
        // format the server takes (BMP and others re-encoded), upright.
        const image = await mllmImageOf({ root: img.root, relPath: img.relPath, sha256: img.sha256 });
        const deps = bindDeps(
          vqaClient,
          recClient,
          image,
          signal,
          (which, r) => {
            if (!r.cached) meter.add(which === 'vqa' ? vqa : rec, r.promptTokens, r.completionTokens, batch);
          },
          viaBatch?.ask,
        );
        let out: Awaited<ReturnType<typeof runMtg>>;
        try {
          out = await runMtg(deps, compiled, {
            rounds: params.rounds,
            waveSize: params.waveSize,
            verify: params.verify,
          });
        } finally {
          viaBatch?.done();
        }
        if (signal.aborted) return;
        db.transaction(() => {
          insertMtgRun(db, {
            imageId: img.id,
            jobId,
            promptSetId: set.id,
            status: 'done',
            error: null,
            initialCaption: out.initial.text,
            initialCallId: out.initial.callId,
            reconstruction: out.reconstruction?.text ?? null,
            reconstructCallId: out.reconstruction?.callId ?? null,
            vqa: { endpoint: vqa.name, model: vqa.model },
            reconstructor: { endpoint: rec.name, model: rec.model },
            params: runParams,
            skipped: out.skipped,
            calls: out.calls,
            cachedCalls: out.cachedCalls,
            promptTokens: out.promptTokens,
            completionTokens: out.completionTokens,
            elapsedMs: Math.round(performance.now() - t0),
            rounds: out.rounds,
            caption: { text: out.caption, source: 'mtg' },
          });
          handled++;
          calls += out.calls;
          cachedCalls += out.cachedCalls;
          tokens += out.promptTokens + out.completionTokens;
          ctx.progress({ done: handled, total, message: message(), state: { handled } });
        })();
        streak.count = 0;
        if (overBudget()) budgetPause();
      } catch (err) {
        if (signal.aborted) return; // cancelled or shutting down: leave the image for the next attempt
        const text = err instanceof Error ? err.message : String(err);
        try {
          db.transaction(() => {
            insertMtgRun(db, {
              imageId: img.id,
              jobId,
              promptSetId: set.id,
              status: 'failed',
              error: text,
              initialCaption: null,
              initialCallId: null,
              reconstruction: null,
              reconstructCallId: null,
              vqa: { endpoint: vqa.name, model: vqa.model },
              reconstructor: { endpoint: rec.name, model: rec.model },
              params: runParams,
              skipped: [],
              calls: 0,
              cachedCalls: 0,
              promptTokens: 0,
              completionTokens: 0,
              elapsedMs: Math.round(performance.now() - t0),
              rounds: [],
              caption: null,
            });
            ctx.issue({ severity: 'error', item: img.relPath, message: text });
            handled++;
            failed++;
            ctx.progress({ done: handled, total, message: message(), state: { handled } });
          })();
        } catch (writeErr) {
          // The image itself went away (deleted with its dataset mid-job): say so and go on.
          ctx.issue({
            severity: 'error',
            item: img.relPath,
            message: `${text} (and the failure could not be recorded: ${String(writeErr)})`,
          });
        }
        const kind = err instanceof LlmError ? err.kind : '';
        const limit = err instanceof LlmError ? FATAL_AFTER[err.kind] : undefined;
        if (limit === undefined) {
          streak.count = 0;
          return;
        }
        streak.count = streak.kind === kind ? streak.count + 1 : 1;
        streak.kind = kind;
        if (streak.count >= limit && !fatal) {
          const n = streak.count;
          fatal = new AppError(
            (err as LlmError).code,
            `${n === 1 ? 'Stopped' : `Stopped after ${n} images in a row failed`}: ${text} Fix the endpoint, then resume this job; images already captioned are kept.`,
          );
          stop.abort(fatal);
        }
      }
    };

    const inFlight = new Set<Promise<void>>();
    let afterId = 0;
    let page: ImageToCaption[] = [];
    while (!signal.aborted) {
      if (page.length === 0) {
        page = listJobImagesToCaption(db, jobId, params.redo, afterId, PAGE);
        if (page.length === 0) break;
        afterId = page.at(-1)!.id;
      }
      const img = page.shift()!;
      const p: Promise<void> = processImage(img).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.allSettled(inFlight);
    if (fatal) throw fatal;
    if (ctx.signal.aborted)
      throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason));
    ctx.progress({ done: handled, total, message: `${message()} · finished` });
    return {
      failed,
      summary: `${failed} of ${total} images failed (their errors are the job's issues). Try them again with: ctgi mtg --retry-failed ${jobId}`,
    };
  },
};

function selectionOf(p: MtgParams, chosen: readonly ImageId[] | undefined): MtgSelection {
  return {
    datasetId: p.datasetId === undefined ? undefined : asDatasetId(p.datasetId),
    split: p.split,
    imageIds: chosen ?? p.imageIds?.map(asImageId),
    redo: p.redo,
  };
}

function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function toAnswer(r: ChatResult, latencyMs: number): MtgAnswer {
  return {
    text: r.content,
    callId: r.callId,
    cached: r.cached,
    latencyMs: r.cached ? 0 : latencyMs,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
  };
}

function bindDeps(
  vqa: LlmClient,
  rec: LlmClient,
  image: LlmImage,
  signal: AbortSignal,
  onAnswer: (which: 'vqa' | 'rec', r: ChatResult) => void = () => {},
  send: (client: LlmClient, req: ChatRequest) => Promise<ChatResult> = (client, req) => client.chat(req),
): MtgDeps {
  return {
    ask: async (prompt, purpose) => {
      const t0 = performance.now();
      const r = await send(vqa, {
        messages: [{ role: 'user', content: prompt }],
        images: [image],
        purpose,
        signal,
      });
      onAnswer('vqa', r);
      return toAnswer(r, Math.round(performance.now() - t0));
    },
    reconstruct: async (prompt) => {
      const t0 = performance.now();
      const r = await send(rec, {
        messages: [{ role: 'user', content: prompt }],
        purpose: 'mtg.reconstruct',
        signal,
      });
      onAnswer('rec', r);
      return toAnswer(r, Math.round(performance.now() - t0));
    },
  };
}

// ── services behind the API channels ───────────────────────────────────────────────────────────

/** The shipped default set is stored (once per content version) so runs can point at it. */
export function ensureDefaultPromptSet(db: WritableDb): PromptSet {
  return savePromptSet(db, defaultPromptSetBody());
}

export function listPromptSetsWithDefault(db: WritableDb): PromptSet[] {
  ensureDefaultPromptSet(db);
  return listPromptSets(db);
}

/** Checks a set (regexes compile, placeholders present) before storing it as a new version. */
export function savePromptSetChecked(db: WritableDb, body: ParsedArg<'prompts:save'>['body']): PromptSet {
  compilePromptSet(body);
  return savePromptSet(db, body);
}

function checkRole(e: LlmEndpoint, want: 'vqa' | 'reconstructor'): void {
  if (e.role !== 'both' && e.role !== want) {
    throw new AppError(
      'bad_request',
      `Endpoint "${e.name}" is set up for ${e.role}, not ${want}. Pick another endpoint or change its role in Settings.`,
    );
  }
}

/** `mtg:start`: checks endpoints, selection and prompt set, pins the prompt set version, queues the job. */
export function startMtg(
  ws: Workspace,
  arg: ParsedArg<'mtg:start'>,
  /** From the command line only: offline mode's request file (a path on this machine). */
  local: { exportFile?: string } = {},
): InvokeResults['mtg:start'] {
  const { db } = ws;
  checkRole(requireEndpoint(db, arg.vqaEndpoint), 'vqa');
  checkRole(requireEndpoint(db, arg.reconstructorEndpoint), 'reconstructor');
  if (arg.datasetId !== undefined && !getDatasetRow(db, arg.datasetId))
    throw notFound(`Dataset ${arg.datasetId}`);
  let set: PromptSet | undefined;
  if (arg.promptSetId !== undefined) {
    set = getPromptSet(db, arg.promptSetId);
    if (!set) throw notFound(`Prompt set ${arg.promptSetId} (prompts:list shows the saved ones)`);
  } else {
    ensureDefaultPromptSet(db);
    set = latestPromptSet(db, 'default')!;
  }
  compilePromptSet(set.body);
  const sel: MtgSelection = {
    datasetId: arg.datasetId,
    split: arg.split,
    imageIds: arg.imageIds,
    redo: arg.redo,
  };
  if (countImagesToCaption(db, sel) === 0) {
    throw new AppError(
      'bad_request',
      `Nothing to caption: no image in this selection is without an MTG caption. Choose other images, or caption them again with "redo".`,
    );
  }
  const job = ws.jobs.enqueue(
    'mtg',
    {
      datasetId: arg.datasetId,
      split: arg.split,
      vqaEndpoint: arg.vqaEndpoint,
      reconstructorEndpoint: arg.reconstructorEndpoint,
      rounds: arg.rounds,
      concurrency: arg.concurrency,
      promptSetId: set.id,
      redo: arg.redo,
      verify: arg.verify,
      budgetUsd: arg.budgetUsd ?? null,
      mode: local.exportFile !== undefined ? 'offline' : (arg.mode ?? 'sync'),
      exportFile: local.exportFile ?? null,
      batchPollMs: arg.batchPollMs,
    } satisfies z.input<typeof mtgParams>,
    arg.imageIds,
  );
  return { job, images: countJobImages(db, job.id) };
}

/**
 * `mtg:estimate`: runs MTG on a few images spread over the selection, as the job would (same prompts, same
 * endpoints), and scales their tokens up to the whole selection. The sample's answers are cached, so the
 * job that follows does not pay for them again; nothing is written but the calls log.
 */
export async function estimateMtg(ws: Workspace, arg: ParsedArg<'mtg:estimate'>): Promise<MtgEstimate> {
  const { db } = ws;
  const vqa = requireEndpoint(db, arg.vqaEndpoint);
  const rec = requireEndpoint(db, arg.reconstructorEndpoint);
  checkRole(vqa, 'vqa');
  checkRole(rec, 'reconstructor');
  ensureDefaultPromptSet(db);
  const set = latestPromptSet(db, 'default')!;
  const compiled = compilePromptSet(set.body);
  const ids = listImageIdsToCaption(db, {
    datasetId: arg.datasetId,
    split: arg.split,
    imageIds: arg.imageIds,
    redo: arg.redo,
  });
  if (ids.length === 0)
    throw new AppError('bad_request', 'Nothing to caption in this selection, so nothing to estimate.');
  const k = Math.min(arg.sample, ids.length);
  const picked = Array.from({ length: k }, (_, i) => ids[Math.floor((i * ids.length) / k)]!);
  const { keys, llm: runtime } = ws.services;
  const vqaClient = createLlmClient(db, vqa, keys, { runtime });
  const recClient = rec.name === vqa.name ? vqaClient : createLlmClient(db, rec, keys, { runtime });
  // Tokens as the job would pay them: cached answers count at their recorded tokens (the job would not
  // pay for them, but another selection would; the estimate is of the work, not of this cache).
  const per = { vqa: { p: 0, c: 0 }, rec: { p: 0, c: 0 }, calls: 0 };
  for (const img of getImagesToCaption(db, picked)) {
    const image = await mllmImageOf({ root: img.root, relPath: img.relPath, sha256: img.sha256 });
    const deps = bindDeps(vqaClient, recClient, image, AbortSignal.timeout(10 * 60_000), (which, r) => {
      per[which].p += r.promptTokens ?? 0;
      per[which].c += r.completionTokens ?? 0;
      per.calls++;
    });
    await runMtg(deps, compiled, { rounds: arg.rounds, verify: arg.verify ?? false });
  }
  const scale = ids.length / k;
  const sum = (a: number, b: number): number => Math.round((a + b) * scale);
  const cost = (batch: boolean): number | null => {
    const a = costOf(vqa, per.vqa.p * scale, per.vqa.c * scale, batch);
    const b = costOf(rec, per.rec.p * scale, per.rec.c * scale, batch);
    return a === null || b === null ? null : a + b;
  };
  return {
    images: ids.length,
    sampleImages: k,
    callsPerImage: per.calls / k,
    promptTokensPerImage: Math.round((per.vqa.p + per.rec.p) / k),
    completionTokensPerImage: Math.round((per.vqa.c + per.rec.c) / k),
    promptTokens: sum(per.vqa.p, per.rec.p),
    completionTokens: sum(per.vqa.c, per.rec.c),
    costUsd: cost(false),
    batchCostUsd: cost(true),
  };
}

/** `mtg:budget`: a new budget for an MTG job that is not running (resume it afterwards). */
export function setMtgBudget(ws: Workspace, arg: ParsedArg<'mtg:budget'>): Job {
  const row = getJobRow(ws.db, arg.jobId);
  if (!row || row.kind !== 'mtg') throw notFound(`MTG job ${arg.jobId}`);
  if (row.status === 'running')
    throw new AppError('conflict', `Job ${arg.jobId} is running; pause it before changing its budget.`);
  const p = mtgParams.parse(JSON.parse(row.params));
  updateJobParams(ws.db, arg.jobId as JobId, { ...p, budgetUsd: arg.budgetUsd });
  return ws.jobs.get(arg.jobId);
}

/**
 * `ctgi mtg --batch-import OUT`: the output file of a round run offline (vLLM's run_batch, or any runner
 * that writes the OpenAI batch output format), recorded in the calls log under each request's key, so the
 * job, resumed, is served these answers from the cache and moves on to the next round.
 */
export async function importBatchOutput(
  ws: Workspace,
  jobId: JobId,
  text: string,
  source: string,
): Promise<{ answered: number; failed: number; unknown: number }> {
  const row = getJobRow(ws.db, jobId);
  if (!row || row.kind !== 'mtg') throw notFound(`MTG job ${jobId}`);
  const p = mtgParams.parse(JSON.parse(row.params));
  const { keys, llm: runtime } = ws.services;
  const vqa = createLlmClient(ws.db, requireEndpoint(ws.db, p.vqaEndpoint), keys, { jobId, runtime });
  const rec =
    p.reconstructorEndpoint === p.vqaEndpoint
      ? vqa
      : createLlmClient(ws.db, requireEndpoint(ws.db, p.reconstructorEndpoint), keys, { jobId, runtime });
  let lines;
  try {
    lines = parseResults(text, source);
  } catch (err) {
    throw new AppError('bad_request', err instanceof Error ? err.message : String(err));
  }
  const out = { answered: 0, failed: 0, unknown: 0 };
  ws.db.transaction(() => {
    for (const l of lines) {
      const key = parseCustomId(l.custom_id);
      if (!key) {
        out.unknown++;
        continue;
      }
      const client = key.purpose === 'mtg.reconstruct' ? rec : vqa;
      if (l.response?.status_code === 200) {
        try {
          client.settle(key, l.response.body, null);
          out.answered++;
        } catch {
          out.failed++;
        }
      } else {
        client.settleError(
          key,
          'server',
          `Offline batch line failed: ${l.error?.message ?? `status ${l.response?.status_code ?? '?'}`}`,
          null,
        );
        out.failed++;
      }
    }
  })();
  return out;
}
