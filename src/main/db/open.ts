import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import { unpackedPath } from '../unpacked';
import { migrate, type MigrationReport } from './migrate';
import { migrations } from './migrations';
import { formatSlowQuery, logSlowQueries, slowQueryMsFromEnv, stmt, type SlowQueryLog } from './statements';
import type { Db } from './types';

export interface OpenedDb {
  db: Db;
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
  const db = new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
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

/** The SQLite library's version, as the connection reports it. */
export const sqliteVersion = (db: Db): string => stmt(db, `SELECT sqlite_version()`, 'pluck').get() as string;
