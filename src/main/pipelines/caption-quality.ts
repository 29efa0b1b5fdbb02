// Caption quality against known attributes: attribute recall (how many true attributes a caption
// states) and precision (how many stated attributes are true), micro-averaged over captions. The
// attribute extraction is passed in, so the same scoring works for any labelled world; the synthetic
// world's extractor is in src/main/synth/caption-score.ts.

/** One attribute statement: a field and its value ("topColour" = "red"). */
export interface AttributePair {
  field: string;
  value: string;
}

export interface QualityTotals {
  captions: number;
  /** True attributes over all captions (the recall denominator). */
  truth: number;
  /** Attributes the captions state (the precision denominator). */
  stated: number;
  /** Stated attributes that are true. */
  correct: number;
  /** correct / truth, 0..1. */
  recall: number;
  /** correct / stated, 0..1 (1 when nothing is stated). */
  precision: number;
  /** Stated attributes per caption. */
  perCaption: number;
}

const key = (p: AttributePair): string => `${p.field}=${p.value}`;

/** Scores one caption's statements against the truth. Repeated statements count once. */
export function scorePairs(
  stated: readonly AttributePair[],
  truth: readonly AttributePair[],
): { truth: number; stated: number; correct: number } {
  const t = new Set(truth.map(key));
  const s = new Set(stated.map(key));
  let correct = 0;
  for (const k of s) if (t.has(k)) correct++;
  return { truth: t.size, stated: s.size, correct };
}

export function totalQuality(
  scores: readonly { truth: number; stated: number; correct: number }[],
): QualityTotals {
  const sum = scores.reduce(
    (a, s) => ({ truth: a.truth + s.truth, stated: a.stated + s.stated, correct: a.correct + s.correct }),
    { truth: 0, stated: 0, correct: 0 },
  );
  return {
    captions: scores.length,
    ...sum,
    recall: sum.truth === 0 ? 0 : sum.correct / sum.truth,
    precision: sum.stated === 0 ? 1 : sum.correct / sum.stated,
    perCaption: scores.length === 0 ? 0 : sum.stated / scores.length,
  };
}
