// The double-review share's rows (issue 13.3): the share setting, blind votes, adjudications, and the
// counts the team dashboard shows. The rules (when a vote settles a caption, Cohen's κ) are in
// src/main/team/agreement.ts.
import type { CaptionId } from '#shared/ids';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export type VoteDecision = 'accept' | 'reject';

export interface VoteRow {
  caption_id: number;
  reviewer: string;
  decision: VoteDecision;
  text: string | null;
}

export const getDoubleShare = (db: ReadableDb): number =>
  stmt(db, `SELECT double_share FROM team_settings WHERE id = 1`, 'pluck').get() as number;

export function setDoubleShareRow(db: WritableDb, share: number): void {
  stmt(db, `UPDATE team_settings SET double_share = ? WHERE id = 1`).run(share);
}

export const hasVoted = (db: ReadableDb, captionId: CaptionId, reviewer: string): boolean =>
  stmt(db, `SELECT 1 FROM review_votes WHERE caption_id = ? AND reviewer = ?`).get(captionId, reviewer) !==
  undefined;

export function insertVote(
  db: WritableDb,
  v: { captionId: CaptionId; reviewer: string; decision: VoteDecision; text: string | null },
  now: number,
): void {
  stmt(
    db,
    `INSERT INTO review_votes (caption_id, reviewer, decision, text, created_at) VALUES (?, ?, ?, ?, ?)`,
  ).run(v.captionId, v.reviewer, v.decision, v.text, now);
}

/** A caption's votes in the order they were cast. */
export const listVotes = (db: ReadableDb, captionId: CaptionId): Omit<VoteRow, 'caption_id'>[] =>
  stmt(
    db,
    `SELECT reviewer, decision, text FROM review_votes WHERE caption_id = ? ORDER BY created_at, rowid`,
  ).all(captionId) as Omit<VoteRow, 'caption_id'>[];

/** Votes of captions with two disagreeing votes and no adjudication, by caption then in order cast. */
export const listDisagreeingVotes = (db: ReadableDb): VoteRow[] =>
  stmt(
    db,
    `SELECT v.caption_id, v.reviewer, v.decision, v.text FROM review_votes v
       WHERE v.caption_id IN (SELECT caption_id FROM review_votes GROUP BY caption_id
                              HAVING count(*) = 2 AND count(DISTINCT decision) = 2)
         AND v.caption_id NOT IN (SELECT caption_id FROM review_adjudications)
       ORDER BY v.caption_id, v.created_at, v.rowid`,
  ).all() as VoteRow[];

export function insertAdjudication(
  db: WritableDb,
  captionId: CaptionId,
  adjudicator: string,
  decision: VoteDecision,
  now: number,
): void {
  stmt(
    db,
    `INSERT INTO review_adjudications (caption_id, adjudicator, decision, created_at) VALUES (?, ?, ?, ?)`,
  ).run(captionId, adjudicator, decision, now);
}

/** Votes of captions with both votes in, by caption then in order cast (pairs are consecutive). */
export const listPairedVotes = (db: ReadableDb): Omit<VoteRow, 'text'>[] =>
  stmt(
    db,
    `SELECT caption_id, reviewer, decision FROM review_votes
       WHERE caption_id IN (SELECT caption_id FROM review_votes GROUP BY caption_id HAVING count(*) = 2)
       ORDER BY caption_id, created_at, rowid`,
  ).all() as Omit<VoteRow, 'text'>[];

export interface ReviewerDecisionRow {
  reviewer: string;
  decisions: number;
  accepts: number;
  rejects: number;
  edits: number;
  flags: number;
  last_hour: number;
  first_at: number;
  last_at: number;
}

/** Per reviewer (as the audit trail names them): their decisions, not undone, and those since `since`. */
export const listReviewerDecisions = (db: ReadableDb, since: number): ReviewerDecisionRow[] =>
  stmt(
    db,
    `SELECT reviewer,
              count(*) AS decisions,
              sum(action IN ('accept', 'bulk-accept')) AS accepts,
              sum(action IN ('reject', 'bulk-reject')) AS rejects,
              sum(action = 'edit') AS edits,
              sum(action = 'flag') AS flags,
              sum(created_at > ?) AS last_hour,
              min(created_at) AS first_at, max(created_at) AS last_at
       FROM reviews WHERE action != 'undo' AND undone_by IS NULL AND reviewer != 'double review'
       GROUP BY reviewer`,
  ).all(since) as ReviewerDecisionRow[];

export const countVotesByReviewer = (db: ReadableDb): { reviewer: string; n: number }[] =>
  stmt(db, `SELECT reviewer, count(*) AS n FROM review_votes GROUP BY reviewer`).all() as {
    reviewer: string;
    n: number;
  }[];

export const countPendingCaptions = (db: ReadableDb): number =>
  stmt(
    db,
    `SELECT count(*) AS n FROM captions WHERE status = 'pending' AND is_current = 1`,
    'pluck',
  ).get() as number;

export const countLiveLeases = (db: ReadableDb, now: number): number =>
  stmt(db, `SELECT count(*) AS n FROM review_leases WHERE expires_at > ?`, 'pluck').get(now) as number;

export const getNewestVote = (
  db: ReadableDb,
  reviewer: string,
): { caption_id: number; created_at: number } | undefined =>
  stmt(
    db,
    `SELECT caption_id, created_at FROM review_votes WHERE reviewer = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`,
  ).get(reviewer) as { caption_id: number; created_at: number } | undefined;

/** When `reviewer` last decided (not undone), or null. */
export const getLastDecisionAt = (db: ReadableDb, reviewer: string): number | null =>
  stmt(
    db,
    `SELECT max(created_at) AS t FROM reviews WHERE reviewer = ? AND action != 'undo' AND undone_by IS NULL`,
    'pluck',
  ).get(reviewer) as number | null;

export const countVotes = (db: ReadableDb, captionId: number): number =>
  stmt(db, `SELECT count(*) AS n FROM review_votes WHERE caption_id = ?`, 'pluck').get(captionId) as number;

export function deleteVote(db: WritableDb, captionId: number, reviewer: string): void {
  stmt(db, `DELETE FROM review_votes WHERE caption_id = ? AND reviewer = ?`).run(captionId, reviewer);
}
