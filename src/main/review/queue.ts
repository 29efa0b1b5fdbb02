// The review queue: current captions (the last row of each edit chain) matching a filter, in the filter's
// order, and the walk that finds the next / previous caption. The SQL is in db/repos/review-queue.ts.
import type { ReviewFilter, ReviewQueueEntry, ReviewQueuePage } from '#shared/review/types';
import { asCaptionId, asDatasetId, asImageId, type CaptionId } from '#shared/ids';
import { getCaptionScore, scoringModel } from '../db/repos/review';
import {
  countQueueRows,
  filterSql,
  firstQueueId,
  listQueueIdRows,
  listQueueRows,
  nextQueueScore,
  type EntryRow,
} from '../db/repos/review-queue';
import type { ReadableDb } from '../db/types';

export const countWords = (text: string): number => {
  const t = text.trim();
  return t === '' ? 0 : t.split(' ').length;
};

const toEntry = (r: EntryRow): ReviewQueueEntry => ({
  captionId: asCaptionId(r.id),
  imageId: asImageId(r.image_id),
  datasetId: asDatasetId(r.dataset_id),
  personId: r.person_id,
  split: r.split,
  source: r.source,
  status: r.status,
  text: r.text,
  words: countWords(r.text),
  score: r.score,
  version: r.version,
});

export const countQueue = (db: ReadableDb, f: ReviewFilter): number => countQueueRows(db, f);

export function listQueue(db: ReadableDb, f: ReviewFilter, offset: number, limit: number): ReviewQueuePage {
  const total = countQueue(db, f);
  const rows = limit === 0 ? [] : listQueueRows(db, f, offset, limit);
  return { items: rows.map(toEntry), total };
}

/** Every caption id matching the filter, in queue order (bulk actions). */
export const listQueueIds = (
  db: ReadableDb,
  f: ReviewFilter,
): { id: CaptionId; version: number; status: string }[] => listQueueIdRows(db, f);

/**
 * The caption after (or before) `from` in queue order. `from` need not match the filter any more (it was
 * just accepted out of a "pending" queue): its position is where it sits in the filter's order (its
 * score now, then its image and id).
 */
export function neighborId(
  db: ReadableDb,
  f: ReviewFilter,
  from: { imageId: number; id: number } | null,
  direction: 'next' | 'prev',
  unreviewed: boolean,
): CaptionId | null {
  const q = filterSql(db, f, { unreviewed });
  const order = f.order ?? 'image';
  const model = order === 'image' ? undefined : scoringModel(db);
  const first = (extra: string, extraParams: unknown[], orderBy: string, from = q.from): number | null =>
    firstQueueId(db, q, from, extra, extraParams, orderBy);
  const fwd = direction === 'next';
  const imageOrder = fwd ? 'c.image_id, c.id' : 'c.image_id DESC, c.id DESC';
  const pastInImageOrder = fwd ? ' AND (c.image_id, c.id) > (?, ?)' : ' AND (c.image_id, c.id) < (?, ?)';
  /** The first caption of `where` in image order (backwards for prev), after `at` when given. */
  const inImageOrder = (
    where: string,
    params: unknown[],
    at: { imageId: number; id: number } | null,
    from = q.from,
  ): number | null =>
    at
      ? first(`${where}${pastInImageOrder}`, [...params, at.imageId, at.id], imageOrder, from)
      : first(where, params, imageOrder, from);

  let id: number | null;
  if (!model || q.scoredFrom === null) {
    // Image order, or a score order with no scoring model (every caption is in the unscored tail).
    id = inImageOrder('', [], from);
  } else {
    // Score order as a walk of three index ranges: the rest of `from`'s tie (same score, by image and
    // id), the following scores (the next score value first, by the (model_id, score) index, then the
    // first of its tie), and the unscored tail in image order. Each step is a LIMIT 1 on an index.
    const asc = order === 'score-asc';
    // Moving towards higher scores: next in ascending order, or prev in descending order.
    const up = asc === fwd;
    const scoreFrom = from ? (getCaptionScore(db, asCaptionId(from.id), model.id) ?? null) : null;
    const scoredFrom = q.scoredFrom;
    const tie = (score: number, at: { imageId: number; id: number } | null): number | null =>
      inImageOrder(' AND s.score = ?', [score], at, scoredFrom);
    /** The first score value after `after` (from the end of the scored range when undefined) in walk order. */
    const nextScore = (after: number | undefined): number | null =>
      nextQueueScore(db, { ...q, scoredFrom }, after, up);
    const scored = (after: number | undefined): number | null => {
      const score = nextScore(after);
      return score === null ? null : tie(score, null);
    };
    const tail = (at: { imageId: number; id: number } | null): number | null =>
      inImageOrder(' AND s.score IS NULL', [], at);
    if (fwd) {
      if (!from) id = scored(undefined) ?? tail(null);
      else if (scoreFrom === null) id = tail(from);
      else id = tie(scoreFrom, from) ?? scored(scoreFrom) ?? tail(null);
    } else {
      if (!from) id = tail(null) ?? scored(undefined);
      else if (scoreFrom === null) id = tail(from) ?? scored(undefined);
      else id = tie(scoreFrom, from) ?? scored(scoreFrom);
    }
  }
  return id === null ? null : asCaptionId(id);
}
