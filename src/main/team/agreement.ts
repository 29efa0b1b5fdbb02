// The double-review share and agreement (issue 13.3). A share of captions, picked by their root id so
// the pick never changes, is decided blind by two different people: each named user's accept/reject
// (an edit counts as an accept carrying its text) is a vote; the second vote decides the caption when
// both agree, and a disagreement is flagged for a reviewer to adjudicate. Agreement is Cohen's κ on
// accept/reject, per pair of people and overall.
import type { CaptionId } from '#shared/ids';
import { asCaptionId } from '#shared/ids';
import type { WritableDb } from '../db/types';
import {
  countLiveLeases,
  countPendingCaptions,
  countVotes,
  countVotesByReviewer,
  deleteVote,
  getDoubleShare,
  getLastDecisionAt,
  getNewestVote,
  hasVoted,
  insertAdjudication,
  insertVote,
  listDisagreeingVotes,
  listPairedVotes,
  listReviewerDecisions,
  listVotes,
  setDoubleShareRow,
} from '../db/repos/votes';
import { getCaptionRow, rootOf } from '../db/repos/review';
import { AppError, notFound } from '../errors';
import { conflictError, decide, edit } from '../review/desk';
import { auditAdmin } from './users';

export type Vote = 'accept' | 'reject';

export interface Agreement {
  n: number;
  agreed: number;
  /** Null when κ is undefined (no pairs, or both always gave the one same answer). */
  kappa: number | null;
}

/**
 * Cohen's κ for two raters over the same items: (po − pe) / (1 − pe), po the share of items they
 * agree on, pe the agreement expected by chance from each rater's own accept rate.
 */
export function cohenKappa(pairs: readonly (readonly [Vote, Vote])[]): Agreement {
  const n = pairs.length;
  if (n === 0) return { n, agreed: 0, kappa: null };
  const agreed = pairs.filter(([a, b]) => a === b).length;
  const aAcc = pairs.filter(([a]) => a === 'accept').length / n;
  const bAcc = pairs.filter(([, b]) => b === 'accept').length / n;
  const po = agreed / n;
  const pe = aAcc * bAcc + (1 - aAcc) * (1 - bAcc);
  return { n, agreed, kappa: pe === 1 ? null : (po - pe) / (1 - pe) };
}

export const doubleShare = (db: WritableDb): number => getDoubleShare(db);

export function setDoubleShare(db: WritableDb, share: number, actor: string): { share: number } {
  setDoubleShareRow(db, share);
  auditAdmin(db, actor, 'double-review share', String(share));
  return { share };
}

/** Whether a caption chain is in the double-review share: a fixed hash of its root id, not a coin. */
export const inDoubleShare = (root: number, share: number): boolean =>
  share > 0 && (Math.imul(root, 2654435761) >>> 0) % 10_000 < share * 10_000;

/** The caption is in the share and still open (pending), so a named user's decision on it is a vote. */
export function isDoubleReview(db: WritableDb, captionId: CaptionId): boolean {
  const share = doubleShare(db);
  if (share === 0) return false;
  const row = getCaptionRow(db, captionId);
  return row !== undefined && row.status === 'pending' && inDoubleShare(rootOf(row), share);
}

/**
 * One blind vote. The second (by someone else) settles the caption when both agree — as an edit when
 * either carried text — and flags it for adjudication when they do not.
 */
export function castVote(
  db: WritableDb,
  a: { captionId: CaptionId; version: number; decision: Vote; text: string | null; reviewer: string },
): { settled: 'waiting' | 'agreed' | 'disagreed'; captionId: CaptionId } {
  return db.transaction(() => {
    const row = getCaptionRow(db, a.captionId);
    if (!row) throw notFound(`Caption ${a.captionId}`);
    if (row.version !== a.version || row.status !== 'pending') throw conflictError(db, a.captionId);
    if (hasVoted(db, a.captionId, a.reviewer))
      throw new AppError(
        'conflict',
        'You already gave your blind vote on this caption (it is in the double-review share): a second reviewer decides it too.',
      );
    insertVote(db, a, Date.now());
    const votes = listVotes(db, a.captionId);
    if (votes.length < 2) return { settled: 'waiting' as const, captionId: a.captionId };
    const [first, second] = votes as [(typeof votes)[0], (typeof votes)[0]];
    if (first.decision !== second.decision) {
      decide(db, { captionId: a.captionId, version: a.version, decision: 'flag', reviewer: 'double review' });
      return { settled: 'disagreed' as const, captionId: a.captionId };
    }
    const text = second.text ?? first.text;
    const by = `${first.reviewer} + ${second.reviewer}`;
    if (first.decision === 'accept' && text !== null && text !== row.text) {
      const item = edit(db, {
        captionId: a.captionId,
        version: a.version,
        text,
        status: 'accepted',
        reviewer: by,
      });
      return { settled: 'agreed' as const, captionId: item.caption.id };
    }
    decide(db, { captionId: a.captionId, version: a.version, decision: first.decision, reviewer: by });
    return { settled: 'agreed' as const, captionId: a.captionId };
  })();
}

export interface AdjudicationItem {
  captionId: CaptionId;
  votes: { reviewer: string; decision: Vote; text: string | null }[];
}

/** Double-reviewed captions whose two votes disagree and that nobody has adjudicated yet. */
export function adjudicationQueue(db: WritableDb): AdjudicationItem[] {
  const rows = listDisagreeingVotes(db);
  const out = new Map<number, AdjudicationItem>();
  for (const r of rows) {
    const item = out.get(r.caption_id) ?? { captionId: asCaptionId(r.caption_id), votes: [] };
    item.votes.push({ reviewer: r.reviewer, decision: r.decision, text: r.text });
    out.set(r.caption_id, item);
  }
  return [...out.values()];
}

/** A reviewer settles a disagreement; the audit trail names them, and the votes stay as they were. */
export function adjudicate(
  db: WritableDb,
  captionId: CaptionId,
  decision: Vote,
  adjudicator: string,
): { decided: Vote } {
  return db.transaction(() => {
    if (!adjudicationQueue(db).some((i) => i.captionId === captionId))
      throw new AppError(
        'conflict',
        `Caption ${captionId} is not waiting for adjudication (its two reviewers agreed, or someone settled it already).`,
      );
    const row = getCaptionRow(db, captionId)!;
    decide(db, { captionId, version: row.version, decision, reviewer: adjudicator });
    insertAdjudication(db, captionId, adjudicator, decision, Date.now());
    return { decided: decision };
  })();
}

/**
 * Agreement over every double-reviewed caption with both votes in: overall (first voter against second)
 * and per pair of people (ordered by name, so a pair's κ does not depend on who voted first).
 */
export function agreement(db: WritableDb): {
  overall: Agreement;
  pairs: ({ a: string; b: string } & Agreement)[];
} {
  const rows = listPairedVotes(db);
  const overall: [Vote, Vote][] = [];
  const byPair = new Map<string, { a: string; b: string; pairs: [Vote, Vote][] }>();
  for (let i = 0; i + 1 < rows.length; i += 2) {
    const x = rows[i]!;
    const y = rows[i + 1]!;
    overall.push([x.decision, y.decision]);
    const [p, q] = x.reviewer < y.reviewer ? [x, y] : [y, x];
    const key = `${p.reviewer}\0${q.reviewer}`;
    const entry = byPair.get(key) ?? { a: p.reviewer, b: q.reviewer, pairs: [] };
    entry.pairs.push([p.decision, q.decision]);
    byPair.set(key, entry);
  }
  return {
    overall: cohenKappa(overall),
    pairs: [...byPair.values()].map((e) => ({ a: e.a, b: e.b, ...cohenKappa(e.pairs) })),
  };
}

/** Whether `me` already voted on this caption (a double-review caption waits for someone else then). */
export const votedOn = (db: WritableDb, captionId: CaptionId, me: string | null): boolean =>
  me !== null && hasVoted(db, captionId, me);

export interface PersonFigures {
  reviewer: string;
  decisions: number;
  accepts: number;
  rejects: number;
  edits: number;
  flags: number;
  votes: number;
  /** Decisions in the last hour. */
  lastHour: number;
  /** Decisions per hour between their first and last decision (at least a minute). */
  perHour: number;
}

/**
 * The team dashboard: per person their decisions (accept/reject/edit mix, blind votes), pace, and what is
 * left — pending captions, how many are leased now, disagreements waiting for adjudication.
 */
export function teamDashboard(
  db: WritableDb,
  now = Date.now(),
): {
  people: PersonFigures[];
  pending: number;
  leased: number;
  adjudications: number;
} {
  const rows = listReviewerDecisions(db, now - 3_600_000);
  const votes = new Map(countVotesByReviewer(db).map((v) => [v.reviewer, v.n]));
  const people = new Map<string, PersonFigures>();
  for (const r of rows) {
    // A decision by two agreeing voters ("A + B") counts for each of them.
    for (const name of r.reviewer.split(' + ')) {
      const p = people.get(name) ?? {
        reviewer: name,
        decisions: 0,
        accepts: 0,
        rejects: 0,
        edits: 0,
        flags: 0,
        votes: votes.get(name) ?? 0,
        lastHour: 0,
        perHour: 0,
      };
      p.decisions += r.decisions;
      p.accepts += r.accepts;
      p.rejects += r.rejects;
      p.edits += r.edits;
      p.flags += r.flags;
      p.lastHour += r.last_hour;
      const hours = Math.max(r.last_at - r.first_at, 60_000) / 3_600_000;
      p.perHour = Math.round((p.perHour + r.decisions / hours) * 10) / 10;
      people.set(name, p);
    }
  }
  return {
    people: [...people.values()].sort((a, b) => b.decisions - a.decisions),
    pending: countPendingCaptions(db),
    leased: countLiveLeases(db, now),
    adjudications: adjudicationQueue(db).length,
  };
}

/**
 * Takes back `reviewer`'s newest blind vote when it is newer than their newest decision and still
 * alone (nobody voted second yet); null when there is no such vote (undo then reverses a decision).
 * A vote that completed a pair is part of a decision the other person shares: it stays.
 */
export function takeBackVote(db: WritableDb, reviewer: string): CaptionId | null {
  return db.transaction(() => {
    const vote = getNewestVote(db, reviewer);
    if (!vote) return null;
    const lastDecisionAt = getLastDecisionAt(db, reviewer);
    if (lastDecisionAt !== null && lastDecisionAt > vote.created_at) return null;
    if (countVotes(db, vote.caption_id) !== 1) return null;
    deleteVote(db, vote.caption_id, reviewer);
    return asCaptionId(vote.caption_id);
  })();
}
