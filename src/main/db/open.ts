import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import { unpackedPath } from '../unpacked';
import { migrate, type MigrationReport } from './migrate';
import { migrations } from './migrations';
import { formatSlowQuery, logSlowQueries, slowQueryMsFromEnv, stmt, type SlowQueryLog } from './statements';
import { asReadableDb, asWritableDb, type ReadableDb, type WritableDb } from './types';

export interface OpenedDb {
  db: WritableDb;
  migration: MigrationReport;
}

export interface OpenDatabaseOptions {
  /**
   * better-sqlite3's compiled addon to load instead of the one in node_modules. Only the Electron shell
   * sets it: node_modules holds the build for Node's module ABI (CLI, server, tests), and Electron needs
   * its own (scripts/electron-native.mjs).
   */
  nativeBinding?: string;
  /**
   * Statements slower than a threshold, logged with their plan (development). Default: on when
   * CTGI_SLOW_QUERY_MS is set (to a number of ms), written to stderr; off otherwise. null: off.
   */
  slowQueries?: SlowQueryLog | null;
}

function slowQueryLogFromEnv(): SlowQueryLog | null {
  const thresholdMs = slowQueryMsFromEnv();
  return thresholdMs === null
    ? null
    : { thresholdMs, report: (q) => process.stderr.write(`${formatSlowQuery(q)}\n`) };
}

/** Opens (creating if needed) a workspace file, or `:memory:`, with the pragmas every connection uses. */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): OpenedDb {
  const inMemory = file === ':memory:';
  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  const db = asWritableDb(
    new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
  );
  try {
    const slow = opts.slowQueries === undefined ? slowQueryLogFromEnv() : opts.slowQueries;
    if (slow) logSlowQueries(db, slow);
    if (!inMemory) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // SQLite opens the extension itself, so in a packaged app it must be the unpacked copy.
    db.loadExtension(unpackedPath(sqliteVec.getLoadablePath()));
    const migration = migrate(db, migrations, inMemory ? null : file);
    return { db, migration };
  } catch (err) {
    // A failed open (a full disk mid-migration, a database from the future) must not hold the file.
    db.close();
    throw err;
  }
}

/**
 * A second, `readonly` connection to a workspace file that `openDatabase` has opened (and migrated): what
 * read paths are given (`Workspace.reader`), so that a read path cannot write, by type and at run time
 * (SQLite answers SQLITE_READONLY). WAL lets it read while the read-write connection writes; each
 * statement sees what was committed when it started. Not for `:memory:` (another connection would be
 * another, empty database): the caller reads through the one connection then.
 */
export function openReader(file: string, opts: OpenDatabaseOptions = {}): ReadableDb {
  if (file === ':memory:') throw new TypeError('An in-memory database has no second connection.');
  const db = new Database(file, {
    readonly: true,
    fileMustExist: true,
    ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
  });
  try {
    const slow = opts.slowQueries === undefined ? slowQueryLogFromEnv() : opts.slowQueries;
    if (slow) logSlowQueries(asReadableDb(db), slow);
    db.pragma('busy_timeout = 5000');
    db.loadExtension(unpackedPath(sqliteVec.getLoadablePath()));
    return asReadableDb(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The SQLite library's version, as the connection reports it. */
export const sqliteVersion = (db: ReadableDb): string =>
  stmt(db, `SELECT sqlite_version()`, 'pluck').get() as string;
