// Migration 011 (re-ID layouts) on a workspace that already holds images: those with a person id become
// identities, the rest unknown; the new columns are empty and the constraints refuse values outside the lists.
import { asWritableDb } from '../../src/main/db/types';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/main/db/migrate';
import { migrations } from '../../src/main/db/migrations';

describe('migration 011: re-ID layouts', () => {
  it('marks images that have a person id as identities, the others as unknown', () => {
    const db = asWritableDb(new Database(':memory:'));
    migrate(db, migrations.slice(0, 10), null);
    db.exec(`
      INSERT INTO datasets (id, name, format, root, status, created_at) VALUES (1, 'd', 'folder', '/x', 'ready', 1);
      INSERT INTO identities (id, dataset_id, person_id) VALUES (1, 1, '0002');
      INSERT INTO images (id, dataset_id, rel_path, sha256, width, height, bytes, format, identity_id, split, created_at)
        VALUES (1, 1, 'a.jpg', 'a', 1, 1, 1, 'jpeg', 1, 'test', 1),
               (2, 1, 'b.jpg', 'b', 1, 1, 1, 'jpeg', NULL, NULL, 1);
    `);
    migrate(db, migrations, null);
    expect(db.prepare(`SELECT id, person_kind, role, source_group FROM images ORDER BY id`).all()).toEqual([
      { id: 1, person_kind: 'identity', role: null, source_group: null },
      { id: 2, person_kind: 'unknown', role: null, source_group: null },
    ]);
    expect(db.prepare(`SELECT layout FROM datasets`).get()).toEqual({ layout: null });
    expect(() => db.exec(`UPDATE images SET role = 'probe' WHERE id = 1`)).toThrow(/CHECK/);
    expect(() => db.exec(`UPDATE images SET person_kind = 'ghost' WHERE id = 1`)).toThrow(/CHECK/);
    expect(() => db.exec(`UPDATE datasets SET layout = 'viper'`)).toThrow(/CHECK/);
    db.exec(`UPDATE datasets SET layout = 'market'`);
  });
});
