// Review leases (issue 13.2): a caption handed to one person is theirs for LEASE_MS, renewed while they
// work and dropped when it expires or they release it, so two people never decide the same caption at
// once. Optimistic locking (captions.version) stays the last guard behind it.
import type { ReviewFilter } from '../../shared/domain';
import { asCaptionId, type CaptionId } from '../../shared/ids';
import type { ReviewLease } from '../../shared/team-contract';
import type { Db } from '../db/types';
import { AppError } from '../errors';
import { filterSql, orderSql } from '../db/repos/review-queue';

/** Two minutes without a renewal and the caption goes back to the pool (the desk renews while keys are pressed). */
export const LEASE_MS = 120_000;

const dropExpired = (db: Db, now: number): void => {
  db.prepare(`DELETE FROM review_leases WHERE expires_at <= ?`).run(now);
};

/**
 * The caller's next batch: their own live leases on pending captions of the queue first (a reload gets
 * the same batch back), then pending captions nobody holds, in queue order; all leased until now+LEASE_MS.
 */
export function pullBatch(
  db: Db,
  holder: string,
  filter: ReviewFilter,
  size: number,
  now = Date.now(),
): { captionIds: CaptionId[]; expiresAt: number } {
  return db.transaction(() => {
    dropExpired(db, now);
    const q = filterSql(db, filter, { unreviewed: true });
    const expiresAt = now + LEASE_MS;
    const rows = db
      .prepare(
        `SELECT c.id, l.holder ${q.from} LEFT JOIN review_leases l ON l.caption_id = c.id
         ${q.where} AND (l.holder IS NULL OR l.holder = ?)
           AND NOT EXISTS (SELECT 1 FROM review_votes v WHERE v.caption_id = c.id AND v.reviewer = ?)
         ORDER BY (l.holder IS NULL), ${orderSql(filter.order)} LIMIT ?`,
      )
      .all(...q.params, holder, holder, size) as { id: number; holder: string | null }[];
    const upsert = db.prepare(
      `INSERT INTO review_leases (caption_id, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (caption_id) DO UPDATE SET expires_at = excluded.expires_at WHERE holder = excluded.holder`,
    );
    for (const r of rows) upsert.run(r.id, holder, now, expiresAt);
    return { captionIds: rows.map((r) => asCaptionId(r.id)), expiresAt };
  })();
}

export function renewLeases(
  db: Db,
  holder: string,
  ids: readonly CaptionId[],
  now = Date.now(),
): { renewed: number; expiresAt: number } {
  const expiresAt = now + LEASE_MS;
  const stmt = db.prepare(
    `UPDATE review_leases SET expires_at = ? WHERE caption_id = ? AND holder = ? AND expires_at > ?`,
  );
  let renewed = 0;
  db.transaction(() => {
    for (const id of ids) renewed += stmt.run(expiresAt, id, holder, now).changes;
  })();
  return { renewed, expiresAt };
}

export function releaseLeases(db: Db, holder: string, ids?: readonly CaptionId[]): { released: number } {
  if (ids === undefined)
    return { released: db.prepare(`DELETE FROM review_leases WHERE holder = ?`).run(holder).changes };
  const stmt = db.prepare(`DELETE FROM review_leases WHERE caption_id = ? AND holder = ?`);
  let released = 0;
  db.transaction(() => {
    for (const id of ids) released += stmt.run(id, holder).changes;
  })();
  return { released };
}

export function listLeases(db: Db, ids: readonly CaptionId[], now = Date.now()): ReviewLease[] {
  if (ids.length === 0) return [];
  return (
    db
      .prepare(
        `SELECT caption_id, holder, expires_at FROM review_leases
         WHERE expires_at > ? AND caption_id IN (${ids.map(() => '?').join(',')}) ORDER BY caption_id`,
      )
      .all(now, ...ids) as { caption_id: number; holder: string; expires_at: number }[]
  ).map((r) => ({ captionId: asCaptionId(r.caption_id), holder: r.holder, expiresAt: r.expires_at }));
}

/**
 * Refuses a decision on a caption someone else holds a live lease on. Called in the same synchronous
 * turn as the decision (better-sqlite3 is synchronous), so nothing can slip in between.
 */
export function assertNotLeasedByOther(db: Db, id: CaptionId, holder: string, now = Date.now()): void {
  const lease = db
    .prepare(`SELECT holder, expires_at FROM review_leases WHERE caption_id = ? AND expires_at > ?`)
    .get(id, now) as { holder: string; expires_at: number } | undefined;
  if (lease && lease.holder !== holder) {
    const secs = Math.ceil((lease.expires_at - now) / 1000);
    throw new AppError(
      'conflict',
      `${lease.holder} is reviewing this caption (their lease runs ${secs} s more unless renewed): ` +
        'pull your next batch to get captions nobody holds.',
    );
  }
}

/** The holder of a live lease on this caption other than `me`, or null (free, expired, or mine). */
export function heldByOther(db: Db, id: CaptionId, me: string | null, now = Date.now()): string | null {
  const row = db
    .prepare(`SELECT holder FROM review_leases WHERE caption_id = ? AND expires_at > ?`)
    .get(id, now) as { holder: string } | undefined;
  return row && row.holder !== me ? row.holder : null;
}

/**
 * Leases the caption the desk now shows to `holder` (or renews their lease on it), unless someone else
 * holds it. Walking the unreviewed queue this way is pulling a batch of one, caption by caption.
 */
export function holdCaption(db: Db, id: CaptionId, holder: string, now = Date.now()): boolean {
  return (
    db
      .prepare(
        `INSERT INTO review_leases (caption_id, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (caption_id) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
           expires_at = excluded.expires_at
         WHERE review_leases.holder = excluded.holder OR review_leases.expires_at <= ?`,
      )
      .run(id, holder, now, now + LEASE_MS, now).changes > 0
  );
}
