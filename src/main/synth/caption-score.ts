// Scoring captions of the synthetic world: what a caption states is read with the oracle's English
// parser (the same reading that decides the oracle's answers, so a phrase counts exactly when the
// world would understand it); the truth is attributes.json. Absences ("no bag") are left out of both
// sides, as datasets' captions leave them out, and so is the unmarked age "adult".
import { factsOf } from './oracle/facts';
import { parseClaims } from './oracle/language';
import type { PersonAttributes } from '../pipelines/attributes';
import { scorePairs, type AttributePair } from '../pipelines/caption-quality';

export function truthPairs(a: PersonAttributes): AttributePair[] {
  return Object.entries(factsOf(a))
    .filter(
      ([field, value]) => value !== undefined && value !== 'no' && !(field === 'age' && value === 'adult'),
    )
    .map(([field, value]) => ({ field, value: value as string }));
}

export function statedPairs(caption: string): AttributePair[] {
  return parseClaims(caption)
    .filter((c) => !c.negated && c.value !== 'no' && !(c.field === 'age' && c.value === 'adult'))
    .map((c) => ({ field: c.field, value: c.value }));
}

export function scoreCaption(
  caption: string,
  a: PersonAttributes,
): { truth: number; stated: number; correct: number } {
  return scorePairs(statedPairs(caption), truthPairs(a));
}
