// The MTI prompts (ALGORITHMS.md §3) and how their answers are read. Three calls per round at most:
// the anchor check (the reference prompt, word for word), all diagnostic questions about the anchor in
// ONE call (numbered, answered one numbered line each), and one aggregation call. The oracle MLLM of the
// synthetic world (src/main/synth/oracle/) recognises these exact shapes, so change them together.

export const MTI_PROMPTS = {
  /** The reference anchor prompt. `{query}` is the query without its final full stop. */
  anchor: 'Can this text accurately describe the image? Text: {query}. Answer Yes or No.',
  /** T_vqa({c_i}, v̄): every question at once, so a round costs one VQA latency, not one per question. */
  questions:
    'Answer each question about the person in the image.\n\n{questions}\n\n' +
    'Reply with one line per question, numbered the same way, each answer in a few words. ' +
    'If something cannot be seen in the image, answer "cannot tell".',
  /** T_aggr(r, q). */
  aggregate:
    'A user is searching for a person with this description: {query}\n\n' +
    'Questions about the person and their answers:\n{answers}\n\n' +
    'Combine the description and the answers into one concise description of the person, in one or two sentences. ' +
    'Keep everything the original description says, add only what the answers state, and leave out answers that say ' +
    'something cannot be seen. Reply with the description only.',
  answerLine: 'Q: {question}\nA: {answer}',
} as const;

export type YesNo = 'yes' | 'no' | 'unclear';

const fillTemplate = (template: string, vars: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (m, k: string) => (Object.hasOwn(vars, k) ? vars[k]! : m));

export function anchorPrompt(query: string): string {
  return fillTemplate(MTI_PROMPTS.anchor, { query: query.trim().replace(/[\s.]+$/, '') });
}

export function questionsPrompt(questions: readonly string[]): string {
  return fillTemplate(MTI_PROMPTS.questions, {
    questions: questions.map((q, i) => `${i + 1}. ${q}`).join('\n'),
  });
}

export function aggregatePrompt(
  query: string,
  answers: readonly { question: string; answer: string }[],
): string {
  const lines = answers
    .map((a) => fillTemplate(MTI_PROMPTS.answerLine, { question: a.question, answer: a.answer }))
    .join('\n');
  return fillTemplate(MTI_PROMPTS.aggregate, { query: query.trim(), answers: lines });
}

const YES = new Set(['yes', 'yeah', 'yep', 'y', 'true', 'correct', 'affirmative']);
const NO = new Set(['no', 'nope', 'n', 'false', 'incorrect', 'negative']);

/**
 * The verdict in an anchor answer, read from its FIRST word only: "Yes, the person wears red" is yes,
 * "No." is no, and "Her eyes are …" or "I cannot say yes or no" are unclear (a substring test would call
 * both a yes). A leading "Answer:" label and markdown/quote marks are skipped.
 */
export function parseYesNo(text: string): YesNo {
  const cleaned = text
    .trim()
    .replace(/^[\s*_"'`«»“”‘’>#-]+/, '')
    .replace(/^(?:final\s+)?answer\s*[:：-]\s*/i, '')
    .replace(/^[\s*_"'`«»“”‘’]+/, '');
  const first = /^[A-Za-z]+/.exec(cleaned)?.[0]?.toLowerCase();
  if (first === undefined) return 'unclear';
  if (YES.has(first)) return 'yes';
  if (NO.has(first)) return 'no';
  return 'unclear';
}

/**
 * The answers of a numbered multi-question reply, aligned with the questions (null where the model gave
 * no line for a question). Accepts "1. red", "1) red", "1: red", "**1.** red" and "Q1: red"; a reply to a
 * single question that is not numbered is taken whole.
 */
export function parseNumberedAnswers(text: string, count: number): (string | null)[] {
  const out: (string | null)[] = Array.from({ length: count }, () => null);
  let numbered = 0;
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*[*_]*(?:q|question|a|answer)?\s*(\d{1,3})\s*[*_]*\s*[.):：-]\s*[*_]*\s*(.*)$/i.exec(raw);
    if (!m) continue;
    const n = Number(m[1]) - 1;
    const answer = (m[2] ?? '').trim();
    if (n >= 0 && n < count && out[n] === null && answer !== '') {
      out[n] = answer;
      numbered++;
    }
  }
  if (numbered === 0 && count === 1 && text.trim() !== '') out[0] = text.trim();
  return out;
}

/** The aggregation reply as a query: the first paragraph, without a "Description:" label or quotes. */
export function parseAggregate(text: string): string {
  const first = text.trim().split(/\n\s*\n/)[0] ?? '';
  return first
    .replace(/^\s*(?:refined\s+)?(?:description|query)\s*[:：]\s*/i, '')
    .replace(/^["“'](.*)["”']$/s, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}
