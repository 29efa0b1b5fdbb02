// MTG for one image (ALGORITHMS.md §1), as plain functions: the caller binds the image and the
// endpoints into `deps`, so the algorithm runs the same against a real server, the synthetic oracle or
// a test double. Ts = MLLM(I, P_init); N rounds of pool questions, asked in waves (the questions of a
// wave are independent given the image, so they go out together); each wave's answers are filtered;
// Te = LLM(Ts, kept answers, p).
import type { DropReason, QaRound } from '#shared/mtg/types';
import { LlmError } from '../llm/errors';
import { filterAnswers, type Verdict } from './answer-filters';
import { parseYesNo } from './mti-prompts';
import { fillTemplate, selectQuestions, type CompiledPromptSet, type SkippedQuestion } from './question-pool';

export interface MtgAnswer {
  text: string;
  callId: number | null;
  /** No HTTP request was made for it (cache hit or joined an identical call). */
  cached: boolean;
  latencyMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface MtgDeps {
  /** Asks the VQA model about this image. */
  ask(prompt: string, purpose: 'mtg.initial' | 'mtg.question' | 'mtg.verify'): Promise<MtgAnswer>;
  /** Text only: the reconstructor never sees the image. */
  reconstruct(prompt: string): Promise<MtgAnswer>;
}

export interface MtgOptions {
  /** Questions asked in all (paper: 6). */
  rounds: number;
  /** Questions per wave; by default all rounds in one wave (fastest). 1 = strictly one after another. */
  waveSize?: number;
  /**
   * Check every kept answer's fact with a second, independently phrased yes/no question about the image
   * (the set's `verify` template) before it can reach the caption; a "No" drops the pair as 'unverified'.
   * Off by default: the paper keeps whatever passes the filters.
   */
  verify?: boolean;
}

export interface MtgOutcome {
  initial: MtgAnswer;
  rounds: QaRound[];
  skipped: SkippedQuestion[];
  /** Null when no answer was kept: the initial caption is then the result, with no reconstructor call. */
  reconstruction: MtgAnswer | null;
  caption: string;
  calls: number;
  cachedCalls: number;
  promptTokens: number;
  completionTokens: number;
}

// A question whose own answer went wrong in a way that is about this answer, not the endpoint: the pair
// is dropped and the image goes on. Anything else (server down, auth, timeouts after retries) fails the
// image so that a retry can do it properly instead of storing a thinner caption.
const PER_ANSWER: ReadonlySet<string> = new Set(['refused', 'bad_response']);

export async function runMtg(deps: MtgDeps, set: CompiledPromptSet, opts: MtgOptions): Promise<MtgOutcome> {
  const { templates } = set.body;
  const initial = await deps.ask(templates.initial, 'mtg.initial');
  const initialText = initial.text.trim();
  const rounds: QaRound[] = [];
  const skipped: SkippedQuestion[] = [];
  const skippedIds = new Set<string>();
  const asked = new Set<string>();
  const keptFacts: string[] = [];
  const checks: MtgAnswer[] = [];
  const waveSize = Math.max(1, opts.waveSize ?? opts.rounds);

  while (rounds.length < opts.rounds) {
    const known = [initialText, ...keptFacts].join('\n');
    const sel = selectQuestions(set, known, asked, Math.min(waveSize, opts.rounds - rounds.length));
    for (const s of sel.skipped) {
      if (!skippedIds.has(s.questionId)) {
        skippedIds.add(s.questionId);
        skipped.push(s);
      }
      asked.add(s.questionId); // settled stays settled: known text only grows
    }
    if (sel.questions.length === 0) break;
    const prompts = sel.questions.map((q) => fillTemplate(templates.question, { question: q.text }));
    for (const q of sel.questions) asked.add(q.id);
    const answers = await Promise.allSettled(prompts.map((p) => deps.ask(p, 'mtg.question')));
    // Fail the image on the first endpoint-level error, after every call of the wave has settled (no
    // request is left running behind the caller's back).
    for (const a of answers) {
      if (a.status === 'rejected' && !(a.reason instanceof LlmError && PER_ANSWER.has(a.reason.kind)))
        throw a.reason;
    }
    const ok = sel.questions.flatMap((question, i) => {
      const a = answers[i]!;
      return a.status === 'fulfilled' ? [{ question, answer: a.value.text, i }] : [];
    });
    const verdicts = filterAnswers(set, known, ok);
    if (opts.verify) {
      const { answers: verified, calls } = await verifyFacts(deps, set, ok, verdicts);
      verdicts.splice(0, verdicts.length, ...verified);
      checks.push(...calls);
    }
    const verdictOf = new Map(ok.map((p, k) => [p.i, verdicts[k]!]));
    sel.questions.forEach((q, i) => {
      const a = answers[i]!;
      const base = { index: rounds.length, questionId: q.id, question: q.text, prompt: prompts[i]! };
      if (a.status === 'rejected') {
        const err = a.reason as LlmError;
        const reason: DropReason = err.kind === 'refused' ? 'refusal' : 'error';
        rounds.push({
          ...base,
          answer: null,
          kept: false,
          dropReason: reason,
          dropDetail: err.message,
          fact: null,
          llmCallId: null,
          cached: false,
          latencyMs: null,
          promptTokens: null,
          completionTokens: null,
        });
        return;
      }
      const v = verdictOf.get(i)!;
      const ans = a.value;
      if (v.kept) keptFacts.push(v.fact);
      rounds.push({
        ...base,
        answer: ans.text,
        kept: v.kept,
        dropReason: v.kept ? null : v.reason,
        dropDetail: v.kept ? null : v.detail,
        fact: v.kept ? v.fact : null,
        llmCallId: ans.callId,
        cached: ans.cached,
        latencyMs: ans.latencyMs,
        promptTokens: ans.promptTokens,
        completionTokens: ans.completionTokens,
      });
    });
  }

  const kept = rounds.filter((r) => r.kept);
  let reconstruction: MtgAnswer | null = null;
  let caption = initialText;
  if (kept.length > 0) {
    const answersText = kept
      .map((r) => fillTemplate(templates.answerLine, { question: r.question, answer: r.answer ?? '' }))
      .join('\n');
    reconstruction = await deps.reconstruct(
      fillTemplate(templates.reconstruct, { caption: initialText, answers: answersText }),
    );
    caption = cleanCaption(reconstruction.text) || initialText;
  }

  const answered = [initial, ...(reconstruction ? [reconstruction] : []), ...checks].concat(
    rounds
      .filter((r) => r.answer !== null)
      .map((r) => ({
        text: '',
        callId: r.llmCallId,
        cached: r.cached,
        latencyMs: r.latencyMs ?? 0,
        promptTokens: r.promptTokens,
        completionTokens: r.completionTokens,
      })),
  );
  return {
    initial,
    rounds,
    skipped,
    reconstruction,
    caption,
    calls: answered.length,
    cachedCalls: answered.filter((a) => a.cached).length,
    promptTokens: answered.reduce((n, a) => n + (a.promptTokens ?? 0), 0),
    completionTokens: answered.reduce((n, a) => n + (a.completionTokens ?? 0), 0),
  };
}

/**
 * One concurrent wave of checks, one per kept fact. Only a clear "No", read from the first word (a
 * substring test would hear "yes" in "eyes" and "no" in "not sure"), drops the pair; an unclear
 * reply or a per-answer failure of the check keeps it, since nothing contradicted the answer.
 */
async function verifyFacts(
  deps: MtgDeps,
  set: CompiledPromptSet,
  pairs: readonly { question: { text: string }; answer: string }[],
  verdicts: readonly Verdict[],
): Promise<{ answers: Verdict[]; calls: MtgAnswer[] }> {
  const todo = verdicts.flatMap((v, k) => (v.kept ? [{ k, fact: v.fact }] : []));
  const results = await Promise.allSettled(
    todo.map(({ k, fact }) =>
      deps.ask(
        fillTemplate(set.verify, {
          fact,
          question: pairs[k]!.question.text,
          answer: pairs[k]!.answer.trim(),
        }),
        'mtg.verify',
      ),
    ),
  );
  for (const r of results) {
    if (r.status === 'rejected' && !(r.reason instanceof LlmError && PER_ANSWER.has(r.reason.kind)))
      throw r.reason;
  }
  const out = [...verdicts];
  const calls: MtgAnswer[] = [];
  todo.forEach(({ k, fact }, j) => {
    const r = results[j]!;
    if (r.status !== 'fulfilled') return;
    calls.push(r.value);
    if (parseYesNo(r.value.text) === 'no') {
      out[k] = {
        kept: false,
        reason: 'unverified',
        detail: `a second check of "${fact}" said no ("${clip(r.value.text.trim())}")`,
      };
    }
  });
  return { answers: out, calls };
}

const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** Reconstructors like to wrap the caption ("Here is the description: "…""); keep only the caption. */
export function cleanCaption(text: string): string {
  let t = text.trim();
  t = t.replace(/^(here is|here's|sure|certainly)[^:\n]*:\s*/i, '');
  t = t.replace(/^(rephrased )?description:\s*/i, '');
  t = t.replace(/^["“'](.*)["”']$/s, '$1');
  return t.replace(/\s+/g, ' ').trim();
}
