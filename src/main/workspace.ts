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
  /**
   * The app and the server run all queued work and resume interrupted jobs at once; a one-shot CLI
   * command runs only the jobs it starts or resumes itself.
   */
  resumeJobs?: boolean;
  jobConcurrency?: number;
  /** better-sqlite3's addon for this runtime; see OpenDatabaseOptions (set by the Electron shell only). */
  nativeBinding?: string;
}

export function openWorkspace(file: string, opts: OpenWorkspaceOptions = {}): Workspace {
  const inMemory = file === ':memory:';
  const path = inMemory ? file : resolve(file);
  const { db, migration } = openDatabase(path, { nativeBinding: opts.nativeBinding });
  const bus = new EventBus();
  const resumeJobs = opts.resumeJobs ?? true;
  const jobs = new JobRunner(db, bus, jobDefinitions, {
    concurrency: opts.jobConcurrency ?? 2,
    adoptQueued: resumeJobs,
  });
  const cacheDir = inMemory
    ? join(process.cwd(), '.ctgi', 'cache')
    : join(dirname(path), `${basename(path)}.cache`);
  mkdirSync(cacheDir, { recursive: true });
  if (resumeJobs) jobs.recover();
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
