import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import { migrate, type MigrationReport } from './migrate';
import { migrations } from './migrations';
import type { Db } from './types';

export interface OpenedDb {
  db: Db;
  migration: MigrationReport;
}

/** Opens (creating if needed) a workspace file, or `:memory:`, with the pragmas every connection uses. */
export function openDatabase(file: string): OpenedDb {
  const inMemory = file === ':memory:';
  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  if (!inMemory) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  sqliteVec.load(db);
  const migration = migrate(db, migrations, inMemory ? null : file);
  return { db, migration };
}
