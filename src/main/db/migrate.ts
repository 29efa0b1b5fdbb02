import { copyFileSync, existsSync } from 'node:fs';
import type { Db } from './types';
import { AppError } from '../errors';

export interface Migration {
  name: string;
  up: (db: Db) => void;
}

export interface MigrationReport {
  from: number;
  to: number;
  backupPath: string | null;
}

/**
 * Brings the schema to `migrations.length`, one transaction per step. A file-backed database that
 * needs work is first copied to `<file>.v<from>.bak` (after a checkpoint, so the copy is whole).
 * A database written by a newer CTGI Studio is refused rather than guessed at.
 */
export function migrate(db: Db, migrations: readonly Migration[], file: string | null): MigrationReport {
  const from = db.pragma('user_version', { simple: true }) as number;
  const to = migrations.length;
  if (from > to) {
    throw new AppError(
      'conflict',
      `This workspace was written by a newer CTGI Studio (schema ${from}; this version knows ${to}). ` +
        'Update CTGI Studio to open it; the file was left untouched.',
    );
  }
  if (from === to) return { from, to, backupPath: null };

  let backupPath: string | null = null;
  if (file !== null && from > 0 && existsSync(file)) {
    db.pragma('wal_checkpoint(TRUNCATE)');
    backupPath = `${file}.v${from}.bak`;
    copyFileSync(file, backupPath);
  }
  for (let version = from; version < to; version++) {
    const step = migrations[version]!;
    db.transaction(() => {
      step.up(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return { from, to, backupPath };
}
