import { asWritableDb } from '../../src/main/db/types';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
    const db = asWritableDb(new Database(file));
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
    const db = asWritableDb(new Database(':memory:'));
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
    const db = asWritableDb(new Database(file));
    db.pragma(`user_version = ${migrations.length + 5}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(/newer CTGI Studio/);
    const again = asWritableDb(new Database(file));
    expect(again.pragma('user_version', { simple: true })).toBe(migrations.length + 5);
    again.close();
  });
});

describe('the schema as shipped', () => {
  const folder = join(import.meta.dirname, '../../src/main/db/migrations');
  const stepFiles = readdirSync(folder)
    .filter((f) => /^\d{3}-.+\.ts$/.test(f))
    .sort();
  const sha256 = (file: string): string =>
    createHash('sha256')
      .update(readFileSync(join(folder, file), 'utf8').replace(/\r\n/g, '\n'))
      .digest('hex');

  it('is the committed snapshot after every step (a schema change shows up in review as a diff)', async () => {
    const { db } = openDatabase(':memory:');
    const rows = db
      .prepare(
        `SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY type, name`,
      )
      .all() as { type: string; name: string; sql: string }[];
    db.close();
    const dump = rows.map((r) => `-- ${r.type} ${r.name}\n${r.sql};\n`).join('\n');
    await expect(`-- user_version ${migrations.length}\n\n${dump}`).toMatchFileSnapshot(
      './__snapshots__/schema.sql',
    );
  });

  it('has one file per step, numbered in the order the list applies them', () => {
    expect(stepFiles.length).toBe(migrations.length);
    stepFiles.forEach((f, i) => expect(f.slice(0, 3), f).toBe(String(i + 1).padStart(3, '0')));
  });

  it('refuses an edited shipped step: each step file still has the hash it shipped with', () => {
    const shipped = JSON.parse(readFileSync(join(folder, 'shipped.json'), 'utf8')) as Record<string, string>;
    for (const file of stepFiles) {
      const hash = sha256(file);
      const expected = shipped[file];
      if (expected === undefined) {
        throw new Error(
          `${file} is a new migration step: once it is final, add "${file}": "${hash}" to ` +
            `src/main/db/migrations/shipped.json. A shipped step is never edited; add a new step instead.`,
        );
      }
      expect(
        hash,
        `${file} was edited after it shipped. Workspaces already at this step would never see the change: ` +
          'revert it and add a new step instead.',
      ).toBe(expected);
    }
  });
});
