// People on a shared server (issue 13): user rows (only a token's SHA-256 is stored) and the admin audit
// trail. Who may do what, and the tokens themselves, are in src/main/team/users.ts.
import type { Role } from '#shared/access';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export interface UserRow {
  id: number;
  name: string;
  role: Role;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export function insertAdminAudit(
  db: WritableDb,
  actor: string,
  action: string,
  target: string,
  now: number,
): void {
  stmt(db, `INSERT INTO admin_audit (actor, action, target, created_at) VALUES (?, ?, ?, ?)`).run(
    actor,
    action,
    target,
    now,
  );
}

/** Active users first, by name. */
export const listUserRows = (db: ReadableDb): UserRow[] =>
  stmt(db, `SELECT * FROM users ORDER BY revoked_at IS NOT NULL, name`).all() as UserRow[];

export const getUserByName = (db: ReadableDb, name: string): UserRow | undefined =>
  stmt(db, `SELECT * FROM users WHERE name = ?`).get(name) as UserRow | undefined;

export function insertUser(db: WritableDb, name: string, role: Role, tokenHash: string, now: number): number {
  return Number(
    stmt(db, `INSERT INTO users (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)`).run(
      name,
      role,
      tokenHash,
      now,
    ).lastInsertRowid,
  );
}

export function setUserRevoked(db: WritableDb, id: number, now: number): void {
  stmt(db, `UPDATE users SET revoked_at = ? WHERE id = ?`).run(now, id);
}

/** The active (not revoked) user with this token hash. */
export const getActiveUserByTokenHash = (db: ReadableDb, tokenHash: string): UserRow | undefined =>
  stmt(db, `SELECT * FROM users WHERE token_hash = ? AND revoked_at IS NULL`).get(tokenHash) as
    UserRow | undefined;

export const isUserActive = (db: ReadableDb, id: number): boolean =>
  stmt(db, `SELECT 1 FROM users WHERE id = ? AND revoked_at IS NULL`).get(id) !== undefined;

/** Whether some user (active or revoked) has this token hash: a revoked link is told apart from a wrong one. */
export const isKnownTokenHash = (db: ReadableDb, tokenHash: string): boolean =>
  stmt(db, `SELECT 1 FROM users WHERE token_hash = ?`).get(tokenHash) !== undefined;
