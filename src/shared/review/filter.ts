// The review queue's filter read back from where the renderer kept it (localStorage), without zod: the
// renderer bundle carries no schema library. It accepts exactly what the contract's `reviewFilterSchema`
// accepts (test/unit/review-filter.test.ts holds the two side by side) and, like it, drops unknown keys.
import { CAPTION_SOURCES, CAPTION_STATUSES, SPLITS } from '../library/types';
import { REVIEW_ORDERS, type ReviewFilter } from './types';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min: number, max: number): v is number =>
  isNumber(v) && Number.isInteger(v) && v >= min && v <= max;
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);
const listOf =
  <T extends string>(values: readonly T[], max: number) =>
  (v: unknown): v is T[] =>
    Array.isArray(v) && v.length <= max && v.every(oneOf(values));
const text =
  (min: number, max: number) =>
  (v: unknown): v is string =>
    typeof v === 'string' && v.length >= min && v.length <= max;

/** Each field's check; a field may also be absent (or undefined). */
const FIELDS: { [K in keyof Required<ReviewFilter>]: (v: unknown) => boolean } = {
  statuses: listOf(CAPTION_STATUSES, 4),
  sources: listOf(CAPTION_SOURCES, 3),
  datasetId: (v) => isInt(v, 1, Number.MAX_SAFE_INTEGER),
  split: oneOf([...SPLITS, 'none']),
  personId: text(1, 200),
  scoreMin: (v) => isNumber(v) && v >= -1 && v <= 1,
  scoreMax: (v) => isNumber(v) && v >= -1 && v <= 1,
  minWords: (v) => isInt(v, 0, 10_000),
  maxWords: (v) => isInt(v, 0, 10_000),
  text: text(0, 500),
  hasDroppedRounds: (v) => typeof v === 'boolean',
  order: oneOf(REVIEW_ORDERS),
};

/** The filter in `value` with unknown keys dropped, or null when any known field is not valid. */
export function parseReviewFilter(value: unknown): ReviewFilter | null {
  if (!isObject(value)) return null;
  const filter: Record<string, unknown> = {};
  for (const [key, valid] of Object.entries(FIELDS)) {
    const v = value[key];
    if (v === undefined) continue;
    if (!valid(v)) return null;
    filter[key] = Array.isArray(v) ? [...v] : v;
  }
  return filter as ReviewFilter;
}
