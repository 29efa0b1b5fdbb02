// People on a shared server (issue 13): named users with a role and their own secret link. Only the
// token's SHA-256 is stored; the token itself is shown once, when the user is created.
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '#shared/access';
import type { TeamUser } from '#shared/team/types';
import { releaseAllLeases } from '../db/repos/leases';
import {
  getActiveUserByTokenHash,
  getUserByName,
  insertAdminAudit,
  insertUser,
  isUserActive,
  listUserRows,
  setUserRevoked,
  type UserRow,
} from '../db/repos/users';
import type { WritableDb } from '../db/types';
import { AppError } from '../errors';

const toUser = (r: UserRow): TeamUser => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Who did what to whom (creating and revoking people), for the admin's audit trail. */
export function auditAdmin(db: WritableDb, actor: string, action: string, target: string): void {
  insertAdminAudit(db, actor, action, target, Date.now());
}

export function listUsers(db: WritableDb): TeamUser[] {
  return listUserRows(db).map(toUser);
}

export function addUser(
  db: WritableDb,
  name: string,
  role: Role,
  actor: string,
): { user: TeamUser; token: string } {
  // A prefix tells a user token from the owner's at a glance (in a support message, not for security).
  const token = `u_${randomBytes(24).toString('base64url')}`;
  return db.transaction(() => {
    const taken = getUserByName(db, name);
    if (taken) {
      throw new AppError(
        'conflict',
        taken.revoked_at === null
          ? `There is already a user named "${name}". Pick another name, or revoke theirs first to issue a new link.`
          : `"${name}" was revoked; their decisions keep that name in the audit trail. Pick another name (e.g. "${name} 2").`,
      );
    }
    const now = Date.now();
    const id = insertUser(db, name, role, hashToken(token), now);
    auditAdmin(db, actor, `add ${role}`, name);
    return { user: { id, name, role, createdAt: now, revokedAt: null }, token };
  })();
}

/** The link stops working at the next request; the user's leases are handed back at once. */
export function revokeUser(db: WritableDb, name: string, actor: string): { revoked: boolean } {
  return db.transaction(() => {
    const row = getUserByName(db, name);
    if (!row)
      throw new AppError('not_found', `There is no user named "${name}" (see \`ctgi users --list\`).`);
    if (row.revoked_at !== null) return { revoked: false };
    setUserRevoked(db, row.id, Date.now());
    releaseAllLeases(db, row.name);
    auditAdmin(db, actor, 'revoke', row.name);
    return { revoked: true };
  })();
}

/** The active (not revoked) user whose link this token is, if any. */
export function userByToken(db: WritableDb, token: string): TeamUser | null {
  const row = getActiveUserByTokenHash(db, hashToken(token));
  return row ? toUser(row) : null;
}

/** Whether this user id is still active (a signed media URL is only as good as its signer). */
export function userActive(db: WritableDb, id: number): boolean {
  return isUserActive(db, id);
}
