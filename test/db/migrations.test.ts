import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, type Migration } from '../../src/main/db/migrate';
import { migrations } from '../../src/main/db/migrations';
import { openDatabase } from '../../src/main/db/open';

const tempFile = (): string => join(mkdtempSync(join(tmpdir(), 'ctgi-db-')), 'ws.sqlite');

describe('workspace migrations', () => {
  it('brings a new database to the latest schema with STRICT tables, foreign keys and WAL', () => {
    const file = tempFile();
    const { db, migration } = openDatabase(file);
    expect(migration).toEqual({ from: 0, to: migrations.length, backupPath: null });
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const strict = db
      .prepare(
        `SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'`,
      )
      .all() as { name: string; strict: number }[];
    expect(strict.length).toBeGreaterThan(5);
    for (const t of strict) expect(t, t.name).toMatchObject({ strict: 1 });
    db.close();
  });

  it('is idempotent: reopening applies nothing and makes no backup', () => {
    const file = tempFile();
    openDatabase(file).db.close();
    const { db, migration } = openDatabase(file);
    expect(migration.from).toBe(migration.to);
    expect(migration.backupPath).toBeNull();
    db.close();
  });

  it('copies the file to a backup before migrating an existing workspace', () => {
    const file = tempFile();
    const db = new Database(file);
    migrate(db, migrations.slice(0, 1), file);
    db.prepare(
      `INSERT INTO datasets (name, format, root, status, created_at) VALUES ('kept', 'folder', '/x', 'ready', 1)`,
    ).run();
    const extra: Migration = {
      name: 'add a column',
      up: (d) => d.exec(`ALTER TABLE datasets ADD COLUMN note TEXT`),
    };
    const report = migrate(db, [...migrations.slice(0, 1), extra], file);
    expect(report.backupPath).toBe(`${file}.v1.bak`);
    expect(existsSync(report.backupPath!)).toBe(true);
    const backup = new Database(report.backupPath!, { readonly: true });
    expect(backup.prepare(`SELECT name FROM datasets`).all()).toEqual([{ name: 'kept' }]);
    expect(backup.pragma('user_version', { simple: true })).toBe(1);
    db.close();
  });

  it('rolls back a failing step whole, leaving the version where it was', () => {
    const db = new Database(':memory:');
    const broken: Migration = {
      name: 'half-done',
      up: (d) => {
        d.exec(`CREATE TABLE half (x INTEGER) STRICT`);
        throw new Error('boom');
      },
    };
    expect(() => migrate(db, [...migrations, broken], null)).toThrow('boom');
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'`).get()).toEqual({ n: 0 });
  });

  it('refuses a workspace written by a newer version, and leaves it untouched', () => {
    const file = tempFile();
    const db = new Database(file);
    db.pragma(`user_version = ${migrations.length + 5}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(/newer CTGI Studio/);
    const again = new Database(file);
    expect(again.pragma('user_version', { simple: true })).toBe(migrations.length + 5);
    again.close();
  });
});
