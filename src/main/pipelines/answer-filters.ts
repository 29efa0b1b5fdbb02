// MTG's answer filters (paper §3.3: "discards Q&A pairs that exhibit low semantic relevance or redundant
// information"). Relevance: answers that say the thing cannot be seen, refusals, negative answers (the
// thing asked about is absent, so there is nothing to describe) and empty answers. Redundancy: an answer
// whose content words are all already stated by the caption or by a pair kept before it. Every dropped
// pair carries its reason, so the reviewer can see why a detail did not reach the caption.
import type { DropReason } from '#shared/mtg/types';
import { settledBy, type CompiledPromptSet, type CompiledQuestion } from './question-pool';

export type Verdict = { kept: true; fact: string } | { kept: false; reason: DropReason; detail: string };

// Words that carry no attribute on their own; "no"/"not" stay out of this list (negation is meaning).
const STOPWORDS = new Set(
  (
    'a an the this that these those is are was were be been being it its they them their he she his her him ' +
    'person persons people individual wears wearing wear worn has have having with in on of at to and or ' +
    'appears appear seems seem looks look like likely probably yes there some kind type colour color ' +
    'garment garments clothing clothes upper lower body part item which who what image picture photo ' +
    'shown visible can see seen i think would say'
  ).split(' '),
);

/** Lower case, no punctuation except inner hyphens, single spaces. */
export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/gray/g, 'grey')
    .replace(/colored|coloured/g, '')
    .replace(/[^a-z0-9\s-]+/g, ' ')
    .replace(/(^|\s)-+|-+(\s|$)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The attribute-bearing words of a text, with simple plural folding ("shoes" and "shoe" are one). */
export function contentWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of normalise(text).split(' ')) {
    if (w === '' || STOPWORDS.has(w)) continue;
    out.add(fold(w));
  }
  return out;
}

const fold = (w: string): string =>
  w.length > 4 && w.endsWith('es') && !w.endsWith('shoes')
    ? w.slice(0, -2)
    : w.length > 3 && w.endsWith('s') && !w.endsWith('ss')
      ? w.slice(0, -1)
      : w;

/** Turns an answer into a stand-alone phrase: "Yes, a blue backpack." → "a blue backpack"; "Red." + shoes → "red shoes". */
export function answerToFact(q: CompiledQuestion, answer: string): string {
  let a = answer
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/[.!]+$/, '');
  if (q.kind === 'yesno') return q.yes ?? a;
  a = a
    .replace(/^(yes|yeah|yep)\b[,.:;]?\s*/i, '')
    .replace(/^(the person (is|has)|he (is|has)|she (is|has)|they (are|have))\s+/i, '');
  if (a === '') return a;
  if (q.subject) {
    const words = contentWords(a);
    if (!words.has(fold(q.subject.toLowerCase())) && words.size <= 2 && !/\s(with|and)\s/i.test(a))
      a = `${a} ${q.subject}`;
  }
  return a;
}

/** Relevance alone: would this answer be worth keeping if nothing else were known? */
export function judgeRelevance(set: CompiledPromptSet, q: CompiledQuestion, answer: string): Verdict {
  const text = answer.trim();
  if (text === '') return { kept: false, reason: 'empty', detail: 'the model gave no answer' };
  for (const re of set.refusal)
    if (re.test(text))
      return { kept: false, reason: 'refusal', detail: `the model declined ("${clip(text)}")` };
  for (const re of set.notVisible) {
    if (re.test(text))
      return { kept: false, reason: 'not_visible', detail: `cannot be seen in the image ("${clip(text)}")` };
  }
  if (set.negative.test(text))
    return { kept: false, reason: 'negative', detail: `absent ("${clip(text)}"): nothing to describe` };
  const fact = answerToFact(q, text);
  if (contentWords(fact).size === 0)
    return {
      kept: false,
      reason: 'empty',
      detail: `the answer says nothing about ${q.attribute} ("${clip(text)}")`,
    };
  return { kept: true, fact };
}

export interface PairInput {
  question: CompiledQuestion;
  answer: string;
}

// Nouns a bare answer is completed with that name a body region rather than a thing ("red" → "red
// top"): they add no information of their own.
const GENERIC = new Set(['top', 'bottom', 'bottoms']);

/**
 * Filters a wave of answers in question order. `known` is what the caption and the pairs kept in
 * earlier waves already state; a kept pair becomes known for the pairs after it. An answer is
 * redundant when the same fact was kept, when the known text already contains it as a phrase, or
 * when its question's attribute is now settled and the answer adds no word that is not known.
 */
export function filterAnswers(set: CompiledPromptSet, known: string, pairs: readonly PairInput[]): Verdict[] {
  let knownText = known;
  let knownWords = contentWords(known);
  const keptFacts = new Set<string>();
  return pairs.map(({ question, answer }) => {
    const v = judgeRelevance(set, question, answer);
    if (!v.kept) return v;
    const norm = normalise(v.fact);
    if (keptFacts.has(norm))
      return {
        kept: false,
        reason: 'redundant',
        detail: `the same answer was already kept ("${clip(v.fact)}")`,
      };
    if (` ${normalise(knownText)} `.includes(` ${norm} `))
      return { kept: false, reason: 'redundant', detail: `already stated: "${clip(v.fact)}"` };
    const words = [...contentWords(v.fact)].filter((w) => !GENERIC.has(w));
    const settled = settledBy(question, knownText);
    if (settled !== null && words.every((w) => knownWords.has(w))) {
      return { kept: false, reason: 'redundant', detail: `already stated: "${settled}"` };
    }
    keptFacts.add(norm);
    knownText = `${knownText}\n${v.fact}`;
    knownWords = new Set([...knownWords, ...contentWords(v.fact)]);
    return v;
  });
}

const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 80)}…` : s);
