// Rows of the review desk: the current caption of each edit chain, the audit trail (reviews), saved
// filters and caption scores. The desk's rules (locking, undo, bulk) live in src/main/review/.
import type { CaptionSource, CaptionStatus, Split } from '#shared/library/types';
import type { ReviewAction, ReviewFilter, SavedFilter } from '#shared/review/types';
import { asCaptionId, type CaptionId, type ImageId, type ModelId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export interface CaptionRowFull {
  id: number;
  image_id: number;
  source: CaptionSource;
  text: string;
  status: CaptionStatus;
  derived_from: number | null;
  version: number;
  is_current: number;
  retracted_at: number | null;
  created_at: number;
  updated_at: number;
}

export function getCaptionRow(db: ReadableDb, id: CaptionId): CaptionRowFull | undefined {
  return stmt(db, `SELECT * FROM captions WHERE id = ?`).get(id) as CaptionRowFull | undefined;
}

/** The chain's first row: what the model (or the dataset) wrote. Edits point at it with derived_from. */
export const rootOf = (c: Pick<CaptionRowFull, 'id' | 'derived_from'>): CaptionId =>
  asCaptionId(c.derived_from ?? c.id);

/** Every row of a chain, oldest first (root, then its edits). */
export function listChain(db: ReadableDb, root: CaptionId): CaptionRowFull[] {
  return stmt(db, `SELECT * FROM captions WHERE id = ? OR derived_from = ? ORDER BY id`).all(
    root,
    root,
  ) as CaptionRowFull[];
}

/**
 * Sets status and bumps version only if the row is still at `version` and current; false when another
 * window got there first (the caller turns that into a conflict).
 */
export function updateCaptionStatusIf(
  db: WritableDb,
  id: CaptionId,
  version: number,
  status: CaptionStatus,
  now: number,
): boolean {
  return (
    stmt(
      db,
      `UPDATE captions SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ? AND is_current = 1`,
    ).run(status, now, id, version).changes === 1
  );
}

export function setCaptionCurrentIf(
  db: WritableDb,
  id: CaptionId,
  version: number,
  current: boolean,
  now: number,
  retract = false,
): boolean {
  return (
    stmt(
      db,
      `UPDATE captions SET is_current = ?, version = version + 1, updated_at = ?,
           retracted_at = CASE WHEN ? THEN ? ELSE NULL END
         WHERE id = ? AND version = ?`,
    ).run(current ? 1 : 0, now, retract ? 1 : 0, now, id, version).changes === 1
  );
}

export function insertEditedCaption(
  db: WritableDb,
  e: { imageId: ImageId; root: CaptionId; text: string; status: CaptionStatus; now: number },
): CaptionId {
  const r = stmt(
    db,
    `INSERT INTO captions (image_id, source, text, status, derived_from, version, is_current, created_at, updated_at)
       VALUES (?, 'edited', ?, ?, ?, 1, 1, ?, ?)`,
  ).run(e.imageId, e.text, e.status, e.root, e.now, e.now);
  return asCaptionId(Number(r.lastInsertRowid));
}

// ── audit trail ──────────────────────────────────────────────────────────────────────────────────
export interface ReviewRow {
  id: number;
  caption_id: number;
  reviewer: string;
  action: ReviewAction;
  before: string | null;
  after: string | null;
  created_at: number;
  undone_by: number | null;
  batch: number | null;
}

export function insertReview(
  db: WritableDb,
  r: {
    captionId: CaptionId;
    reviewer: string;
    action: ReviewAction;
    before: unknown;
    after: unknown;
    now: number;
    batch?: number | null;
  },
): number {
  const res = stmt(
    db,
    `INSERT INTO reviews (caption_id, reviewer, action, before, after, created_at, batch) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    r.captionId,
    r.reviewer,
    r.action,
    r.before === null ? null : JSON.stringify(r.before),
    r.after === null ? null : JSON.stringify(r.after),
    r.now,
    r.batch ?? null,
  );
  return Number(res.lastInsertRowid);
}

/** The reviewer's newest action that is not an undo and not undone yet. */
export function lastUndoableReview(db: ReadableDb, reviewer: string): ReviewRow | undefined {
  return stmt(
    db,
    `SELECT * FROM reviews WHERE reviewer = ? AND action != 'undo' AND undone_by IS NULL ORDER BY id DESC LIMIT 1`,
  ).get(reviewer) as ReviewRow | undefined;
}

export function listBatch(db: ReadableDb, batch: number): ReviewRow[] {
  return stmt(db, `SELECT * FROM reviews WHERE batch = ? ORDER BY id`).all(batch) as ReviewRow[];
}

export function markUndone(db: WritableDb, ids: readonly number[], undoId: number): void {
  const update = stmt(db, `UPDATE reviews SET undone_by = ? WHERE id = ?`);
  for (const id of ids) update.run(undoId, id);
}

/** A new batch number for a bulk action: one above any used so far. */
export function nextBatch(db: ReadableDb): number {
  return ((stmt(db, `SELECT max(batch) AS b FROM reviews`).get() as { b: number | null }).b ?? 0) + 1;
}

export function listReviewsForCaptions(db: ReadableDb, ids: readonly CaptionId[]): ReviewRow[] {
  if (ids.length === 0) return [];
  return stmt(
    db,
    `SELECT * FROM reviews WHERE caption_id IN (${ids.map(() => '?').join(',')}) ORDER BY id DESC`,
  ).all(...ids) as ReviewRow[];
}

// ── saved filters ────────────────────────────────────────────────────────────────────────────────
interface SavedFilterRow {
  id: number;
  name: string;
  filter: string;
  created_at: number;
  updated_at: number;
}

const toSavedFilter = (r: SavedFilterRow): SavedFilter => ({
  id: r.id,
  name: r.name,
  filter: JSON.parse(r.filter) as ReviewFilter,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function listSavedFilters(db: ReadableDb): SavedFilter[] {
  return (stmt(db, `SELECT * FROM saved_filters ORDER BY name COLLATE NOCASE`).all() as SavedFilterRow[]).map(
    toSavedFilter,
  );
}

/** Saving under an existing name replaces that filter: names are what the user picks from. */
export function upsertSavedFilter(db: WritableDb, name: string, filter: ReviewFilter): SavedFilter {
  const now = Date.now();
  stmt(
    db,
    `INSERT INTO saved_filters (name, filter, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET filter = excluded.filter, updated_at = excluded.updated_at`,
  ).run(name, JSON.stringify(filter), now, now);
  return toSavedFilter(stmt(db, `SELECT * FROM saved_filters WHERE name = ?`).get(name) as SavedFilterRow);
}

export function deleteSavedFilter(db: WritableDb, id: number): boolean {
  return stmt(db, `DELETE FROM saved_filters WHERE id = ?`).run(id).changes > 0;
}

// ── scores ───────────────────────────────────────────────────────────────────────────────────────
export function getCaptionScore(db: ReadableDb, captionId: CaptionId, modelId: ModelId): number | undefined {
  const r = stmt(db, `SELECT score FROM caption_scores WHERE caption_id = ? AND model_id = ?`).get(
    captionId,
    modelId,
  ) as { score: number } | undefined;
  return r?.score;
}

export function upsertCaptionScore(
  db: WritableDb,
  captionId: CaptionId,
  modelId: ModelId,
  score: number,
): void {
  stmt(
    db,
    `INSERT INTO caption_scores (caption_id, model_id, score, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (caption_id, model_id) DO UPDATE SET score = excluded.score, created_at = excluded.created_at`,
  ).run(captionId, modelId, score, Date.now());
}

/** The model whose scores the desk shows and filters on: the newest model that has embedded any image. */
export function scoringModel(db: ReadableDb): { id: ModelId; name: string } | undefined {
  return stmt(
    db,
    `SELECT m.id, m.name FROM models m WHERE EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = m.id)
       ORDER BY m.id DESC LIMIT 1`,
  ).get() as { id: ModelId; name: string } | undefined;
}

export interface ImageForReview {
  id: number;
  dataset_id: number;
  rel_path: string;
  width: number;
  height: number;
  split: Split | null;
  camera: string | null;
  person_id: string | null;
  dataset_name: string;
  caption_count: number;
}

export function getImageForReview(db: ReadableDb, imageId: ImageId): ImageForReview | undefined {
  return stmt(
    db,
    `SELECT i.id, i.dataset_id, i.rel_path, i.width, i.height, i.split, i.camera, p.person_id, d.name AS dataset_name,
         (SELECT count(*) FROM captions c WHERE c.image_id = i.id) AS caption_count
       FROM images i JOIN datasets d ON d.id = i.dataset_id LEFT JOIN identities p ON p.id = i.identity_id
       WHERE i.id = ?`,
  ).get(imageId) as ImageForReview | undefined;
}

/** Whether a table exists: the MTG tables arrive with migration 4's real content. */
export function hasTable(db: ReadableDb, name: string): boolean {
  return stmt(db, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** The image's human captions (the dataset's own) other than `root`'s chain, by id. */
export const listOtherHumanCaptions = (
  db: ReadableDb,
  imageId: ImageId,
  root: CaptionId,
): { id: number; text: string }[] =>
  stmt(
    db,
    `SELECT id, text FROM captions WHERE image_id = ? AND source = 'human' AND id != ? ORDER BY id`,
  ).all(imageId, root) as { id: number; text: string }[];

/** Audit rows on the caption after `afterId` that are in force (not undos, not undone). */
export const countLiveActionsAfter = (db: ReadableDb, captionId: CaptionId, afterId: number): number =>
  stmt(
    db,
    `SELECT count(*) AS n FROM reviews WHERE caption_id = ? AND id > ? AND action != 'undo' AND undone_by IS NULL`,
    'pluck',
  ).get(captionId, afterId) as number;
