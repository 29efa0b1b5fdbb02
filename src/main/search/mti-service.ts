// MTI as a service: the engine (pipelines/mti.ts: runRounds for the automatic rounds, runRound for an
// analyst's step) wired to the model's warm text tower and to the gallery's scores S(·, v) from the
// workspace's vector store (store-search.ts), to the MLLM (pipelines/mti-mllm.ts over the endpoints that
// llm/endpoints.ts picks), and to the searches table (db/repos/searches.ts). A search lives in memory
// while it is worked on (its score rows are kept, so an analyst's edit re-encodes one text) and is saved
// after every step, transcript and all; a saved search reopened later rebuilds its memory from the row.
import type { ParsedArg } from '#shared/contract';
import { asImageId, type DatasetId, type ModelId } from '#shared/ids';
import {
  mtiParamsOf,
  type MtiAction,
  type MtiCheck,
  type MtiParams,
  type MtiProgress,
  type MtiResultRow,
  type MtiRound,
  type MtiSearch,
  type MtiTranscript,
} from '#shared/mti/types';
import { getSearchRow, insertSearch, listSearches, toSearch, updateSearch } from '../db/repos/searches';
import type { FootageScope, MtiSearchSummary } from '#shared/mti/types';
import {
  countEmbeddedImages,
  countImagesMissingEmbedding,
  listEmbeddedImageIds,
} from '../db/repos/embeddings';
import type { WritableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import type { LlmClient, LlmClientOptions } from '../llm/client';
import { mtiClients, mtiEndpoints } from '../llm/endpoints';
import type { KeyStore } from '../llm/keys';
import { encodeTexts, type TextEncoderPool, type TextModel } from '../ml/encoder-pool';
import { resolveModelRow } from '../ml/models';
import {
  aggregateAnswers,
  currentScores,
  indexOfImage,
  judgeAnswers,
  newRound,
  rankAll,
  runRound,
  runRounds,
  ScoreCache,
  type MtiDeps,
  type RoundInput,
} from '../pipelines/mti';
import { mllmSide } from '../pipelines/mti-mllm';
import { compilePromptSet, defaultPromptSetBody, type CompiledPromptSet } from '../pipelines/question-pool';
import type { MtiSession, MtiSessions } from './mti-sessions';
import { scoreImages } from './store-search';
import type { VectorCaches } from './vector-caches';
import { imageSummaries } from '../db/repos/images';
import { cropImageIdsMatching } from '../db/repos/footage';

export interface MtiHost {
  db: WritableDb;
  /** The workspace's text towers and vector caches (`services.encoders`, `services.vectors`). */
  encoders: TextEncoderPool;
  vectors: VectorCaches;
  /** The workspace's searches in progress (Workspace.mti). */
  sessions: MtiSessions;
  /** Where live steps go (the workspace's event bus). */
  emit?: (p: MtiProgress) => void;
  keyStore: KeyStore;
  llm?: LlmClientOptions;
}

type Session = MtiSession;

// Only the first words matter for the fused ranking; the MLLM gets the whole query.
const WORDS_SHOWN = 12;

/** The scope an `mti:start` names, or null when it names no camera and no time. */
function footageScopeOf(arg: { cameras?: string[]; fromMs?: number; toMs?: number }): FootageScope | null {
  const scope: FootageScope = {
    ...(arg.cameras?.length ? { cameras: arg.cameras } : {}),
    ...(arg.fromMs !== undefined ? { fromMs: arg.fromMs } : {}),
    ...(arg.toMs !== undefined ? { toMs: arg.toMs } : {}),
  };
  return Object.keys(scope).length ? scope : null;
}

const describeScope = (f: FootageScope): string =>
  [
    f.cameras ? `of ${f.cameras.join(', ')}` : '',
    f.fromMs !== undefined ? `from ${new Date(f.fromMs).toISOString()}` : '',
    f.toMs !== undefined ? `to ${new Date(f.toMs).toISOString()}` : '',
  ]
    .filter(Boolean)
    .join(' ');

/**
 * The gallery: every image with a vector from the model (of the dataset, when given), ascending, as the
 * memory index orders it; with a footage scope, only the crops of those cameras in that time range.
 */
function mtiGallery(
  db: WritableDb,
  modelId: ModelId,
  datasetId: DatasetId | null,
  footage: FootageScope | null,
): Int32Array {
  const all = listEmbeddedImageIds(db, modelId, datasetId);
  if (!footage) return all;
  const only = cropImageIdsMatching(db, footage);
  return all.filter((id) => only.has(id));
}

/** The engine's dependencies for one search. */
function buildDeps(
  host: MtiHost,
  model: TextModel,
  modelId: ModelId,
  datasetId: DatasetId | null,
  gallery: Int32Array,
  vqa: LlmClient,
  agg: LlmClient,
  pool: CompiledPromptSet,
  onStep: MtiDeps['onStep'],
): MtiDeps {
  const { db } = host;
  return {
    gallery,
    pool,
    onStep,
    ...mllmSide(db, vqa, agg),
    // Its scores come from the workspace's vector store, whichever backend it is.
    scoreAll: async (text) => {
      const { vectors } = await encodeTexts(model, [text]);
      const [scores] = await scoreImages(host.vectors, modelId, [vectors[0]!], gallery);
      return scores!;
    },
  };
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const isAbort = (err: unknown, signal: AbortSignal): boolean =>
  signal.aborted || (err instanceof Error && err.name === 'AbortError');

/** The shown results: the current ranking's top rows with S(q,v), S(q̂,v) as mixed in, and the fused score. */
async function buildResults(
  db: WritableDb,
  s: Session,
  signal: AbortSignal,
): Promise<{ rows: MtiResultRow[]; refined: string | null }> {
  const cur = await currentScores(s.deps, s.cache, s.base, s.transcript.rounds, s.params.lambda, signal);
  const order = rankAll(cur.scores);
  const baseOrder = rankAll(s.base);
  const baseRank = new Int32Array(s.base.length);
  baseOrder.forEach((g, r) => (baseRank[g] = r + 1));
  const top = Array.from(order.subarray(0, s.resultCount));
  const summaries = new Map(
    imageSummaries(
      db,
      top.map((g) => asImageId(s.deps.gallery[g]!)),
    ).map((x) => [x.id as number, x]),
  );
  const rows: MtiResultRow[] = [];
  for (const g of top) {
    const image = summaries.get(s.deps.gallery[g]!);
    if (!image) continue;
    rows.push({
      rank: rows.length + 1,
      image,
      base: s.base[g]!,
      refined: cur.refined ? (g === cur.anchorIndex ? 1 : cur.refined[g]!) : null,
      fused: cur.scores[g]!,
      anchor: g === cur.anchorIndex,
      baseRank: baseRank[g]!,
    });
  }
  return { rows, refined: cur.round?.refined ?? null };
}

async function save(host: MtiHost, s: Session, status: MtiSearch['status']): Promise<MtiSearch> {
  const signal = new AbortController().signal; // saving is never cancelled half-way
  const { rows, refined } = await buildResults(host.db, s, signal);
  updateSearch(host.db, s.id, { transcript: s.transcript, refined, results: rows, status });
  return toSearch(host.db, getSearchRow(host.db, s.id)!);
}

function log(s: Session, by: 'mllm' | 'analyst', text: string): void {
  s.transcript.log.push({ at: Date.now(), by, text });
}

function describeRound(r: MtiRound): string {
  if (!r.anchor) return `round ${r.index}: ${r.note ?? 'no anchor'}`;
  const asked = r.questions.length ? `, ${r.questions.length} questions` : '';
  return `round ${r.index}: anchor #${r.anchor.rank} (image ${r.anchor.imageId})${r.earlyStop ? ' by early stop' : ''}${asked}; q̂ = "${r.refined ?? ''}"`;
}

async function openSession(
  host: MtiHost,
  arg: {
    modelId: ModelId;
    datasetId: DatasetId | null;
    query: string;
    vqaEndpoint: string | null;
    aggregatorEndpoint: string | null;
    params: MtiParams;
    resultCount: number;
    footage: FootageScope | null;
  },
  existing?: { id: number; transcript: MtiTranscript },
): Promise<Session> {
  const { db } = host;
  const row = resolveModelRow(db, arg.modelId);
  const modelId = row.id as ModelId;
  const embedded = countEmbeddedImages(db, modelId, arg.datasetId);
  const gallery = embedded === 0 ? new Int32Array(0) : mtiGallery(db, modelId, arg.datasetId, arg.footage);
  if (embedded > 0 && gallery.length === 0)
    throw new AppError(
      'not_found',
      `No footage crop ${describeScope(arg.footage!)} has a vector from model "${row.name}". ` +
        'Widen the camera or time filter, or run the footage folder and an embed job first.',
    );
  if (embedded === 0) {
    const missing = countImagesMissingEmbedding(db, modelId, arg.datasetId ?? undefined);
    const ds = arg.datasetId === null ? '' : ` --dataset ${arg.datasetId}`;
    throw new AppError(
      'conflict',
      `No image${arg.datasetId === null ? '' : ` of dataset ${arg.datasetId}`} has a vector from model "${row.name}" (${missing} waiting). ` +
        `Run \`ctgi embed --model ${row.name}${ds}\` or start an embed job in Settings → Models, then search again.`,
    );
  }
  const eps = mtiEndpoints(db, arg.vqaEndpoint ?? undefined, arg.aggregatorEndpoint ?? undefined);
  const { vqa, aggregator: agg } = mtiClients(db, eps, host.keyStore, host.llm);
  const model = await host.encoders.get(row);
  const pool = compilePromptSet(defaultPromptSetBody());
  const transcript: MtiTranscript = existing?.transcript ?? {
    query: arg.query,
    params: arg.params,
    rounds: [],
    log: [],
    fallback: null,
    history: [],
    ...(arg.footage ? { footage: arg.footage } : {}),
  };
  transcript.history ??= [];
  const id =
    existing?.id ??
    insertSearch(db, {
      modelId,
      datasetId: arg.datasetId,
      query: arg.query,
      vqaEndpoint: eps.vqa.name,
      aggregatorEndpoint: eps.aggregator.name,
      params: arg.params,
      transcript,
    });
  const s = {} as Session;
  const deps = buildDeps(host, model, modelId, arg.datasetId, gallery, vqa, agg, pool, (phase, round) =>
    host.emit?.({ searchId: id, phase, round }),
  );
  const cache = new ScoreCache(deps.scoreAll);
  const base = await cache.get(arg.query, new AbortController().signal);
  Object.assign(s, {
    id,
    modelId,
    datasetId: arg.datasetId,
    params: arg.params,
    deps,
    cache,
    base,
    transcript,
    resultCount: arg.resultCount,
    controller: null,
    busy: Promise.resolve(),
  });
  host.sessions.set(s);
  return s;
}

/** Runs `fn` with the search's cancel signal; a cancel or an MLLM failure becomes a stated fallback. */
async function guarded(
  host: MtiHost,
  s: Session,
  what: string,
  fn: (signal: AbortSignal) => Promise<void>,
): Promise<MtiSearch> {
  const run = s.busy.then(async () => {
    const controller = new AbortController();
    s.controller = controller;
    try {
      await fn(controller.signal);
      s.transcript.fallback = null;
      host.emit?.({ searchId: s.id, phase: 'done', round: s.transcript.rounds.at(-1) ?? emptyRound(s) });
      return await save(host, s, 'done');
    } catch (err) {
      if (isAbort(err, controller.signal)) {
        s.transcript.fallback = `Cancelled during ${what}; showing the ranking of the steps completed before it.`;
        log(s, 'analyst', `cancelled ${what}`);
        return await save(host, s, 'cancelled');
      }
      if (err instanceof AppError && err.code === 'bad_request') throw err;
      s.transcript.fallback = `The MLLM failed during ${what} (${describeError(err)}). Showing the ranking of the steps completed before it${s.transcript.rounds.length === 0 ? ' (the query alone)' : ''}.`;
      log(s, 'mllm', `failed: ${describeError(err)}`);
      host.emit?.({ searchId: s.id, phase: 'fallback', round: s.transcript.rounds.at(-1) ?? emptyRound(s) });
      return await save(host, s, 'fallback');
    } finally {
      s.controller = null;
    }
  });
  s.busy = run.catch(() => undefined);
  return run;
}

const emptyRound = (s: Session): MtiRound => newRound(0, s.transcript.query);

/** Starts a search and runs its automatic rounds. */
export async function startMtiSearch(host: MtiHost, arg: ParsedArg<'mti:start'>): Promise<MtiSearch> {
  const query = arg.query.trim();
  if (query === '') throw new AppError('bad_request', 'Type a description of the person to search for.');
  const params: MtiParams = mtiParamsOf(arg.params);
  const s = await openSession(host, {
    modelId: arg.modelId,
    datasetId: (arg.datasetId ?? null) as DatasetId | null,
    query,
    vqaEndpoint: arg.vqaEndpoint ?? null,
    aggregatorEndpoint: arg.aggregatorEndpoint ?? null,
    params,
    resultCount: arg.results,
    footage: footageScopeOf(arg),
  });
  const words = query.split(/\s+/).length;
  if (words > 77)
    log(
      s,
      'mllm',
      `The query has ${words} words; the text tower reads only its first tokens (${query.split(/\s+/).slice(0, WORDS_SHOWN).join(' ')} …), the MLLM reads all of it.`,
    );
  return guarded(host, s, 'round 1', (signal) =>
    runRounds(
      {
        deps: s.deps,
        cache: s.cache,
        base: s.base,
        params,
        signal,
        rounds: s.transcript.rounds,
        onRound: (round) => {
          log(s, round.anchor?.by ?? 'mllm', describeRound(round));
          host.emit?.({ searchId: s.id, phase: 'ranked', round });
        },
      },
      query,
    ),
  );
}

async function sessionFor(host: MtiHost, id: number): Promise<Session> {
  const live = host.sessions.get(id);
  if (live) return live;
  const row = getSearchRow(host.db, id);
  if (!row) throw notFound(`Search ${id}`);
  const saved = toSearch(host.db, row);
  return openSession(
    host,
    {
      modelId: saved.modelId,
      datasetId: saved.datasetId as DatasetId | null,
      query: saved.query,
      vqaEndpoint: saved.vqaEndpoint,
      aggregatorEndpoint: saved.aggregatorEndpoint,
      params: mtiParamsOf(saved.transcript.params),
      resultCount: Math.max(saved.results.length, 1),
      footage: saved.transcript.footage ?? null,
    },
    { id, transcript: saved.transcript },
  );
}

const cloneRounds = (rounds: readonly MtiRound[]): MtiRound[] =>
  JSON.parse(JSON.stringify(rounds)) as MtiRound[];

/** What an analyst action sees: the search, the round it acts on and the rounds before it. */
interface ActionContext {
  s: Session;
  /** 1-based round the action is on (for next-round and edit-refined it may be one past the last). */
  at: number;
  previous: MtiRound[];
  round: MtiRound | undefined;
  input: RoundInput;
}

/** What an action makes: the dialogue's new rounds, the log line, and whether it is announced as ranked. */
interface ActionResult {
  rounds: MtiRound[];
  next: MtiRound;
  note: string;
  /** next-round leaves the announcement to its own round (as it always has). */
  announce: boolean;
}

type StepAction = Exclude<MtiAction, { kind: 'back' }>;
type ActionHandler<K extends StepAction['kind']> = (
  cx: ActionContext,
  action: Extract<StepAction, { kind: K }>,
) => Promise<ActionResult>;

/**
 * One handler per analyst action (ALGORITHMS.md §3: "the analyst may also answer questions, reject an
 * anchor or pick one"). Each returns the rounds it makes and changes nothing itself; stepMtiSearch records
 * the step (history, log, save).
 */
const ACTIONS: { [K in StepAction['kind']]: ActionHandler<K> } = {
  'next-round': async ({ s, input }) => {
    const t = s.transcript;
    const next = await runRound({ ...input, previous: t.rounds }, t.query);
    return {
      rounds: [...t.rounds, next],
      next,
      note: `asked for another round → ${describeRound(next)}`,
      announce: false,
    };
  },
  'reject-anchor': async ({ s, at, previous, round, input }) => {
    if (!round?.anchor) throw new AppError('bad_request', `Round ${at} has no anchor to reject.`);
    const known = new Map<number, MtiCheck>();
    for (const c of round.checks) {
      const g = indexOfImage(s.deps.gallery, c.imageId);
      if (g >= 0)
        known.set(g, c.imageId === round.anchor.imageId ? { ...c, verdict: 'no', by: 'analyst' } : c);
    }
    const g = indexOfImage(s.deps.gallery, round.anchor.imageId);
    if (!known.has(g))
      known.set(g, {
        imageId: round.anchor.imageId,
        rank: round.anchor.rank,
        score: 0,
        answer: null,
        verdict: 'no',
        by: 'analyst',
        ms: null,
      });
    const next = await runRound({ ...input, known }, s.transcript.query);
    return {
      rounds: [...previous, next],
      next,
      note: `rejected the anchor image ${round.anchor.imageId} of round ${at} → ${describeRound(next)}`,
      announce: true,
    };
  },
  'pick-anchor': async ({ s, at, previous, round, input }, action) => {
    if (indexOfImage(s.deps.gallery, action.imageId) < 0)
      throw new AppError('bad_request', `Image ${action.imageId} is not in this search's gallery.`);
    const known = new Map<number, MtiCheck>();
    for (const c of round?.checks ?? [])
      if (c.imageId !== action.imageId) known.set(indexOfImage(s.deps.gallery, c.imageId), c);
    const next = await runRound({ ...input, known, pickedAnchor: action.imageId }, s.transcript.query);
    return {
      rounds: [...previous, next],
      next,
      note: `picked image ${action.imageId} as the anchor of round ${at} → ${describeRound(next)}`,
      announce: true,
    };
  },
  answer: async ({ s, at, previous, round, input }, action) => {
    if (!round?.anchor)
      throw new AppError('bad_request', `Round ${at} has no anchor, so no questions to answer.`);
    const q = round.questions.find((x) => x.id === action.questionId);
    if (!q) throw new AppError('bad_request', `Round ${at} asked no question "${action.questionId}".`);
    const questions = judgeAnswers(
      s.deps.pool,
      round.questions.map((x) =>
        x.id === action.questionId ? { ...x, answer: action.answer, by: 'analyst' as const } : x,
      ),
    );
    const agg = await aggregateAnswers(s.deps, round.query, questions, input.signal);
    const next: MtiRound = {
      ...round,
      questions,
      refined: agg.refined,
      refinedBy: 'mllm',
      calls: round.calls + agg.calls,
    };
    return {
      rounds: [...previous, next],
      next,
      note: `answered "${q.text}" with "${action.answer}" → q̂ = "${agg.refined}"`,
      announce: true,
    };
  },
  'edit-refined': async ({ s, previous, round, input }, action) => {
    // No round yet (the MLLM failed at once, or rounds = 0): the analyst's own q̂, without an anchor.
    const next: MtiRound = round
      ? { ...round, refined: action.text, refinedBy: 'analyst' }
      : { ...emptyRound(s), index: 1, refined: action.text, refinedBy: 'analyst' };
    await s.cache.get(action.text, input.signal);
    return {
      rounds: [...previous, next],
      next,
      note: `edited q̂ of round ${next.index}: "${action.text}"`,
      announce: true,
    };
  },
};

/** One analyst action: its handler makes the rounds; the step is recorded, logged and saved here. */
export async function stepMtiSearch(host: MtiHost, arg: ParsedArg<'mti:step'>): Promise<MtiSearch> {
  const s = await sessionFor(host, arg.id);
  const action = arg.action as MtiAction;
  const t = s.transcript;
  if (action.kind === 'back') {
    return guarded(host, s, 'back', async () => {
      const prev = t.history.pop();
      if (!prev) throw new AppError('bad_request', 'There is no earlier step to go back to.');
      t.rounds = prev;
      log(s, 'analyst', 'went back one step');
    });
  }
  const at = arg.round ?? t.rounds.length;
  if (action.kind !== 'next-round' && action.kind !== 'edit-refined' && (at < 1 || at > t.rounds.length)) {
    throw new AppError(
      'bad_request',
      t.rounds.length === 0
        ? 'This search has no round yet; run one first.'
        : `Round ${at} does not exist (this search has ${t.rounds.length}).`,
    );
  }
  return guarded(
    host,
    s,
    action.kind === 'next-round' ? `round ${t.rounds.length + 1}` : `round ${at}`,
    async (signal) => {
      const before = cloneRounds(t.rounds);
      const previous = t.rounds.slice(0, Math.max(0, at - 1));
      const input: RoundInput = {
        deps: s.deps,
        cache: s.cache,
        base: s.base,
        previous,
        params: s.params,
        signal,
      };
      const cx: ActionContext = { s, at, previous, round: t.rounds[at - 1], input };
      const handler = ACTIONS[action.kind] as ActionHandler<typeof action.kind>;
      const done = await handler(cx, action as never);
      t.history.push(before);
      t.rounds = done.rounds;
      log(s, 'analyst', done.note);
      if (done.announce) host.emit?.({ searchId: s.id, phase: 'ranked', round: done.next });
    },
  );
}

export function cancelMtiSearch(sessions: MtiSessions, id: number): { cancelled: boolean } {
  return { cancelled: sessions.cancel(id) };
}

export function getMtiSearch(db: WritableDb, id: number): MtiSearch {
  const row = getSearchRow(db, id);
  if (!row) throw notFound(`Search ${id}`);
  return toSearch(db, row);
}

export function listMtiSearches(db: WritableDb, limit: number): MtiSearchSummary[] {
  return listSearches(db, limit);
}

/** Forgets the in-memory state of a deleted search. */
export function dropSession(sessions: MtiSessions, id: number): void {
  sessions.delete(id);
}
