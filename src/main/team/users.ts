// People on a shared server (issue 13): named users with a role and their own secret link. Only the
// token's SHA-256 is stored; the token itself is shown once, when the user is created.
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../../shared/access';
import type { TeamUser } from '../../shared/team-contract';
import type { Db } from '../db/types';
import { AppError } from '../errors';

interface UserRow {
  id: number;
  name: string;
  role: Role;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const toUser = (r: UserRow): TeamUser => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Who did what to whom (creating and revoking people), for the admin's audit trail. */
export function auditAdmin(db: Db, actor: string, action: string, target: string): void {
  db.prepare(`INSERT INTO admin_audit (actor, action, target, created_at) VALUES (?, ?, ?, ?)`).run(
    actor,
    action,
    target,
    Date.now(),
  );
}

export function listUsers(db: Db): TeamUser[] {
  return (db.prepare(`SELECT * FROM users ORDER BY revoked_at IS NOT NULL, name`).all() as UserRow[]).map(
    toUser,
  );
}

export function addUser(db: Db, name: string, role: Role, actor: string): { user: TeamUser; token: string } {
  // A prefix tells a user token from the owner's at a glance (in a support message, not for security).
  const token = `u_${randomBytes(24).toString('base64url')}`;
  return db.transaction(() => {
    const taken = db.prepare(`SELECT revoked_at FROM users WHERE name = ?`).get(name) as
      { revoked_at: number | null } | undefined;
    if (taken) {
      throw new AppError(
        'conflict',
        taken.revoked_at === null
          ? `There is already a user named "${name}". Pick another name, or revoke theirs first to issue a new link.`
          : `"${name}" was revoked; their decisions keep that name in the audit trail. Pick another name (e.g. "${name} 2").`,
      );
    }
    const now = Date.now();
    const id = Number(
      db
        .prepare(`INSERT INTO users (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)`)
        .run(name, role, hashToken(token), now).lastInsertRowid,
    );
    auditAdmin(db, actor, `add ${role}`, name);
    return { user: { id, name, role, createdAt: now, revokedAt: null }, token };
  })();
}

/** The link stops working at the next request; the user's leases are handed back at once. */
export function revokeUser(db: Db, name: string, actor: string): { revoked: boolean } {
  return db.transaction(() => {
    const row = db.prepare(`SELECT * FROM users WHERE name = ?`).get(name) as UserRow | undefined;
    if (!row)
      throw new AppError('not_found', `There is no user named "${name}" (see \`ctgi users --list\`).`);
    if (row.revoked_at !== null) return { revoked: false };
    db.prepare(`UPDATE users SET revoked_at = ? WHERE id = ?`).run(Date.now(), row.id);
    db.prepare(`DELETE FROM review_leases WHERE holder = ?`).run(row.name);
    auditAdmin(db, actor, 'revoke', row.name);
    return { revoked: true };
  })();
}

/** The active (not revoked) user whose link this token is, if any. */
export function userByToken(db: Db, token: string): TeamUser | null {
  const row = db
    .prepare(`SELECT * FROM users WHERE token_hash = ? AND revoked_at IS NULL`)
    .get(hashToken(token)) as UserRow | undefined;
  return row ? toUser(row) : null;
}

/** Whether this user id is still active (a signed media URL is only as good as its signer). */
export function userActive(db: Db, id: number): boolean {
  return db.prepare(`SELECT 1 FROM users WHERE id = ? AND revoked_at IS NULL`).get(id) !== undefined;
}
