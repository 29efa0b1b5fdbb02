// The review dashboard's queries: over current captions (the last row of each chain), of one dataset or
// all. The figures made of them (throughput, histograms, coverage) are in src/main/review/stats.ts.
import type { CaptionSource, CaptionStatus } from '#shared/library/types';
import { stmt } from '../statements';
import type { ReadableDb } from '../types';
import type { DatasetId, ModelId } from '#shared/ids';
import { WORDS_SQL } from './review-queue';

const HOUR = 3_600_000;

interface Scope {
  sql: string;
  params: unknown[];
}

const scopeOf = (datasetId: DatasetId | undefined): Scope =>
  datasetId === undefined ? { sql: '', params: [] } : { sql: 'AND i.dataset_id = ?', params: [datasetId] };

const currentFrom = (s: Scope): string =>
  `FROM captions c JOIN images i ON i.id = c.image_id WHERE c.is_current = 1 ${s.sql}`;

/** Decisions and edits (not undos, not undone). */
const decisionsFrom = (s: Scope): string =>
  `FROM reviews r JOIN captions c ON c.id = r.caption_id JOIN images i ON i.id = c.image_id
    WHERE r.action != 'undo' AND r.undone_by IS NULL ${s.sql}`;

export function countCurrentByStatusAndSource(
  db: ReadableDb,
  datasetId: DatasetId | undefined,
): { status: CaptionStatus; source: CaptionSource; n: number }[] {
  const scope = scopeOf(datasetId);
  return stmt(
    db,
    `SELECT c.status, c.source, count(*) AS n ${currentFrom(scope)} GROUP BY c.status, c.source`,
  ).all(...scope.params) as { status: CaptionStatus; source: CaptionSource; n: number }[];
}

/** Decisions per clock hour (`h`: the hour's start) since `since`. */
export function countDecisionsPerHour(
  db: ReadableDb,
  datasetId: DatasetId | undefined,
  since: number,
): { h: number; n: number }[] {
  const scope = scopeOf(datasetId);
  return stmt(
    db,
    `SELECT (r.created_at / ${HOUR}) * ${HOUR} AS h, count(*) AS n ${decisionsFrom(scope)} AND r.created_at >= ? GROUP BY h`,
  ).all(...scope.params, since) as { h: number; n: number }[];
}

/** When each decision was made, oldest first; a bulk action is one decision (its first row's time). */
export function listDecisionTimes(db: ReadableDb, datasetId: DatasetId | undefined): number[] {
  const scope = scopeOf(datasetId);
  return stmt(
    db,
    `SELECT min(r.created_at) AS t ${decisionsFrom(scope)} GROUP BY coalesce(r.batch, -r.id) ORDER BY t`,
    'pluck',
  ).all(...scope.params) as number[];
}

export function listCurrentCaptionWords(
  db: ReadableDb,
  datasetId: DatasetId | undefined,
): { text: string; words: number; status: CaptionStatus }[] {
  const scope = scopeOf(datasetId);
  return stmt(db, `SELECT c.text, ${WORDS_SQL} AS words, c.status ${currentFrom(scope)}`).all(
    ...scope.params,
  ) as {
    text: string;
    words: number;
    status: CaptionStatus;
  }[];
}

/** The scores `modelId` gave current captions. */
export function listCurrentScores(
  db: ReadableDb,
  modelId: ModelId,
  datasetId: DatasetId | undefined,
): number[] {
  const scope = scopeOf(datasetId);
  return stmt(
    db,
    `SELECT s.score FROM caption_scores s JOIN captions c ON c.id = s.caption_id JOIN images i ON i.id = c.image_id
                  WHERE s.model_id = ? AND c.is_current = 1 ${scope.sql}`,
    'pluck',
  ).all(modelId, ...scope.params) as number[];
}
