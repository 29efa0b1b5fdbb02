// The review and export channels of the service façade (src/main/api/handlers.ts spreads them in).
import type { ReviewInvokeResults } from '#shared/review/contract';
import { OWNER } from '#shared/team/types';
import type { HandlersFor } from '#shared/handlers';
import { deleteSavedFilter, listSavedFilters, upsertSavedFilter } from '../db/repos/review';
import { previewExport, startExport } from '../jobs/export';
import { startScore } from '../jobs/score';
import type { Workspace } from '../workspace';
import { assertNotLeasedByOther, heldByOther, holdCaption, releaseLeases } from '../team/leases';
import { castVote, isDoubleReview, takeBackVote, votedOn } from '../team/agreement';
import { actingName } from '../team/handlers';
import { cleanCaption } from './text';
import { bulkDecide, decide, edit, getHistory, getItem, getNeighbor, undo } from './desk';
import { listQueue } from './queue';
import { getScoreCoverage } from '../db/repos/scores';
import { withScore } from './score';
import { getReviewStats } from './stats';

/** How many held captions one step of the unreviewed walk may skip (a team of 20 holds far fewer). */
const NEIGHBOR_HOPS = 1000;

export function reviewHandlers(ws: Workspace): HandlersFor<keyof ReviewInvokeResults> {
  const { db } = ws;
  const changed = (): void => ws.bus.emit('library:changed', { datasetId: null });
  return {
    'review:queue': ({ filter, offset, limit }) => listQueue(db, filter, offset, limit),
    'review:item': ({ captionId }) => withScore(db, ws.services.encoders, getItem(db, captionId)),
    'review:neighbor': async ({ filter, from, direction, unreviewed }, caller = OWNER) => {
      // A team on one queue: walking the unreviewed captions skips those someone else holds (or this
      // person already voted on blind), and a named user leases the one they are shown (released when they
      // decide it or go idle).
      const me = caller.kind === 'user' ? caller.name : null;
      const item = getNeighbor(
        db,
        filter,
        from,
        direction,
        unreviewed,
        unreviewed
          ? {
              refuses: (id) => heldByOther(db, id, me) !== null || votedOn(db, id, me),
              maxHops: NEIGHBOR_HOPS,
            }
          : undefined,
      );
      if (item && unreviewed && me !== null) holdCaption(db, item.caption.id, me);
      // In a score order an unscored caption sits in the tail; scoring it on view would move it into the
      // scored range under the walk (its next would be looked up from the new score), so it stays unscored
      // there until the score job reaches it.
      if (item && filter.order !== undefined && filter.order !== 'image') return item;
      return item ? withScore(db, ws.services.encoders, item) : null;
    },
    // A caption someone else holds a lease on is theirs to decide; deciding one's own hands it back.
    'review:decide': (arg, caller = OWNER) => {
      const reviewer = actingName(caller, arg.reviewer);
      assertNotLeasedByOther(db, arg.captionId, reviewer);
      // A named user's accept/reject in the double-review share is a blind vote (team/agreement.ts).
      const vote = arg.decision === 'accept' || arg.decision === 'reject' ? arg.decision : null;
      if (caller.kind === 'user' && vote !== null && isDoubleReview(db, arg.captionId)) {
        const cast = castVote(db, { ...arg, decision: vote, text: null, reviewer });
        releaseLeases(db, reviewer, [arg.captionId]);
        return getItem(db, cast.captionId);
      }
      const item = decide(db, { ...arg, reviewer });
      releaseLeases(db, reviewer, [arg.captionId]);
      return item;
    },
    'review:edit': (arg, caller = OWNER) => {
      const reviewer = actingName(caller, arg.reviewer);
      assertNotLeasedByOther(db, arg.captionId, reviewer);
      if (caller.kind === 'user' && arg.status === 'accepted' && isDoubleReview(db, arg.captionId)) {
        const cast = castVote(db, { ...arg, decision: 'accept', text: cleanCaption(arg.text), reviewer });
        releaseLeases(db, reviewer, [arg.captionId]);
        return withScore(db, ws.services.encoders, getItem(db, cast.captionId));
      }
      const item = edit(db, { ...arg, reviewer });
      releaseLeases(db, reviewer, [arg.captionId]);
      return withScore(db, ws.services.encoders, item);
    },
    'review:undo': ({ reviewer }, caller = OWNER) => {
      const name = actingName(caller, reviewer);
      // A teammate's newest action may be a blind vote (double review): undo takes that back first.
      const unvoted = caller.kind === 'user' ? takeBackVote(db, name) : null;
      if (unvoted !== null) return { undone: 'Took back your blind vote', item: getItem(db, unvoted) };
      return undo(db, name);
    },
    'review:history': ({ captionId }) => getHistory(db, captionId),
    'review:bulk': (arg, caller = OWNER) => {
      const result = bulkDecide(db, { ...arg, reviewer: actingName(caller, arg.reviewer) });
      if (result.changed > 0) changed();
      return result;
    },
    'review:stats': ({ datasetId }) => getReviewStats(db, datasetId),
    'review:filters': () => listSavedFilters(db),
    'review:saveFilter': ({ name, filter }) => upsertSavedFilter(db, name, filter),
    'review:deleteFilter': ({ id }) => ({ deleted: deleteSavedFilter(db, id) }),
    'review:scoreCoverage': ({ filter }) => getScoreCoverage(db, filter),
    'review:scoreAll': (arg) => startScore(ws, arg),
    'export:preview': (arg) => previewExport(ws, arg),
    'export:start': (arg) => startExport(ws, arg),
  };
}
