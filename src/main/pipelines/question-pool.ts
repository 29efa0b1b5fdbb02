// The MTG prompt set as code sees it: templates, the attribute-targeted question pool with its
// "already settled" patterns, and the relevance filters, compiled once per job. The default set lives
// in resources/prompts/ as data, so a user edits a copy of it (Settings, prompts:save) rather than code.
import defaultSetJson from '../../../resources/prompts/mtg-default.json';
import { promptSetBodySchema } from '#shared/llm/contract';
import type { PoolQuestion, PromptSetBody } from '#shared/llm/types';
import { canonicalHash } from '../canonical-json';
import { AppError } from '../errors';

export interface CompiledQuestion extends PoolQuestion {
  settled: RegExp[];
}

export interface CompiledPromptSet {
  body: PromptSetBody;
  pool: CompiledQuestion[];
  notVisible: RegExp[];
  refusal: RegExp[];
  negative: RegExp;
  /** The verification template: the set's own, or DEFAULT_VERIFY_TEMPLATE for sets saved before it existed. */
  verify: string;
}

// Phrased independently of the pool question (a statement to confirm, not the question again), so a
// model that misread the image one way is asked about it from another side.
export const DEFAULT_VERIFY_TEMPLATE =
  'Is the following true of the person in the image: "{fact}"? Answer Yes or No.';

/** The shipped default, validated (a bad edit of the resource fails loudly at first use, not mid-job). */
export function defaultPromptSetBody(): PromptSetBody {
  return promptSetBodySchema.parse(defaultSetJson);
}

function compileRegex(source: string, where: string): RegExp {
  try {
    return new RegExp(source, 'i');
  } catch (err) {
    throw new AppError(
      'bad_request',
      `Prompt set: ${where} is not a valid regular expression (${(err as Error).message}). Fix it in Settings → Prompts.`,
    );
  }
}

/** Checks the body and compiles its patterns; every problem names the question or filter at fault. */
export function compilePromptSet(raw: PromptSetBody): CompiledPromptSet {
  const body = promptSetBodySchema.parse(raw);
  const ids = new Set<string>();
  for (const q of body.pool) {
    if (ids.has(q.id))
      throw new AppError(
        'bad_request',
        `Prompt set: question id "${q.id}" appears twice; ids must be unique.`,
      );
    ids.add(q.id);
    if (q.kind === 'yesno' && !q.yes) {
      throw new AppError(
        'bad_request',
        `Prompt set: yes/no question "${q.id}" needs a "yes" fact (what an affirmative answer states).`,
      );
    }
  }
  return {
    body,
    pool: body.pool.map((q) => ({
      ...q,
      settled: q.settledBy.map((s, i) => compileRegex(s, `settledBy[${i}] of question "${q.id}"`)),
    })),
    notVisible: body.filters.notVisible.map((s, i) => compileRegex(s, `filters.notVisible[${i}]`)),
    refusal: body.filters.refusal.map((s, i) => compileRegex(s, `filters.refusal[${i}]`)),
    negative: compileRegex(body.filters.negative, 'filters.negative'),
    verify: body.templates.verify ?? DEFAULT_VERIFY_TEMPLATE,
  };
}

/** Canonical JSON (sorted keys) hashed: two bodies with the same content are the same version. */
export function promptSetHash(body: PromptSetBody): string {
  return canonicalHash(body);
}

/** Replaces `{name}` placeholders; unknown placeholders are left as written. */
export function fillTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (Object.hasOwn(vars, k) ? vars[k]! : m));
}

export interface SkippedQuestion {
  questionId: string;
  reason: string;
}

export interface Selection {
  questions: CompiledQuestion[];
  skipped: SkippedQuestion[];
}

/**
 * The dynamic pool: the next `n` questions in pool order that were not asked yet and whose attribute
 * is not already settled by `known` (the caption and the answers kept so far). Each question passed
 * over because it is settled is reported with the words that settled it.
 */
export function selectQuestions(
  set: CompiledPromptSet,
  known: string,
  asked: ReadonlySet<string>,
  n: number,
): Selection {
  const questions: CompiledQuestion[] = [];
  const skipped: SkippedQuestion[] = [];
  if (n <= 0) return { questions, skipped };
  for (const q of set.pool) {
    if (questions.length >= n) break;
    if (asked.has(q.id)) continue;
    const hit = settledBy(q, known);
    if (hit !== null) skipped.push({ questionId: q.id, reason: `settled: "${hit}"` });
    else questions.push(q);
  }
  return { questions, skipped };
}

/** The text that settles `q` in `known`, or null when nothing does. */
export function settledBy(q: CompiledQuestion, known: string): string | null {
  for (const re of q.settled) {
    const m = re.exec(known);
    if (m) return m[0];
  }
  return null;
}
