// MTI — Multi-Turn Text Interaction (ALGORITHMS.md §3), as plain functions with everything that talks to
// a model passed in: the CLIP side (`scoreAll`: a text → its cosine with every gallery image) and the
// MLLM side (`askYesNo`, `askQuestions` — all questions in ONE call — and `aggregate`). The service
// (src/main/search/mti-service.ts) wires them to the text tower and the LLM client; tests and the
// benchmark wire them to fakes.
//
// Latency: the paper's own limitation is the sequential anchor search (up to K MLLM calls in a row). Here
// up to `checkConcurrency` checks run at once, started in rank order, and the anchor is resolved as soon as
// it is known: the first "yes" whose better-ranked candidates all said "no". Candidates below a known
// "yes" are never started, and those already in flight are aborted at once (their answers could not change
// the anchor). The anchor and the recorded checks are therefore exactly those of the sequential algorithm
// for every concurrency; the knob trades latency (checkConcurrency = K: about one check wave + one VQA call
// + one aggregation) against MLLM calls (checkConcurrency = 1: the sequential algorithm's count).
import type { ImageId } from '#shared/ids';
import type { MtiActor, MtiCheck, MtiParams, MtiQuestion, MtiRound, MtiVerdict } from '#shared/mti/types';
import { TopK } from '../ml/vector-index';
import { judgeRelevance } from './answer-filters';
import { parseYesNo } from './mti-prompts';
import { selectQuestions, type CompiledPromptSet } from './question-pool';

export interface MtiDeps {
  /** Gallery order: `scoreAll(text)[i]` is the cosine of the text with image `gallery[i]`. */
  gallery: ArrayLike<number>;
  scoreAll(text: string, signal: AbortSignal): Promise<Float32Array>;
  /** The MLLM's raw answer to the anchor prompt for this image. */
  askYesNo(imageId: ImageId, query: string, signal: AbortSignal): Promise<string>;
  /** Answers aligned with `questions` (null where the model gave none), from one call. */
  askQuestions(
    imageId: ImageId,
    questions: readonly string[],
    signal: AbortSignal,
  ): Promise<(string | null)[]>;
  /** q̂ from the query and the kept answers, from one call. */
  aggregate(
    query: string,
    answers: readonly { question: string; answer: string }[],
    signal: AbortSignal,
  ): Promise<string>;
  /** The question pool (MTG's), filtered per round by what the query already states. */
  pool: CompiledPromptSet;
  /** Live steps, for the conversation panel. */
  onStep?: (phase: 'check' | 'anchor' | 'questions' | 'refined', round: MtiRound) => void;
}

export interface Candidate {
  /** Gallery index. */
  index: number;
  rank: number;
  score: number;
}

// ---------------------------------------------------------------------------------------------------
// Ranking

/**
 * Gallery indices of the top `k` by score, best first; ties go to the lower gallery index (stable). NaN
 * scores and excluded indices never enter. The bounded heap of ml/vector-index.ts does the keeping, as it
 * does for the vector search, so the two rankings order ties the same way.
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): number[] {
  const heap = new TopK(Math.max(0, Math.min(k, scores.length)));
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s) || exclude?.has(i)) continue;
    heap.push(i, s);
  }
  return heap.result().map((h) => h.index);
}

/** All gallery indices by score, best first, ties by gallery index. */
export function rankAll(scores: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  const key = (i: number): number => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  return order.sort((a, b) => key(b) - key(a) || a - b);
}

/**
 * Ŝ(q, v) = λ·S(q, v) + (1 − λ)·S(q̂, v), with S(q̂, v̄) set to 1 before mixing, so the anchor's fused
 * score is λ·S(q, v̄) + 1 − λ.
 */
export function fuseScores(
  base: Float32Array,
  refined: Float32Array,
  anchorIndex: number,
  lambda: number,
): Float32Array {
  if (base.length !== refined.length)
    throw new Error(`fuseScores: ${base.length} base scores but ${refined.length} refined`);
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const r = i === anchorIndex ? 1 : refined[i]!;
    out[i] = lambda * base[i]! + (1 - lambda) * r;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Step 1: anchor search

export interface AnchorSearch {
  /** The checks the sequential algorithm would have made (up to and including the anchor). */
  checks: MtiCheck[];
  /** Position in `candidates` of the anchor, or null. */
  anchorAt: number | null;
  earlyStop: boolean;
  /** MLLM calls started, including ones cut short or made beyond the anchor. */
  calls: number;
}

export interface AnchorOptions {
  /** Checks in flight at once (1 = the sequential algorithm); started in rank order. */
  checkConcurrency: number;
  /** ξ and the top candidate's raw cosine S(q, v̂1): above ξ, that candidate is checked alone first. */
  xi?: number;
  topCosine?: number;
  /** Verdicts already known for images (earlier checks reused, or the analyst's). */
  known?: ReadonlyMap<number, MtiCheck>;
  signal: AbortSignal;
  onCheck?: (check: MtiCheck) => void;
}

type Outcome = { kind: 'done'; check: MtiCheck } | { kind: 'error'; error: unknown };

const abortError = (signal: AbortSignal): Error =>
  signal.reason instanceof Error
    ? signal.reason
    : Object.assign(new Error('The search was cancelled.'), { name: 'AbortError' });

/**
 * The first candidate, in rank order, the MLLM says the query describes. Checks run `checkConcurrency` at
 * a time in rank order; a failed check only fails the search if the sequential algorithm would have
 * reached it (every better candidate said no).
 */
export async function findAnchor(
  deps: Pick<MtiDeps, 'gallery' | 'askYesNo'>,
  query: string,
  candidates: readonly Candidate[],
  opts: AnchorOptions,
): Promise<AnchorSearch> {
  const n = candidates.length;
  const outcomes: (Outcome | undefined)[] = new Array(n);
  const controllers: (AbortController | undefined)[] = new Array(n);
  let calls = 0;
  if (opts.signal.aborted) throw abortError(opts.signal);

  const check = async (pos: number): Promise<void> => {
    const c = candidates[pos]!;
    const imageId = deps.gallery[c.index]! as ImageId;
    const prior = opts.known?.get(c.index);
    if (prior) {
      outcomes[pos] = { kind: 'done', check: { ...prior, rank: c.rank, score: c.score } };
      return;
    }
    const ctl = new AbortController();
    controllers[pos] = ctl;
    calls++;
    const t0 = performance.now();
    try {
      const answer = await deps.askYesNo(imageId, query, ctl.signal);
      const verdict: MtiVerdict = parseYesNo(answer);
      const done: MtiCheck = {
        imageId,
        rank: c.rank,
        score: c.score,
        answer,
        verdict,
        by: 'mllm',
        ms: Math.round(performance.now() - t0),
      };
      outcomes[pos] = { kind: 'done', check: done };
    } catch (error) {
      outcomes[pos] = { kind: 'error', error };
    } finally {
      controllers[pos] = undefined;
    }
  };

  /** Resolution by the sequential rule: the first outcome that is a yes or an error, all before it no. */
  const resolve = (): { pos: number | null; error?: unknown } | undefined => {
    for (let p = 0; p < n; p++) {
      const o = outcomes[p];
      if (o === undefined) return undefined;
      if (o.kind === 'error') return { pos: p, error: o.error };
      if (o.check.verdict === 'yes') return { pos: p };
    }
    return { pos: null };
  };
  const recorded = (upto: number): MtiCheck[] => {
    const out: MtiCheck[] = [];
    for (let p = 0; p <= upto && p < n; p++) {
      const o = outcomes[p];
      if (o?.kind === 'done') out.push(o.check);
    }
    return out;
  };

  // One listener for all checks (not one each: K of them would trip Node's listener-leak warning).
  const onAbort = (): void => {
    for (const ctl of controllers) ctl?.abort(opts.signal.reason);
  };
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await search();
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }

  async function search(): Promise<AnchorSearch> {
    const earlyStop = false;
    let next = 0;
    // Early exit: a confident top-1 is asked alone, so a good query costs one call, not K.
    if (n > 0 && opts.xi !== undefined && opts.topCosine !== undefined && opts.topCosine > opts.xi) {
      await check(0);
      next = 1;
      const o = outcomes[0]!;
      if (o.kind === 'done') opts.onCheck?.(o.check);
      if (o.kind === 'done' && o.check.verdict === 'yes')
        return { checks: [o.check], anchorAt: 0, earlyStop: true, calls };
      if (o.kind === 'error') throw o.error;
    }

    const result = await new Promise<{ pos: number | null; error?: unknown }>((resolvePromise) => {
      let inFlight = 0;
      let settled = false;
      // A "yes" at p makes every candidate after p irrelevant: never start them.
      let limit = n;
      const finish = (r: { pos: number | null; error?: unknown }): void => {
        if (settled) return;
        settled = true;
        for (const ctl of controllers) ctl?.abort(new Error('anchor already found'));
        resolvePromise(r);
      };
      // The anchor is at `pos` or above it now: checks of lower ranks still in flight cannot change it, so
      // they are cancelled rather than left to run (and to hold an endpoint slot) until the round resolves.
      const cutBelow = (pos: number): void => {
        if (pos + 1 >= limit) return;
        limit = pos + 1;
        for (let p = limit; p < n; p++)
          controllers[p]?.abort(new Error('a better-ranked candidate said yes'));
      };
      const pump = (): void => {
        if (settled) return;
        if (opts.signal.aborted) return finish({ pos: null, error: abortError(opts.signal) });
        const r = resolve();
        if (r !== undefined) return finish(r);
        while (inFlight < Math.max(1, opts.checkConcurrency) && next < limit) {
          const pos = next++;
          inFlight++;
          void check(pos).then(() => {
            inFlight--;
            const o = outcomes[pos]!;
            // A check below a known yes (or failure) was abandoned: its answer is not part of the round.
            if (o.kind === 'done' && !settled && pos < limit) opts.onCheck?.(o.check);
            if ((o.kind === 'done' && o.check.verdict === 'yes') || o.kind === 'error') cutBelow(pos);
            pump();
          });
        }
      };
      pump();
    });
    if (opts.signal.aborted) throw abortError(opts.signal);
    if (result.error !== undefined) throw result.error;
    return { checks: recorded(result.pos ?? n - 1), anchorAt: result.pos, earlyStop, calls };
  }
}

// ---------------------------------------------------------------------------------------------------
// Steps 2–3: diagnostic questions and aggregation

export interface Refinement {
  questions: MtiQuestion[];
  skipped: { questionId: string; reason: string }[];
  refined: string;
  calls: number;
}

/** The pool questions the query leaves open (not settled by its words, not asked in earlier rounds). */
export function openQuestions(
  pool: CompiledPromptSet,
  query: string,
  asked: ReadonlySet<string>,
  n: number,
): ReturnType<typeof selectQuestions> {
  return selectQuestions(pool, query, asked, n);
}

/** Marks which answers are worth aggregating (MTG's relevance filter: not "cannot tell", refusals, absences). */
export function judgeAnswers(pool: CompiledPromptSet, questions: MtiQuestion[]): MtiQuestion[] {
  return questions.map((q) => {
    const compiled = pool.pool.find((p) => p.id === q.id);
    if (q.answer === null || q.answer.trim() === '') return { ...q, kept: false, dropReason: 'no answer' };
    if (!compiled) return { ...q, kept: true, dropReason: null };
    const v = judgeRelevance(pool, compiled, q.answer);
    return v.kept
      ? { ...q, kept: true, dropReason: null }
      : { ...q, kept: false, dropReason: `${v.reason}: ${v.detail}` };
  });
}

/** q̂ from the kept answers; the query itself when nothing was learnt (no call is made then). */
export async function aggregateAnswers(
  deps: Pick<MtiDeps, 'aggregate'>,
  query: string,
  questions: readonly MtiQuestion[],
  signal: AbortSignal,
): Promise<{ refined: string; calls: number }> {
  const kept = questions
    .filter((q) => q.kept && q.answer !== null)
    .map((q) => ({ question: q.text, answer: q.answer! }));
  if (kept.length === 0) return { refined: query, calls: 0 };
  const text = (await deps.aggregate(query, kept, signal)).trim();
  return { refined: text === '' ? query : text, calls: 1 };
}

/** Diagnostic questions about the anchor (one call), then q̂ (one call). */
export async function refineOnAnchor(
  deps: Pick<MtiDeps, 'askQuestions' | 'aggregate' | 'pool'>,
  anchor: ImageId,
  query: string,
  asked: ReadonlySet<string>,
  maxQuestions: number,
  signal: AbortSignal,
  onQuestions?: (questions: MtiQuestion[], skipped: Refinement['skipped']) => void,
): Promise<Refinement> {
  const { questions: chosen, skipped } = openQuestions(deps.pool, query, asked, maxQuestions);
  if (chosen.length === 0) return { questions: [], skipped, refined: query, calls: 0 };
  const answers = await deps.askQuestions(
    anchor,
    chosen.map((q) => q.text),
    signal,
  );
  const asked2: MtiQuestion[] = chosen.map((q, i) => ({
    id: q.id,
    attribute: q.attribute,
    text: q.text,
    answer: answers[i] ?? null,
    by: 'mllm' as MtiActor,
    kept: false,
    dropReason: null,
  }));
  const questions = judgeAnswers(deps.pool, asked2);
  onQuestions?.(questions, skipped);
  const agg = await aggregateAnswers(deps, query, questions, signal);
  return { questions, skipped, refined: agg.refined, calls: 1 + agg.calls };
}

// ---------------------------------------------------------------------------------------------------
// Rounds

/** What the rounds so far imply: the scores used for ranking, and what later rounds must not re-examine. */
export interface MtiState {
  /** S(q, ·) of the analyst's query. */
  base: Float32Array;
  rounds: MtiRound[];
}

/** Scores of texts, memoised per search: a re-rank after an analyst's edit re-encodes only the new text. */
export class ScoreCache {
  private readonly cache = new Map<string, Promise<Float32Array>>();
  constructor(private readonly scoreAll: MtiDeps['scoreAll']) {}
  get(text: string, signal: AbortSignal): Promise<Float32Array> {
    let p = this.cache.get(text);
    if (!p) {
      p = this.scoreAll(text, signal);
      this.cache.set(text, p);
      p.catch(() => this.cache.delete(text));
    }
    return p;
  }
}

export const indexOfImage = (gallery: ArrayLike<number>, imageId: number): number => {
  for (let i = 0; i < gallery.length; i++) if (gallery[i] === imageId) return i;
  return -1;
};

/** The ranking scores after `rounds`: fused with the last round that has a q̂, else S(q, ·). */
export async function currentScores(
  deps: Pick<MtiDeps, 'gallery'>,
  cache: ScoreCache,
  base: Float32Array,
  rounds: readonly MtiRound[],
  lambda: number,
  signal: AbortSignal,
): Promise<{
  scores: Float32Array;
  refined: Float32Array | null;
  anchorIndex: number;
  round: MtiRound | null;
}> {
  for (let r = rounds.length - 1; r >= 0; r--) {
    const round = rounds[r]!;
    // A round without an anchor has no q̂, unless the analyst wrote one (then nothing is set to 1).
    if (round.refined !== null) {
      const refined = await cache.get(round.refined, signal);
      const anchorIndex = round.anchor ? indexOfImage(deps.gallery, round.anchor.imageId) : -1;
      return { scores: fuseScores(base, refined, anchorIndex, lambda), refined, anchorIndex, round };
    }
  }
  return { scores: base, refined: null, anchorIndex: -1, round: null };
}

/** Images examined by earlier rounds (anchors and those that said no): later rounds look further down. */
export function examinedIndices(gallery: ArrayLike<number>, rounds: readonly MtiRound[]): Set<number> {
  const ids = new Set<number>();
  for (const r of rounds) {
    for (const c of r.checks) ids.add(c.imageId);
    if (r.anchor) ids.add(r.anchor.imageId);
  }
  const out = new Set<number>();
  for (let i = 0; i < gallery.length; i++) if (ids.has(gallery[i]!)) out.add(i);
  return out;
}

export interface RoundInput {
  deps: MtiDeps;
  cache: ScoreCache;
  base: Float32Array;
  /** Rounds before this one. */
  previous: readonly MtiRound[];
  params: MtiParams;
  signal: AbortSignal;
  /** Checks to reuse (the analyst rejected an anchor: the answers before it stay, the anchor becomes a no). */
  known?: ReadonlyMap<number, MtiCheck>;
  /** The analyst's anchor: no search. */
  pickedAnchor?: ImageId;
}

/** The query a round starts from: the last q̂, else the analyst's query. */
export function roundQuery(original: string, previous: readonly MtiRound[]): string {
  for (let r = previous.length - 1; r >= 0; r--)
    if (previous[r]!.refined !== null) return previous[r]!.refined!;
  return original;
}

/** A round before anything has happened in it. */
export function newRound(index: number, query: string): MtiRound {
  return {
    index,
    query,
    checks: [],
    anchor: null,
    earlyStop: false,
    questions: [],
    skipped: [],
    refined: null,
    refinedBy: null,
    calls: 0,
    ms: 0,
    note: null,
  };
}

/** One round: anchor (search, or the analyst's pick), questions, q̂. Errors propagate (the caller falls back). */
export async function runRound(input: RoundInput, original: string): Promise<MtiRound> {
  const { deps, cache, base, previous, params, signal } = input;
  const t0 = performance.now();
  const query = roundQuery(original, previous);
  const round = newRound(previous.length + 1, query);
  const snapshot = (): MtiRound => ({
    ...round,
    checks: [...round.checks],
    questions: [...round.questions],
    ms: Math.round(performance.now() - t0),
  });

  const { scores } = await currentScores(deps, cache, base, previous, params.lambda, signal);
  const exclude = examinedIndices(deps.gallery, previous);
  const order = topK(scores, params.k, exclude);
  const candidates: Candidate[] = order.map((index, i) => ({ index, rank: i + 1, score: scores[index]! }));
  // Rank numbers count every image above, examined or not: what the analyst sees in the grid.
  const fullRank = rankAll(scores);
  const rankOf = new Map<number, number>();
  fullRank.forEach((g, r) => rankOf.set(g, r + 1));
  for (const c of candidates) c.rank = rankOf.get(c.index) ?? c.rank;

  let anchorIndex = -1;
  if (input.pickedAnchor !== undefined) {
    anchorIndex = indexOfImage(deps.gallery, input.pickedAnchor);
    if (anchorIndex < 0) throw new Error(`Image ${input.pickedAnchor} is not in this search's gallery.`);
    round.checks = [...(input.known?.values() ?? [])];
    round.anchor = { imageId: input.pickedAnchor, rank: rankOf.get(anchorIndex) ?? 0, by: 'analyst' };
  } else {
    const queryScores = query === original ? base : await cache.get(query, signal);
    const top = candidates[0];
    const found = await findAnchor(deps, query, candidates, {
      checkConcurrency: params.checkConcurrency,
      xi: params.xi,
      topCosine: top ? queryScores[top.index] : undefined,
      known: input.known,
      signal,
      onCheck: (c) => {
        round.checks = insertByRank(round.checks, c);
        deps.onStep?.('check', snapshot());
      },
    });
    round.checks = found.checks;
    round.calls += found.calls;
    round.earlyStop = found.earlyStop;
    if (found.anchorAt === null) {
      round.note = `No anchor: the MLLM said no to all ${candidates.length} candidates, so the ranking stays as it was.`;
      round.ms = Math.round(performance.now() - t0);
      return round;
    }
    const a = candidates[found.anchorAt]!;
    anchorIndex = a.index;
    const by = found.checks[found.checks.length - 1]?.by ?? 'mllm';
    round.anchor = { imageId: deps.gallery[a.index]! as ImageId, rank: a.rank, by };
  }
  deps.onStep?.('anchor', snapshot());

  if (round.earlyStop) {
    round.refined = query;
    round.refinedBy = 'mllm';
    round.note = `Early stop: the top candidate's similarity is above ξ = ${params.xi} and the MLLM confirmed it.`;
    round.ms = Math.round(performance.now() - t0);
    deps.onStep?.('refined', snapshot());
    return round;
  }

  const asked = new Set(previous.flatMap((r) => r.questions.map((q) => q.id)));
  const ref = await refineOnAnchor(
    deps,
    round.anchor.imageId,
    query,
    asked,
    params.questions,
    signal,
    (questions, skipped) => {
      round.questions = questions;
      round.skipped = skipped;
      deps.onStep?.('questions', snapshot());
    },
  );
  round.questions = ref.questions;
  round.skipped = ref.skipped;
  round.refined = ref.refined;
  round.refinedBy = 'mllm';
  round.calls += ref.calls;
  round.ms = Math.round(performance.now() - t0);
  deps.onStep?.('refined', snapshot());
  return round;
}

function insertByRank(checks: MtiCheck[], c: MtiCheck): MtiCheck[] {
  return [...checks.filter((x) => x.imageId !== c.imageId), c].sort((a, b) => a.rank - b.rank);
}

export interface MtiOutcome {
  rounds: MtiRound[];
  /** Final ranking scores over the gallery (fused, or S(q, ·) when nothing was refined). */
  scores: Float32Array;
  base: Float32Array;
  /** Set when a round failed (endpoint error): the ranking is that of the rounds before it. */
  fallback: string | null;
  calls: number;
}

export interface RoundsInput {
  deps: MtiDeps;
  cache: ScoreCache;
  base: Float32Array;
  params: MtiParams;
  signal: AbortSignal;
  /** The dialogue so far; each finished round is appended here before `onRound`, so on an error it holds
   *  the rounds completed before it. */
  rounds: MtiRound[];
  onRound?: (round: MtiRound) => void;
}

/** The stopping rule: no anchor, an early exit, or nothing learnt (q̂ is the round's own query). */
export const lastRound = (round: MtiRound): boolean =>
  !round.anchor || round.earlyStop || round.refined === round.query;

/**
 * The automatic rounds, for the interactive service and the evaluation alike: up to `params.rounds`
 * rounds from the analyst's query, each starting from the last q̂, stopping by `lastRound`. Errors
 * (MLLM failure, cancel) propagate with `rounds` holding what was completed.
 */
export async function runRounds(input: RoundsInput, query: string): Promise<void> {
  const { deps, cache, base, params, signal, rounds } = input;
  for (let r = 0; r < params.rounds; r++) {
    const round = await runRound({ deps, cache, base, previous: rounds, params, signal }, query);
    rounds.push(round);
    input.onRound?.(round);
    if (lastRound(round)) break;
  }
}

/**
 * The whole algorithm without an analyst (runRounds). An MLLM failure ends the dialogue with the ranking
 * of the rounds completed so far (the plain ranking if none) and the reason; a cancel throws.
 */
export async function runMti(
  deps: MtiDeps,
  query: string,
  params: MtiParams,
  signal: AbortSignal,
): Promise<MtiOutcome> {
  const cache = new ScoreCache(deps.scoreAll);
  const base = await cache.get(query, signal);
  const rounds: MtiRound[] = [];
  let fallback: string | null = null;
  try {
    await runRounds({ deps, cache, base, params, signal, rounds }, query);
  } catch (err) {
    if (signal.aborted) throw err;
    const r = rounds.length;
    fallback = `The MLLM failed in round ${r + 1} (${err instanceof Error ? err.message : String(err)}); showing the ranking of ${r === 0 ? 'the query alone' : `round ${r}`}.`;
  }
  const { scores } = await currentScores(deps, cache, base, rounds, params.lambda, signal);
  return { rounds, scores, base, fallback, calls: rounds.reduce((a, r) => a + r.calls, 0) };
}

/**
 * The sequential reference (ALGORITHMS.md §3 step 1 as written): candidates one at a time in rank order,
 * stop at the first yes. Kept for the benchmark and the equivalence test, not used by the app.
 */
export async function findAnchorSequential(
  deps: Pick<MtiDeps, 'gallery' | 'askYesNo'>,
  query: string,
  candidates: readonly Candidate[],
  signal: AbortSignal,
): Promise<AnchorSearch> {
  const checks: MtiCheck[] = [];
  for (let p = 0; p < candidates.length; p++) {
    const c = candidates[p]!;
    const imageId = deps.gallery[c.index]! as ImageId;
    const t0 = performance.now();
    const answer = await deps.askYesNo(imageId, query, signal);
    const check: MtiCheck = {
      imageId,
      rank: c.rank,
      score: c.score,
      answer,
      verdict: parseYesNo(answer),
      by: 'mllm',
      ms: Math.round(performance.now() - t0),
    };
    checks.push(check);
    if (check.verdict === 'yes') return { checks, anchorAt: p, earlyStop: false, calls: checks.length };
  }
  return { checks, anchorAt: null, earlyStop: false, calls: checks.length };
}
