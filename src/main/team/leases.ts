// Review leases (issue 13.2): a caption handed to one person is theirs for LEASE_MS, renewed while they
// work and dropped when it expires or they release it, so two people never decide the same caption at
// once. Optimistic locking (captions.version) stays the last guard behind it.
import type { ReviewFilter } from '#shared/review/types';
import { asCaptionId, type CaptionId } from '#shared/ids';
import type { ReviewLease } from '#shared/team/types';
import type { WritableDb } from '../db/types';
import { AppError } from '../errors';
import {
  deleteExpiredLeases,
  getLiveLease,
  listLeasableCaptions,
  listLiveLeases,
  releaseAllLeases,
  releaseLease,
  renewLease,
  takeLease,
  upsertOwnLease,
} from '../db/repos/leases';
import { filterSql } from '../db/repos/review-queue';

/** Two minutes without a renewal and the caption goes back to the pool (the desk renews while keys are pressed). */
export const LEASE_MS = 120_000;

/**
 * The caller's next batch: their own live leases on pending captions of the queue first (a reload gets
 * the same batch back), then pending captions nobody holds, in queue order; all leased until now+LEASE_MS.
 */
export function pullBatch(
  db: WritableDb,
  holder: string,
  filter: ReviewFilter,
  size: number,
  now = Date.now(),
): { captionIds: CaptionId[]; expiresAt: number } {
  return db.transaction(() => {
    deleteExpiredLeases(db, now);
    const q = filterSql(db, filter, { unreviewed: true });
    const expiresAt = now + LEASE_MS;
    const rows = listLeasableCaptions(db, q, filter.order, holder, size);
    for (const r of rows) upsertOwnLease(db, r.id, holder, now, expiresAt);
    return { captionIds: rows.map((r) => asCaptionId(r.id)), expiresAt };
  })();
}

export function renewLeases(
  db: WritableDb,
  holder: string,
  ids: readonly CaptionId[],
  now = Date.now(),
): { renewed: number; expiresAt: number } {
  const expiresAt = now + LEASE_MS;
  let renewed = 0;
  db.transaction(() => {
    for (const id of ids) renewed += renewLease(db, id, holder, now, expiresAt);
  })();
  return { renewed, expiresAt };
}

export function releaseLeases(
  db: WritableDb,
  holder: string,
  ids?: readonly CaptionId[],
): { released: number } {
  if (ids === undefined) return { released: releaseAllLeases(db, holder) };
  let released = 0;
  db.transaction(() => {
    for (const id of ids) released += releaseLease(db, id, holder);
  })();
  return { released };
}

export function listLeases(db: WritableDb, ids: readonly CaptionId[], now = Date.now()): ReviewLease[] {
  return listLiveLeases(db, ids, now).map((r) => ({
    captionId: asCaptionId(r.caption_id),
    holder: r.holder,
    expiresAt: r.expires_at,
  }));
}

/**
 * Refuses a decision on a caption someone else holds a live lease on. Called in the same synchronous
 * turn as the decision (better-sqlite3 is synchronous), so nothing can slip in between.
 */
export function assertNotLeasedByOther(
  db: WritableDb,
  id: CaptionId,
  holder: string,
  now = Date.now(),
): void {
  const lease = getLiveLease(db, id, now);
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
export function heldByOther(
  db: WritableDb,
  id: CaptionId,
  me: string | null,
  now = Date.now(),
): string | null {
  const row = getLiveLease(db, id, now);
  return row && row.holder !== me ? row.holder : null;
}

/**
 * Leases the caption the desk now shows to `holder` (or renews their lease on it), unless someone else
 * holds it. Walking the unreviewed queue this way is pulling a batch of one, caption by caption.
 */
export function holdCaption(db: WritableDb, id: CaptionId, holder: string, now = Date.now()): boolean {
  return takeLease(db, id, holder, now, now + LEASE_MS);
}
