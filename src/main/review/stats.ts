// The review dashboard's numbers: counts by status and source, throughput, caption lengths, attribute
// coverage and the CLIP score distribution — all over current captions (the last row of each chain).
import type { CaptionSource, CaptionStatus } from '#shared/library/types';
import type { HistogramBin, ReviewStats } from '#shared/review/types';
import { CAPTION_SOURCES, CAPTION_STATUSES } from '#shared/library/types';
import type { DatasetId } from '#shared/ids';
import { scoringModel } from '../db/repos/review';
import {
  countCurrentByStatusAndSource,
  countDecisionsPerHour,
  listCurrentCaptionWords,
  listCurrentScores,
  listDecisionTimes,
} from '../db/repos/review-stats';
import type { ReadableDb } from '../db/types';

const HOUR = 3_600_000;
/** A pause longer than this is a break, not review time, for the items-per-hour figure. */
const IDLE_GAP_MS = 30 * 60_000;

/**
 * Attribute groups of the MTG question pool (ALGORITHMS.md §1) and words that show a caption covers
 * them. Word-boundary matches; plural and -ed forms are listed where they occur in captions.
 */
export const ATTRIBUTE_WORDS: Record<string, readonly string[]> = {
  gender: ['man', 'woman', 'male', 'female', 'boy', 'girl', 'gentleman', 'lady', 'he', 'she'],
  age: ['young', 'old', 'elderly', 'middle-aged', 'child', 'teenager', 'adult', 'aged'],
  hair: ['hair', 'haired', 'bald', 'ponytail', 'bun', 'braid', 'braids'],
  upper: [
    'shirt',
    't-shirt',
    'tshirt',
    'jacket',
    'coat',
    'top',
    'sweater',
    'hoodie',
    'blouse',
    'vest',
    'jumper',
    'cardigan',
    'dress',
  ],
  lower: ['pants', 'trousers', 'jeans', 'shorts', 'skirt', 'leggings', 'dress'],
  shoes: ['shoes', 'shoe', 'sneakers', 'boots', 'sandals', 'heels', 'slippers', 'footwear'],
  bag: ['bag', 'backpack', 'handbag', 'purse', 'satchel', 'suitcase', 'tote'],
  headwear: ['hat', 'cap', 'helmet', 'hood', 'beanie'],
  glasses: ['glasses', 'sunglasses', 'spectacles'],
  action: ['walking', 'standing', 'riding', 'running', 'sitting', 'holding', 'carrying', 'talking'],
};

const attributeMatchers = Object.entries(ATTRIBUTE_WORDS).map(
  ([attribute, words]) =>
    [
      attribute,
      new RegExp(`(^|[^a-z-])(${words.map((w) => w.replace(/-/g, '\\-')).join('|')})([^a-z-]|$)`, 'i'),
    ] as const,
);

export function histogram(values: readonly number[], from: number, to: number, bins: number): HistogramBin[] {
  const width = (to - from) / bins;
  const out: HistogramBin[] = Array.from({ length: bins }, (_, k) => ({
    from: from + k * width,
    to: from + (k + 1) * width,
    count: 0,
  }));
  for (const v of values) {
    const k = Math.min(bins - 1, Math.max(0, Math.floor((v - from) / width)));
    out[k]!.count++;
  }
  return out;
}

export function getReviewStats(db: ReadableDb, datasetId?: DatasetId, now = Date.now()): ReviewStats {
  const byStatus = Object.fromEntries(CAPTION_STATUSES.map((s) => [s, 0])) as Record<CaptionStatus, number>;
  const bySource = Object.fromEntries(CAPTION_SOURCES.map((s) => [s, 0])) as Record<CaptionSource, number>;
  let total = 0;
  for (const r of countCurrentByStatusAndSource(db, datasetId)) {
    byStatus[r.status] += r.n;
    bySource[r.source] += r.n;
    total += r.n;
  }

  // Throughput: decisions and edits (not undos, not undone), per clock hour over the last day.
  const since = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const counts = new Map<number, number>();
  for (const r of countDecisionsPerHour(db, datasetId, since)) counts.set(r.h, r.n);
  const perHour = Array.from({ length: 24 }, (_, k) => {
    const hourStart = since + k * HOUR;
    return { hourStart, count: counts.get(hourStart) ?? 0 };
  });
  // Items per hour of actual work: bulk actions count once (they are one decision), breaks are left out.
  const times = listDecisionTimes(db, datasetId);
  let worked = 0;
  let steps = 0;
  for (let k = 1; k < times.length; k++) {
    const gap = times[k]! - times[k - 1]!;
    if (gap > IDLE_GAP_MS) continue;
    worked += gap;
    steps++;
  }
  const itemsPerHour = steps > 0 && worked > 0 ? (steps / worked) * HOUR : null;

  const rows = listCurrentCaptionWords(db, datasetId);
  const maxWords = rows.reduce((m, r) => Math.max(m, r.words), 10);
  const top = Math.ceil(maxWords / 10) * 10;
  const lengthHistogram = histogram(
    rows.map((r) => r.words),
    0,
    top,
    Math.min(20, top / 5),
  );
  const considered = rows.filter((r) => r.status !== 'rejected');
  const attributeCoverage = attributeMatchers.map(([attribute, re]) => {
    let count = 0;
    for (const r of considered) if (re.test(r.text)) count++;
    return { attribute, count, share: considered.length === 0 ? 0 : count / considered.length };
  });

  let score: ReviewStats['score'] = null;
  const model = scoringModel(db);
  if (model) {
    const scores = listCurrentScores(db, model.id, datasetId);
    if (scores.length > 0) {
      const min = scores.reduce((m, v) => Math.min(m, v), Infinity);
      const max = scores.reduce((m, v) => Math.max(m, v), -Infinity);
      const lo = Math.floor(min * 20) / 20;
      const hi = Math.max(lo + 0.05, Math.ceil(max * 20) / 20);
      score = {
        model: model.name,
        histogram: histogram(scores, lo, hi, Math.max(1, Math.round((hi - lo) / 0.05))),
        scored: scores.length,
      };
    }
  }
  return { total, byStatus, bySource, perHour, itemsPerHour, lengthHistogram, attributeCoverage, score };
}
