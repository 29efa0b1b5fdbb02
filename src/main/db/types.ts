import type BetterSqlite3 from 'better-sqlite3';

declare const readable: unique symbol;
declare const writable: unique symbol;

/**
 * A connection a function may read through (after Signal Desktop's `ReadableDB`): statements and pragmas,
 * but no `transaction` and no `exec`, so a read path cannot open a write. The workspace's `reader` is one
 * opened `readonly` (SQLite refuses a write on it at run time too); its read-write connection is also one.
 * Repos that only read take this.
 */
export type ReadableDb = Omit<BetterSqlite3.Database, 'exec' | 'transaction'> & {
  readonly [readable]: true;
};

/**
 * The workspace's read-write connection (Signal's `WritableDB`). Repos that INSERT, UPDATE, DELETE,
 * REPLACE, CREATE or open a transaction take this; a `ReadableDb` cannot be passed where it is needed.
 */
export type WritableDb = BetterSqlite3.Database & { readonly [readable]: true; readonly [writable]: true };

/** Marks a connection this process opened read-write (db/open.ts; tests that open their own). */
export const asWritableDb = (db: BetterSqlite3.Database): WritableDb => db as WritableDb;

/** Marks a connection as one to read through (the workspace's `readonly` reader). */
export const asReadableDb = (db: BetterSqlite3.Database): ReadableDb => db as unknown as ReadableDb;
