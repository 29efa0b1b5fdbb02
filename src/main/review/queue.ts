// The review queue: current captions (the last row of each edit chain) matching a filter, in the filter's
// order. Image order walks the (is_current, image_id, id) index; the score orders walk the
// (model_id, score) index of caption_scores and then the image index for the unscored tail, so next /
// previous through a 100,000-caption workspace costs an index step, not a scan or a sort.
import type { ReviewFilter, ReviewOrder, ReviewQueueEntry, ReviewQueuePage } from '../../shared/domain';
import { asCaptionId, asDatasetId, asImageId, type CaptionId } from '../../shared/ids';
import { pushImageScope } from '../db/repos/images';
import { getCaptionScore, hasTable, scoringModel, type CaptionRowFull } from '../db/repos/review';
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
  /**
   * The same FROM for scored captions only, driven by the (model_id, score) index of the scoring model's
   * scores (CROSS JOIN fixes the loop order); null without a scoring model.
   */
  scoredFrom: string | null;
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
          .prepare(`${SELECT} ${q.from} ${q.where} ORDER BY ${orderSql(f.order)} LIMIT ? OFFSET ?`)
          .all(...q.params, limit, offset) as EntryRow[]);
  return { items: rows.map(toEntry), total };
}

/** Every caption id matching the filter, in queue order (bulk actions). */
export function listQueueIds(db: Db, f: ReviewFilter): { id: CaptionId; version: number; status: string }[] {
  const q = filterSql(db, f);
  return (
    db
      .prepare(`SELECT c.id, c.version, c.status ${q.from} ${q.where} ORDER BY ${orderSql(f.order)}`)
      .all(...q.params) as {
      id: number;
      version: number;
      status: string;
    }[]
  ).map((r) => ({ ...r, id: asCaptionId(r.id) }));
}

/**
 * The caption after (or before) `from` in queue order. `from` need not match the filter any more (it was
 * just accepted out of a "pending" queue): its position is where it sits in the filter's order (its
 * score now, then its image and id).
 */
export function neighborId(
  db: Db,
  f: ReviewFilter,
  from: { imageId: number; id: number } | null,
  direction: 'next' | 'prev',
  unreviewed: boolean,
): CaptionId | null {
  const q = filterSql(db, f, { unreviewed });
  const order = f.order ?? 'image';
  const model = order === 'image' ? undefined : scoringModel(db);
  const first = (extra: string, extraParams: unknown[], orderBy: string, from = q.from): number | null => {
    const row = db
      .prepare(`SELECT c.id ${from} ${q.where}${extra} ORDER BY ${orderBy} LIMIT 1`)
      .get(...q.params, ...extraParams) as { id: number } | undefined;
    return row ? row.id : null;
  };
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
    const nextScore = (after: number | undefined): number | null => {
      const where = after === undefined ? '' : up ? ' AND s.score > ?' : ' AND s.score < ?';
      const row = db
        .prepare(
          `SELECT s.score ${scoredFrom} ${q.where}${where} ORDER BY s.score${up ? '' : ' DESC'} LIMIT 1`,
        )
        .get(...q.params, ...(after === undefined ? [] : [after])) as { score: number } | undefined;
      return row ? row.score : null;
    };
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
