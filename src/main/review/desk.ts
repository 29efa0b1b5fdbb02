// The review desk's service: items, decisions, edits, undo and bulk actions. Every change is one
// transaction that checks the caption's `version` (optimistic locking: two windows on one caption get a
// conflict, never a silent overwrite) and writes its audit row with before/after. Model output is never
// overwritten: an edit adds a row (source 'edited') and makes it the chain's current one.
import type { CaptionStatus } from '#shared/library/types';
import type {
  ReviewAction,
  ReviewBulkResult,
  ReviewDecision,
  ReviewFilter,
  ReviewHistoryEntry,
  ReviewItem,
  ReviewUndoResult,
} from '#shared/review/types';
import { asCaptionId, asDatasetId, asImageId, type CaptionId } from '#shared/ids';
import {
  getCaptionRow,
  getCaptionScore,
  getImageForReview,
  countLiveActionsAfter,
  insertEditedCaption,
  insertReview,
  lastUndoableReview,
  listBatch,
  listChain,
  listOtherHumanCaptions,
  listReviewsForCaptions,
  markUndone,
  nextBatch,
  rootOf,
  scoringModel,
  setCaptionCurrentIf,
  updateCaptionStatusIf,
  type CaptionRowFull,
  type ReviewRow,
} from '../db/repos/review';
import type { WritableDb } from '../db/types';
import { AppError, notFound } from '../errors';
import { getEvidence } from './evidence';
import { listQueueIds, neighborId } from './queue';
import { cleanCaption } from './text';

const STATUS_OF: Record<ReviewDecision, CaptionStatus> = {
  accept: 'accepted',
  reject: 'rejected',
  flag: 'flagged',
  reset: 'pending',
};

/** The most captions one bulk action may change: beyond that the user should narrow the filter. */
export const BULK_LIMIT = 200_000;

const hhmm = (ms: number): string => {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

/** The message both windows' users read: when, and what to do. */
export function conflictError(db: WritableDb, id: CaptionId): AppError {
  const row = getCaptionRow(db, id);
  if (!row) return notFound(`Caption ${id}`);
  return new AppError(
    'conflict',
    `This caption was changed in another window at ${hhmm(row.updated_at)} — reload to see it.`,
  );
}

function requireCaption(db: WritableDb, id: CaptionId): CaptionRowFull {
  const row = getCaptionRow(db, id);
  if (!row) throw notFound(`Caption ${id}`);
  return row;
}

const parseJson = (s: string | null): Record<string, unknown> | null =>
  s === null ? null : (JSON.parse(s) as Record<string, unknown>);

const toHistory = (r: ReviewRow): ReviewHistoryEntry => ({
  id: r.id,
  captionId: asCaptionId(r.caption_id),
  reviewer: r.reviewer,
  action: r.action,
  before: parseJson(r.before),
  after: parseJson(r.after),
  createdAt: r.created_at,
  undone: r.undone_by !== null,
});

/** The audit trail of a caption's whole chain (the model's row and every edit of it), newest first. */
export function getHistory(db: WritableDb, id: CaptionId): ReviewHistoryEntry[] {
  const row = requireCaption(db, id);
  const chain = listChain(db, rootOf(row)).map((c) => asCaptionId(c.id));
  return listReviewsForCaptions(db, chain).map(toHistory);
}

export function getItem(db: WritableDb, id: CaptionId): ReviewItem {
  const row = requireCaption(db, id);
  const img = getImageForReview(db, asImageId(row.image_id));
  if (!img) throw notFound(`Image ${row.image_id}`);
  const root = rootOf(row);
  const chain = listChain(db, root);
  const first = chain[0] ?? row;
  const humanCaptions = listOtherHumanCaptions(db, asImageId(row.image_id), root).map((h) => ({
    captionId: asCaptionId(h.id),
    text: h.text,
  }));
  const model = scoringModel(db);
  const value = model ? getCaptionScore(db, id, model.id) : undefined;
  return {
    caption: {
      id: asCaptionId(row.id),
      imageId: asImageId(row.image_id),
      source: row.source,
      text: row.text,
      status: row.status,
      version: row.version,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      derivedFrom: row.derived_from === null ? null : asCaptionId(row.derived_from),
    },
    image: {
      id: asImageId(img.id),
      datasetId: asDatasetId(img.dataset_id),
      relPath: img.rel_path,
      width: img.width,
      height: img.height,
      personId: img.person_id,
      split: img.split,
      captionCount: img.caption_count,
      datasetName: img.dataset_name,
      camera: img.camera,
    },
    original: { captionId: asCaptionId(first.id), source: first.source, text: first.text },
    humanCaptions,
    evidence: getEvidence(db, root),
    score: model && value !== undefined ? { model: model.name, value } : null,
    history: listReviewsForCaptions(
      db,
      chain.map((c) => asCaptionId(c.id)),
    ).map(toHistory),
  };
}

export function getNeighbor(
  db: WritableDb,
  filter: ReviewFilter,
  from: CaptionId | undefined,
  direction: 'next' | 'prev',
  unreviewed: boolean,
  /** Skips captions this refuses (a teammate holds them), at most `maxHops` of them. */
  skip?: { refuses: (id: CaptionId) => boolean; maxHops: number },
): ReviewItem | null {
  let at: { imageId: number; id: number } | null = null;
  if (from !== undefined) {
    const row = requireCaption(db, from);
    at = { imageId: row.image_id, id: row.id };
  }
  let id = neighborId(db, filter, at, direction, unreviewed);
  // Hops go by id only; the item (its image, rounds, history) is read once, for the caption shown.
  for (let hops = 0; skip && id !== null && hops < skip.maxHops; hops++) {
    if (!skip.refuses(id)) break;
    const row = requireCaption(db, id);
    id = neighborId(db, filter, { imageId: row.image_id, id: row.id }, direction, unreviewed);
  }
  return id === null ? null : getItem(db, id);
}

const snapshot = (c: {
  status: CaptionStatus;
  version: number;
}): { status: CaptionStatus; version: number } => ({
  status: c.status,
  version: c.version,
});

export function decide(
  db: WritableDb,
  a: { captionId: CaptionId; version: number; decision: ReviewDecision; reviewer: string },
): ReviewItem {
  const status = STATUS_OF[a.decision];
  db.transaction(() => {
    const row = requireCaption(db, a.captionId);
    const now = Date.now();
    if (!updateCaptionStatusIf(db, a.captionId, a.version, status, now)) throw conflictError(db, a.captionId);
    insertReview(db, {
      captionId: a.captionId,
      reviewer: a.reviewer,
      action: a.decision,
      before: snapshot({ status: row.status, version: a.version }),
      after: snapshot({ status, version: a.version + 1 }),
      now,
    });
  })();
  return getItem(db, a.captionId);
}

/**
 * Accept (or another status) with edits. The edited text becomes a new row derived from the chain's
 * first caption; the row it replaces is kept, no longer current. Unchanged text is a plain decision.
 */
export function edit(
  db: WritableDb,
  a: { captionId: CaptionId; version: number; text: string; status: CaptionStatus; reviewer: string },
): ReviewItem {
  const text = cleanCaption(a.text);
  if (text === '') {
    throw new AppError(
      'bad_request',
      'The edited caption is empty. Type a description, or reject the caption instead.',
    );
  }
  const row = requireCaption(db, a.captionId);
  if (text === row.text) {
    const decision = (Object.keys(STATUS_OF) as ReviewDecision[]).find((d) => STATUS_OF[d] === a.status)!;
    return decide(db, { captionId: a.captionId, version: a.version, decision, reviewer: a.reviewer });
  }
  const newId = db.transaction(() => {
    const now = Date.now();
    const current = requireCaption(db, a.captionId);
    if (current.version !== a.version || current.is_current !== 1) throw conflictError(db, a.captionId);
    if (!setCaptionCurrentIf(db, a.captionId, a.version, false, now)) throw conflictError(db, a.captionId);
    const created = insertEditedCaption(db, {
      imageId: asImageId(current.image_id),
      root: rootOf(current),
      text,
      status: a.status,
      now,
    });
    insertReview(db, {
      captionId: a.captionId,
      reviewer: a.reviewer,
      action: 'edit',
      before: { captionId: current.id, text: current.text, status: current.status, version: a.version },
      after: { captionId: created, text, status: a.status, version: 1, replacedVersion: a.version + 1 },
      now,
    });
    return created;
  })();
  return getItem(db, newId);
}

const describeAction = (action: ReviewAction, n: number): string =>
  n > 1 ? `${action} of ${n.toLocaleString('en-US')} captions` : action === 'edit' ? 'edit' : action;

/** Decisions on a caption after audit row `afterId` that are still in force (not undone). */
function liveActionsAfter(db: WritableDb, captionId: CaptionId, afterId: number): number {
  return countLiveActionsAfter(db, captionId, afterId);
}

/**
 * Reverses one audit row. It may be undone only while nothing later is in force on the same caption
 * (the reviewer's own later actions are undone first, newest first); a later decision by someone else
 * is a conflict, never silently rolled back.
 */
function revert(
  db: WritableDb,
  r: ReviewRow,
  now: number,
): { captionId: CaptionId; before: unknown; after: unknown } {
  const before = parseJson(r.before) ?? {};
  const after = parseJson(r.after) ?? {};
  const captionId = asCaptionId(r.caption_id);
  if (liveActionsAfter(db, captionId, r.id) > 0) throw conflictError(db, captionId);
  if (r.action === 'edit') {
    const editedId = asCaptionId(Number(after.captionId));
    const edited = requireCaption(db, editedId);
    if (edited.is_current !== 1 || liveActionsAfter(db, editedId, r.id) > 0)
      throw conflictError(db, editedId);
    const replaced = requireCaption(db, captionId);
    if (!setCaptionCurrentIf(db, editedId, edited.version, false, now, true))
      throw conflictError(db, editedId);
    if (!setCaptionCurrentIf(db, captionId, replaced.version, true, now)) throw conflictError(db, captionId);
    return {
      captionId,
      before: { captionId: editedId, text: edited.text, status: edited.status, version: edited.version },
      after: {
        captionId,
        text: replaced.text,
        status: replaced.status,
        version: replaced.version + 1,
        retracted: editedId,
      },
    };
  }
  const to = before.status as CaptionStatus;
  const row = requireCaption(db, captionId);
  if (!updateCaptionStatusIf(db, captionId, row.version, to, now)) throw conflictError(db, captionId);
  return {
    captionId,
    before: { status: row.status, version: row.version },
    after: { status: to, version: row.version + 1 },
  };
}

/** Undoes this reviewer's newest action not undone yet (a whole bulk action at once). */
export function undo(db: WritableDb, reviewer: string): ReviewUndoResult {
  const result = db.transaction(() => {
    const last = lastUndoableReview(db, reviewer);
    if (!last) return null;
    const rows =
      last.batch === null
        ? [last]
        : listBatch(db, last.batch)
            .filter((r) => r.undone_by === null)
            .reverse();
    const now = Date.now();
    let focus: CaptionId = asCaptionId(last.caption_id);
    const undoIds: number[] = [];
    for (const r of rows) {
      const done = revert(db, r, now);
      const undoId = insertReview(db, {
        captionId: done.captionId,
        reviewer,
        action: 'undo',
        before: done.before,
        after: { ...(done.after as object), undoes: r.id, undoneAction: r.action },
        now,
      });
      markUndone(db, [r.id], undoId);
      undoIds.push(undoId);
      focus = done.captionId;
    }
    return { focus, text: `Undid ${describeAction(last.action, rows.length)}` };
  })();
  if (!result) return { undone: null, item: null };
  return { undone: result.text, item: getItem(db, result.focus) };
}

/**
 * Accepts or rejects every current caption matching the filter, in one transaction. `expected` is the
 * count the user saw and confirmed; if the set changed since, nothing is written.
 */
export function bulkDecide(
  db: WritableDb,
  a: { filter: ReviewFilter; decision: 'accept' | 'reject'; expected: number; reviewer: string },
): ReviewBulkResult {
  const status = STATUS_OF[a.decision];
  return db.transaction(() => {
    const ids = listQueueIds(db, a.filter);
    if (ids.length !== a.expected) {
      throw new AppError(
        'conflict',
        `The filter now matches ${ids.length.toLocaleString('en-US')} captions, not the ${a.expected.toLocaleString('en-US')} you confirmed ` +
          '(someone changed some meanwhile). Check the count and confirm again.',
      );
    }
    if (ids.length > BULK_LIMIT) {
      throw new AppError(
        'bad_request',
        `A bulk action changes at most ${BULK_LIMIT.toLocaleString('en-US')} captions; narrow the filter.`,
      );
    }
    const todo = ids.filter((c) => c.status !== status);
    if (todo.length === 0) return { changed: 0, batch: null };
    const batch = nextBatch(db);
    const now = Date.now();
    const action: ReviewAction = a.decision === 'accept' ? 'bulk-accept' : 'bulk-reject';
    for (const c of todo) {
      if (!updateCaptionStatusIf(db, c.id, c.version, status, now)) throw conflictError(db, c.id);
      insertReview(db, {
        captionId: c.id,
        reviewer: a.reviewer,
        action,
        before: { status: c.status, version: c.version },
        after: { status, version: c.version + 1 },
        now,
        batch,
      });
    }
    return { changed: todo.length, batch };
  })();
}
