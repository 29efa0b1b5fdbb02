// The review queue: current captions (the last row of each edit chain) matching a filter, in image
// order. Paging and next/previous both walk the (is_current, image_id, id) index, so moving through a
// 100,000-caption workspace costs an index step, not a scan.
import type { ReviewFilter, ReviewQueueEntry, ReviewQueuePage } from '../../shared/domain';
import { asCaptionId, asDatasetId, asImageId, type CaptionId } from '../../shared/ids';
import { pushImageScope } from '../db/repos/images';
import { hasTable, scoringModel, type CaptionRowFull } from '../db/repos/review';
import type { Db } from '../db/types';

/** Words in a caption, as SQL: spaces + 1 over the trimmed text (captions are single-spaced on the way in). */
export const WORDS_SQL = `(CASE WHEN trim(c.text) = '' THEN 0 ELSE length(trim(c.text)) - length(replace(trim(c.text), ' ', '')) + 1 END)`;

export const countWords = (text: string): number => {
  const t = text.trim();
  return t === '' ? 0 : t.split(' ').length;
};

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (m) => `\\${m}`);

export interface FilterSql {
  /** FROM … JOIN …, with the caption as `c`, image `i`, identity `p` and score `s`. */
  from: string;
  where: string;
  params: unknown[];
}

/** The filter as SQL. The score join uses the workspace's scoring model (none: every score is null). */
export function filterSql(db: Db, f: ReviewFilter, extra: { unreviewed?: boolean } = {}): FilterSql {
  const parts = ['c.is_current = 1'];
  const params: unknown[] = [];
  const model = scoringModel(db);
  const statuses = extra.unreviewed ? ['pending'] : f.statuses;
  if (statuses && statuses.length > 0) {
    parts.push(`c.status IN (${statuses.map(() => '?').join(',')})`);
    params.push(...statuses);
  }
  if (extra.unreviewed && f.statuses && f.statuses.length > 0 && !f.statuses.includes('pending')) parts.push('0');
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
    where: `WHERE ${parts.join(' AND ')}`,
    params,
  };
}

interface EntryRow extends CaptionRowFull {
  dataset_id: number;
  person_id: string | null;
  split: ReviewQueueEntry['split'];
  score: number | null;
}

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

const SELECT = `SELECT c.*, i.dataset_id, i.split, p.person_id, s.score`;

export function countQueue(db: Db, f: ReviewFilter): number {
  const q = filterSql(db, f);
  return (db.prepare(`SELECT count(*) AS n ${q.from} ${q.where}`).get(...q.params) as { n: number }).n;
}

export function listQueue(db: Db, f: ReviewFilter, offset: number, limit: number): ReviewQueuePage {
  const q = filterSql(db, f);
  const total = countQueue(db, f);
  const rows =
    limit === 0
      ? []
      : (db
          .prepare(`${SELECT} ${q.from} ${q.where} ORDER BY c.image_id, c.id LIMIT ? OFFSET ?`)
          .all(...q.params, limit, offset) as EntryRow[]);
  return { items: rows.map(toEntry), total };
}

/** Every caption id matching the filter, in queue order (bulk actions). */
export function listQueueIds(db: Db, f: ReviewFilter): { id: CaptionId; version: number; status: string }[] {
  const q = filterSql(db, f);
  return (
    db.prepare(`SELECT c.id, c.version, c.status ${q.from} ${q.where} ORDER BY c.image_id, c.id`).all(...q.params) as {
      id: number;
      version: number;
      status: string;
    }[]
  ).map((r) => ({ ...r, id: asCaptionId(r.id) }));
}

/**
 * The caption after (or before) `from` in queue order. `from` need not match the filter any more (it was
 * just accepted out of a "pending" queue): its position is where it sits in image order.
 */
export function neighborId(
  db: Db,
  f: ReviewFilter,
  from: { imageId: number; id: number } | null,
  direction: 'next' | 'prev',
  unreviewed: boolean,
): CaptionId | null {
  const q = filterSql(db, f, { unreviewed });
  const params = [...q.params];
  let where = q.where;
  if (from) {
    where += direction === 'next' ? ' AND (c.image_id, c.id) > (?, ?)' : ' AND (c.image_id, c.id) < (?, ?)';
    params.push(from.imageId, from.id);
  }
  const order = direction === 'next' ? 'ORDER BY c.image_id, c.id' : 'ORDER BY c.image_id DESC, c.id DESC';
  const row = db.prepare(`SELECT c.id ${q.from} ${where} ${order} LIMIT 1`).get(...params) as { id: number } | undefined;
  return row ? asCaptionId(row.id) : null;
}
