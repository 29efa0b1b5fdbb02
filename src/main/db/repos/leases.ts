// Review leases (issue 13.2): which caption is held by whom until when. The rules (how long, who may
// take what, the conflict a decision meets) are in src/main/team/leases.ts.
import type { ReviewOrder } from '#shared/review/types';
import type { CaptionId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';
import { orderSql, type FilterSql } from './review-queue';

export function deleteExpiredLeases(db: WritableDb, now: number): void {
  stmt(db, `DELETE FROM review_leases WHERE expires_at <= ?`).run(now);
}

/**
 * Captions of the queue `q` (in `order`) that `holder` may take: theirs first, then those nobody holds;
 * not those they have voted on.
 */
export function listLeasableCaptions(
  db: ReadableDb,
  q: FilterSql,
  order: ReviewOrder | undefined,
  holder: string,
  limit: number,
): { id: number; holder: string | null }[] {
  return stmt(
    db,
    `SELECT c.id, l.holder ${q.from} LEFT JOIN review_leases l ON l.caption_id = c.id
         ${q.where} AND (l.holder IS NULL OR l.holder = ?)
           AND NOT EXISTS (SELECT 1 FROM review_votes v WHERE v.caption_id = c.id AND v.reviewer = ?)
         ORDER BY (l.holder IS NULL), ${orderSql(order)} LIMIT ?`,
  ).all(...q.params, holder, holder, limit) as { id: number; holder: string | null }[];
}

/** Leases the caption to `holder`, or extends their lease; someone else's lease is left as it is. */
export function upsertOwnLease(
  db: WritableDb,
  id: CaptionId | number,
  holder: string,
  now: number,
  expiresAt: number,
): void {
  stmt(
    db,
    `INSERT INTO review_leases (caption_id, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (caption_id) DO UPDATE SET expires_at = excluded.expires_at WHERE holder = excluded.holder`,
  ).run(id, holder, now, expiresAt);
}

/** Extends `holder`'s live lease on the caption; the number of leases changed (0 or 1). */
export const renewLease = (
  db: WritableDb,
  id: CaptionId,
  holder: string,
  now: number,
  expiresAt: number,
): number =>
  stmt(
    db,
    `UPDATE review_leases SET expires_at = ? WHERE caption_id = ? AND holder = ? AND expires_at > ?`,
  ).run(expiresAt, id, holder, now).changes;

export const releaseAllLeases = (db: WritableDb, holder: string): number =>
  stmt(db, `DELETE FROM review_leases WHERE holder = ?`).run(holder).changes;

export const releaseLease = (db: WritableDb, id: CaptionId, holder: string): number =>
  stmt(db, `DELETE FROM review_leases WHERE caption_id = ? AND holder = ?`).run(id, holder).changes;

/** Live leases on these captions, by caption id. */
export function listLiveLeases(
  db: ReadableDb,
  ids: readonly CaptionId[],
  now: number,
): { caption_id: number; holder: string; expires_at: number }[] {
  if (ids.length === 0) return [];
  return stmt(
    db,
    `SELECT caption_id, holder, expires_at FROM review_leases
         WHERE expires_at > ? AND caption_id IN (${ids.map(() => '?').join(',')}) ORDER BY caption_id`,
  ).all(now, ...ids) as { caption_id: number; holder: string; expires_at: number }[];
}

export const getLiveLease = (
  db: ReadableDb,
  id: CaptionId,
  now: number,
): { holder: string; expires_at: number } | undefined =>
  stmt(db, `SELECT holder, expires_at FROM review_leases WHERE caption_id = ? AND expires_at > ?`).get(
    id,
    now,
  ) as { holder: string; expires_at: number } | undefined;

/** Leases the caption to `holder` unless someone else holds a live lease; whether it is theirs now. */
export const takeLease = (
  db: WritableDb,
  id: CaptionId,
  holder: string,
  now: number,
  expiresAt: number,
): boolean =>
  stmt(
    db,
    `INSERT INTO review_leases (caption_id, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (caption_id) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
           expires_at = excluded.expires_at
         WHERE review_leases.holder = excluded.holder OR review_leases.expires_at <= ?`,
  ).run(id, holder, now, expiresAt, now).changes > 0;
