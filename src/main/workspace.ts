import { mkdirSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { openDatabase } from './db/open';
import type { MigrationReport } from './db/migrate';
import type { Db } from './db/types';
import { EventBus } from './events';
import { jobDefinitions } from './jobs';
import { JobRunner } from './jobs/runner';
import { closeTextEncoders } from './ml/encoder-pool';

/** One open workspace: its database, event bus and job runner. Every front door works through one. */
export interface Workspace {
  readonly file: string;
  readonly db: Db;
  readonly bus: EventBus;
  readonly jobs: JobRunner;
  /** Thumbnails and other derived files, beside the workspace file; safe to delete. */
  readonly cacheDir: string;
  readonly migration: MigrationReport;
  close(): Promise<void>;
}

export interface OpenWorkspaceOptions {
  /** Resume interrupted jobs right away (the app and server do; one-shot CLI commands may not). */
  resumeJobs?: boolean;
  jobConcurrency?: number;
}

export function openWorkspace(file: string, opts: OpenWorkspaceOptions = {}): Workspace {
  const inMemory = file === ':memory:';
  const path = inMemory ? file : resolve(file);
  const { db, migration } = openDatabase(path);
  const bus = new EventBus();
  const jobs = new JobRunner(db, bus, jobDefinitions, opts.jobConcurrency ?? 2);
  const cacheDir = inMemory ? join(process.cwd(), '.ctgi', 'cache') : join(dirname(path), `${basename(path)}.cache`);
  mkdirSync(cacheDir, { recursive: true });
  if (opts.resumeJobs ?? true) jobs.recover();
  let closed = false;
  return {
    file: path,
    db,
    bus,
    jobs,
    cacheDir,
    migration,
    async close() {
      if (closed) return;
      closed = true;
      await jobs.close();
      await closeTextEncoders(db);
      db.close();
    },
  };
}

/** The workspace used when none is named: `$CTGI_WORKSPACE`, else `./.ctgi/workspace.sqlite`. */
export function defaultWorkspaceFile(): string {
  return process.env.CTGI_WORKSPACE ?? join(process.cwd(), '.ctgi', 'workspace.sqlite');
}
