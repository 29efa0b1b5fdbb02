import { copyFileSync, existsSync } from 'node:fs';
import type { WritableDb } from './types';
import { AppError } from '../errors';

export interface Migration {
  name: string;
  up: (db: WritableDb) => void;
  /**
   * The step rebuilds a table that others reference (SQLite cannot change a CHECK in place): foreign keys
   * are switched off around it, as SQLite's own procedure for such changes requires (with them on, the
   * DROP of the old table would cascade into its children), and checked whole before it commits.
   */
  rebuildsReferencedTable?: boolean;
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
export function migrate(
  db: WritableDb,
  migrations: readonly Migration[],
  file: string | null,
): MigrationReport {
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
    // Outside the transaction: SQLite ignores this pragma inside one.
    const keysOff =
      step.rebuildsReferencedTable === true && db.pragma('foreign_keys', { simple: true }) === 1;
    if (keysOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        step.up(db);
        // What the keys would have refused, refused here instead (a connection that had them off opted out).
        if (keysOff) {
          const broken = db.pragma('foreign_key_check') as { table: string }[];
          if (broken.length > 0)
            throw new AppError(
              'internal',
              `Migration "${step.name}" would leave ${broken.length} broken references (first in ${broken[0]!.table}); nothing was changed.`,
            );
        }
        db.pragma(`user_version = ${version + 1}`);
      })();
    } finally {
      if (keysOff) db.pragma('foreign_keys = ON');
    }
  }
  return { from, to, backupPath };
}
