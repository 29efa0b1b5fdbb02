// The renderer reads the review filter it kept in localStorage with a zod-free parser
// (shared/review/filter.ts); it must accept and refuse exactly what the contract's schema does.
import { describe, expect, it } from 'vitest';
import { parseReviewFilter } from '#shared/review/filter';
import { reviewFilterSchema } from '#shared/review/contract';

const GOOD: unknown[] = [
  {},
  { statuses: ['pending'], sources: ['mtg', 'edited'] },
  { statuses: ['pending', 'accepted', 'rejected', 'flagged'], sources: ['human', 'mtg', 'edited'] },
  { statuses: [] },
  { datasetId: 3, split: 'none', personId: 'p0001' },
  { split: 'test', scoreMin: -1, scoreMax: 1, minWords: 0, maxWords: 10_000 },
  { scoreMin: 0.25, text: '', hasDroppedRounds: false, order: 'score-asc' },
  { text: 'x'.repeat(500), personId: 'y'.repeat(200), order: 'image' },
  // Unknown keys are dropped, not refused.
  { statuses: ['flagged'], page: 4, theme: 'dark' },
];

const BAD: unknown[] = [
  null,
  'pending',
  42,
  [],
  [{ statuses: ['pending'] }],
  { statuses: 'pending' },
  { statuses: ['pending', 'done'] },
  { statuses: ['pending', 'pending', 'pending', 'pending', 'pending'] },
  { sources: ['human', 'mtg', 'edited', 'human'] },
  { sources: ['robot'] },
  { datasetId: 0 },
  { datasetId: -1 },
  { datasetId: 1.5 },
  { datasetId: '3' },
  { datasetId: 2 ** 60 },
  { split: 'validation' },
  { personId: '' },
  { personId: 'y'.repeat(201) },
  { scoreMin: -1.01 },
  { scoreMax: 2 },
  { scoreMin: '0.2' },
  { minWords: -1 },
  { maxWords: 10_001 },
  { minWords: 2.5 },
  { text: 'x'.repeat(501) },
  { text: 3 },
  { hasDroppedRounds: 'yes' },
  { order: 'random' },
  { statuses: ['pending'], order: null },
];

describe('parseReviewFilter (the renderer’s stored filter, without zod)', () => {
  it('keeps a good stored filter, as the contract parses it', () => {
    for (const value of GOOD) {
      const schema = reviewFilterSchema.safeParse(value);
      expect(schema.success, JSON.stringify(value)).toBe(true);
      expect(parseReviewFilter(value), JSON.stringify(value)).toEqual(schema.data);
    }
    expect(parseReviewFilter({ statuses: ['flagged'], page: 4 })).toStrictEqual({ statuses: ['flagged'] });
  });

  it('refuses a bad one, where the contract does too', () => {
    for (const value of BAD) {
      expect(reviewFilterSchema.safeParse(value).success, JSON.stringify(value)).toBe(false);
      expect(parseReviewFilter(value), JSON.stringify(value)).toBeNull();
    }
  });

  it('reads what the desk wrote with JSON.stringify', () => {
    const kept = { statuses: ['pending'], sources: ['mtg'], datasetId: 2, order: 'score-desc' };
    expect(parseReviewFilter(JSON.parse(JSON.stringify(kept)))).toEqual(kept);
  });
});
