// The review queue's SQL: a filter as FROM/WHERE over current captions (the last row of each edit chain)
// and the queue's orders. Image order walks the (is_current, image_id, id) index; the score orders walk the
// (model_id, score) index of caption_scores and then the image index for the unscored tail, so each step
// of next / previous is a LIMIT 1 on an index. The walk itself (which range comes next) is in
// src/main/review/queue.ts.
import type { ReviewFilter, ReviewOrder, ReviewQueueEntry } from '#shared/review/types';
import { asCaptionId, type CaptionId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb } from '../types';
import { pushImageScope } from './images';
import { hasTable, scoringModel, type CaptionRowFull } from './review';

/** Words in a caption, as SQL: spaces + 1 over the trimmed text (captions are single-spaced on the way in). */
export const WORDS_SQL = `(CASE WHEN trim(c.text) = '' THEN 0 ELSE length(trim(c.text)) - length(replace(trim(c.text), ' ', '')) + 1 END)`;

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (m) => `\\${m}`);

export interface FilterSql {
  /** FROM … JOIN …, with the caption as `c`, image `i`, identity `p` and score `s`. */
  from: string;
  /**
   * The same FROM for scored captions only, driven by the (model_id, score) index of the scoring model's
   * scores (CROSS JOIN fixes the loop order); null without a scoring model.
   */
  scoredFrom: string | null;
  where: string;
  params: unknown[];
}

/** The filter as SQL. The score join uses the workspace's scoring model (none: every score is null). */
export function filterSql(db: ReadableDb, f: ReviewFilter, extra: { unreviewed?: boolean } = {}): FilterSql {
  const parts = ['c.is_current = 1'];
  const params: unknown[] = [];
  const model = scoringModel(db);
  const statuses = extra.unreviewed ? ['pending'] : f.statuses;
  if (statuses && statuses.length > 0) {
    parts.push(`c.status IN (${statuses.map(() => '?').join(',')})`);
    params.push(...statuses);
  }
  if (extra.unreviewed && f.statuses && f.statuses.length > 0 && !f.statuses.includes('pending'))
    parts.push('0');
  if (f.sources && f.sources.length > 0) {
    parts.push(`c.source IN (${f.sources.map(() => '?').join(',')})`);
    params.push(...f.sources);
  }
  pushImageScope(f, parts, params);
  if (f.scoreMin !== undefined) {
    parts.push('s.score >= ?');
    params.push(f.scoreMin);
  }
  if (f.scoreMax !== undefined) {
    parts.push('s.score <= ?');
    params.push(f.scoreMax);
  }
  if (f.minWords !== undefined) {
    parts.push(`${WORDS_SQL} >= ?`);
    params.push(f.minWords);
  }
  if (f.maxWords !== undefined) {
    parts.push(`${WORDS_SQL} <= ?`);
    params.push(f.maxWords);
  }
  if (f.text !== undefined && f.text.trim() !== '') {
    parts.push(`c.text LIKE ? ESCAPE '\\'`);
    params.push(`%${escapeLike(f.text.trim())}%`);
  }
  if (f.hasDroppedRounds) {
    // Dropped rounds belong to the MTG run that wrote the chain's first row.
    if (hasTable(db, 'qa_rounds') && hasTable(db, 'mtg_runs')) {
      parts.push(
        `EXISTS (SELECT 1 FROM mtg_runs r JOIN qa_rounds q ON q.run_id = r.id
                 WHERE r.caption_id = coalesce(c.derived_from, c.id) AND q.kept = 0)`,
      );
    } else parts.push('0');
  }
  const scoreJoin = model
    ? `LEFT JOIN caption_scores s ON s.caption_id = c.id AND s.model_id = ${Number(model.id)}`
    : 'LEFT JOIN (SELECT NULL AS score) s ON 1';
  return {
    from: `FROM captions c JOIN images i ON i.id = c.image_id LEFT JOIN identities p ON p.id = i.identity_id ${scoreJoin}`,
    scoredFrom: model
      ? `FROM caption_scores s CROSS JOIN captions c ON c.id = s.caption_id AND s.model_id = ${Number(model.id)}
         JOIN images i ON i.id = c.image_id LEFT JOIN identities p ON p.id = i.identity_id`
      : null,
    where: `WHERE ${parts.join(' AND ')}`,
    params,
  };
}

export interface EntryRow extends CaptionRowFull {
  dataset_id: number;
  person_id: string | null;
  split: ReviewQueueEntry['split'];
  score: number | null;
}

const QUEUE_SELECT = `SELECT c.*, i.dataset_id, i.split, p.person_id, s.score`;

/**
 * The queue order as SQL. Without a scoring model every score is null, so the score orders are the
 * unscored tail alone: image order.
 */
export function orderSql(order: ReviewOrder | undefined): string {
  switch (order ?? 'image') {
    case 'image':
      return 'c.image_id, c.id';
    case 'score-asc':
      return 's.score IS NULL, s.score, c.image_id, c.id';
    case 'score-desc':
      return 's.score IS NULL, s.score DESC, c.image_id, c.id';
  }
}

export function countQueueRows(db: ReadableDb, f: ReviewFilter): number {
  const q = filterSql(db, f);
  return (stmt(db, `SELECT count(*) AS n ${q.from} ${q.where}`).get(...q.params) as { n: number }).n;
}

/** One page of the queue in the filter's order. */
export function listQueueRows(db: ReadableDb, f: ReviewFilter, offset: number, limit: number): EntryRow[] {
  const q = filterSql(db, f);
  return stmt(db, `${QUEUE_SELECT} ${q.from} ${q.where} ORDER BY ${orderSql(f.order)} LIMIT ? OFFSET ?`).all(
    ...q.params,
    limit,
    offset,
  ) as EntryRow[];
}

/** Every caption id matching the filter, in queue order (bulk actions). */
export function listQueueIdRows(
  db: ReadableDb,
  f: ReviewFilter,
): { id: CaptionId; version: number; status: string }[] {
  const q = filterSql(db, f);
  return (
    stmt(db, `SELECT c.id, c.version, c.status ${q.from} ${q.where} ORDER BY ${orderSql(f.order)}`).all(
      ...q.params,
    ) as { id: number; version: number; status: string }[]
  ).map((r) => ({ ...r, id: asCaptionId(r.id) }));
}

/** The first caption id of the filter's rows (FROM `from`, narrowed by `extra`) in `orderBy`. */
export function firstQueueId(
  db: ReadableDb,
  q: FilterSql,
  from: string,
  extra: string,
  extraParams: readonly unknown[],
  orderBy: string,
): number | null {
  const row = stmt(db, `SELECT c.id ${from} ${q.where}${extra} ORDER BY ${orderBy} LIMIT 1`).get(
    ...q.params,
    ...extraParams,
  ) as { id: number } | undefined;
  return row ? row.id : null;
}

/**
 * The first score value of the scored rows (`q.scoredFrom`) past `after` (from the end of the range when
 * undefined), walking up (ascending) or down.
 */
export function nextQueueScore(
  db: ReadableDb,
  q: FilterSql & { scoredFrom: string },
  after: number | undefined,
  up: boolean,
): number | null {
  const where = after === undefined ? '' : up ? ' AND s.score > ?' : ' AND s.score < ?';
  const row = stmt(
    db,
    `SELECT s.score ${q.scoredFrom} ${q.where}${where} ORDER BY s.score${up ? '' : ' DESC'} LIMIT 1`,
  ).get(...q.params, ...(after === undefined ? [] : [after])) as { score: number } | undefined;
  return row ? row.score : null;
}
