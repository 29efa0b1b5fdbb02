// Which captions have, and still need, a CLIP score (caption_scores): a score job's scope and cursor
// walk, and a queue's score coverage. Computing a score is in src/main/review/score.ts.
import type { CaptionStatus } from '#shared/library/types';
import type { ReviewFilter, ScoreCoverage } from '#shared/review/types';
import {
  asCaptionId,
  asImageId,
  type CaptionId,
  type DatasetId,
  type ImageId,
  type JobId,
  type ModelId,
} from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb } from '../types';
import { scoringModel } from './review';
import { filterSql } from './review-queue';

// ── which captions the score job covers ─────────────────────────────────────────────────────────

/**
 * The captions a score job covers: current ones (the last row of each edit chain — what the queue, the
 * dashboard and the export read; an older row of a chain is never shown with a score), optionally of
 * one dataset and some statuses.
 */
export interface ScoreScope {
  datasetId?: DatasetId | undefined;
  statuses?: readonly CaptionStatus[] | undefined;
  /** Only captions of images in this job's scope (job_images). */
  jobId?: JobId | undefined;
}

export interface CaptionToScore {
  captionId: CaptionId;
  imageId: ImageId;
  text: string;
}

function scopeSql(scope: ScoreScope): { where: string; params: unknown[] } {
  const parts = ['c.is_current = 1'];
  const params: unknown[] = [];
  if (scope.datasetId !== undefined) {
    parts.push('i.dataset_id = ?');
    params.push(scope.datasetId);
  }
  if (scope.statuses && scope.statuses.length > 0) {
    parts.push(`c.status IN (${scope.statuses.map(() => '?').join(',')})`);
    params.push(...scope.statuses);
  }
  if (scope.jobId !== undefined) {
    parts.push('EXISTS (SELECT 1 FROM job_images j WHERE j.job_id = ? AND j.image_id = c.image_id)');
    params.push(scope.jobId);
  }
  return { where: parts.join(' AND '), params };
}

/** Images with a caption in scope, in id order: a score job's scope, fixed when it is queued. */
export function listScoreScopeImageIds(db: ReadableDb, scope: ScoreScope): ImageId[] {
  const s = scopeSql(scope);
  return (
    stmt(
      db,
      `SELECT DISTINCT c.image_id FROM captions c JOIN images i ON i.id = c.image_id WHERE ${s.where} ORDER BY c.image_id`,
      'pluck',
    ).all(...s.params) as number[]
  ).map(asImageId);
}

const HAS_VECTOR = `EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = ? AND e.image_id = c.image_id)`;
const UNSCORED = `NOT EXISTS (SELECT 1 FROM caption_scores s WHERE s.caption_id = c.id AND s.model_id = ?)`;

/**
 * Captions in scope after `afterId` (id order) whose image has a vector from `modelId` and that have no
 * score from it yet. The job walks this with a cursor; scores the desk stored meanwhile are skipped.
 */
export function listCaptionsToScore(
  db: ReadableDb,
  modelId: ModelId,
  scope: ScoreScope,
  afterId: number,
  limit: number,
): CaptionToScore[] {
  const s = scopeSql(scope);
  const rows = stmt(
    db,
    `SELECT c.id, c.image_id, c.text FROM captions c JOIN images i ON i.id = c.image_id
       WHERE c.id > ? AND ${s.where} AND ${HAS_VECTOR} AND ${UNSCORED}
       ORDER BY c.id LIMIT ?`,
  ).all(afterId, ...s.params, modelId, modelId, limit) as { id: number; image_id: number; text: string }[];
  return rows.map((r) => ({ captionId: asCaptionId(r.id), imageId: asImageId(r.image_id), text: r.text }));
}

export function countCaptionsToScore(
  db: ReadableDb,
  modelId: ModelId,
  scope: ScoreScope,
  afterId = 0,
): number {
  const s = scopeSql(scope);
  return (
    stmt(
      db,
      `SELECT count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id
         WHERE c.id > ? AND ${s.where} AND ${HAS_VECTOR} AND ${UNSCORED}`,
    ).get(afterId, ...s.params, modelId, modelId) as { n: number }
  ).n;
}

/** Captions in scope whose image has no vector from `modelId`: they cannot be scored until it is embedded. */
export function countCaptionsWithoutVector(db: ReadableDb, modelId: ModelId, scope: ScoreScope): number {
  const s = scopeSql(scope);
  return (
    stmt(
      db,
      `SELECT count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id WHERE ${s.where} AND NOT ${HAS_VECTOR}`,
    ).get(...s.params, modelId) as { n: number }
  ).n;
}

/** How much of a queue has a score from the workspace's scoring model (the one the score filter uses). */
export function getScoreCoverage(db: ReadableDb, filter: ReviewFilter): ScoreCoverage {
  const model = scoringModel(db) ?? null;
  const q = filterSql(db, filter);
  const vector = model
    ? `EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = ${Number(model.id)} AND e.image_id = c.image_id)`
    : '0';
  const r = stmt(
    db,
    `SELECT count(*) AS total, count(s.score) AS scored, coalesce(sum(NOT ${vector}), 0) AS without
       ${q.from} ${q.where}`,
  ).get(...q.params) as { total: number; scored: number; without: number };
  return { model, total: r.total, scored: r.scored, withoutVector: r.without };
}
