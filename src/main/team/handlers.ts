// The team channels of the service façade (src/main/api/handlers.ts spreads them in).
import { OWNER, type Caller } from '#shared/team/types';
import type { TeamInvokeResults } from '#shared/team/contract';
import type { HandlersFor } from '#shared/handlers';
import type { Workspace } from '../workspace';
import {
  adjudicate,
  adjudicationQueue,
  agreement,
  doubleShare,
  setDoubleShare,
  teamDashboard,
} from './agreement';
import { listLeases, pullBatch, releaseLeases, renewLeases } from './leases';
import { addUser, listUsers, revokeUser } from './users';

/**
 * The name a decision, an undo or a lease is recorded under: a named user is always their own name (never
 * what the page typed); the owner (the desktop app, the server's own token) is one person at their own
 * desk and keeps the name typed there.
 */
export const actingName = (caller: Caller, typed: string): string =>
  caller.kind === 'user' ? caller.name : typed;

export function teamHandlers(ws: Workspace): HandlersFor<keyof TeamInvokeResults> {
  const { db } = ws;
  return {
    'session:whoami': (_arg, caller = OWNER) => caller,
    'users:list': () => listUsers(db),
    'users:add': ({ name, role }, caller = OWNER) => addUser(db, name, role, caller.name),
    'users:revoke': ({ name }, caller = OWNER) => revokeUser(db, name, caller.name),
    'review:pull': ({ filter, size, reviewer }, caller = OWNER) =>
      pullBatch(db, actingName(caller, reviewer), filter, size),
    'review:renew': ({ captionIds, reviewer }, caller = OWNER) =>
      renewLeases(db, actingName(caller, reviewer), captionIds),
    'review:release': ({ captionIds, reviewer }, caller = OWNER) =>
      releaseLeases(db, actingName(caller, reviewer), captionIds),
    'review:leases': ({ captionIds }) => listLeases(db, captionIds),
    'team:setShare': ({ share }, caller = OWNER) => setDoubleShare(db, share, caller.name),
    'team:agreement': () => ({ share: doubleShare(db), ...agreement(db) }),
    'review:adjudications': () => adjudicationQueue(db),
    'team:dashboard': () => ({
      ...teamDashboard(db),
      agreement: { share: doubleShare(db), ...agreement(db) },
    }),
    'review:adjudicate': ({ captionId, decision }, caller = OWNER) =>
      adjudicate(db, captionId, decision, caller.name),
  };
}
