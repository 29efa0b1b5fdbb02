import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { openDatabase, openReader, type OpenDatabaseOptions } from './db/open';
import type { MigrationReport } from './db/migrate';
import type { ReadableDb, WritableDb } from './db/types';
import { AppError } from './errors';
import { EventBus } from './events';
import { jobDefinitions } from './jobs';
import { JobRunner } from './jobs/runner';
import type { KeyStore } from './llm/keys';
import { MtiSessions } from './search/mti-sessions';
import { createServices, type WorkspaceServices } from './services';

/** One open workspace: its database, event bus and job runner. Every front door works through one. */
export interface Workspace {
  readonly file: string;
  /** The read-write connection: jobs, and every handler that writes. */
  readonly db: WritableDb;
  /**
   * A second connection, opened `readonly`, for read paths (listing handlers, searches, galleries): it
   * cannot write, by type or at run time, and WAL lets it read while `db` writes. An in-memory workspace
   * has one connection only: there it is `db`, typed for reading.
   */
  readonly reader: ReadableDb;
  readonly bus: EventBus;
  readonly jobs: JobRunner;
  /** Thumbnails and other derived files, beside the workspace file; safe to delete. */
  readonly cacheDir: string;
  /**
   * Files the workspace made and owns (footage crops, content-addressed): beside the workspace file, kept
   * with it (not a cache).
   */
  readonly mediaDir: string;
  readonly migration: MigrationReport;
  /** The MTI searches being worked on (their gallery scores and running action), closed with the workspace. */
  readonly mti: MtiSessions;
  /** What the workspace owns besides its database: LLM runtime, key store, media caches, encoders, tables. */
  readonly services: WorkspaceServices;
  /**
   * Stops the jobs, disposes the services (see WorkspaceServices.close for the order), closes the reader,
   * then the database.
   */
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
  /**
   * Where API keys entered in the app are kept: the desktop shell passes its OS-keychain store; the CLI and
   * the server have none (the default), so keys come from `CTGI_KEY_*` variables or key files.
   */
  keyStore?: KeyStore;
}

/** Errors that mean "no room left" on the disk, from the file system or from SQLite. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL']);
/** Errors of the disk or its permissions rather than of the app (SQLite's I/O family included). */
const DISK_TROUBLE = /^(SQLITE_IOERR|SQLITE_CANTOPEN|SQLITE_READONLY|EACCES$|EPERM$|EROFS$|EIO$)/;

/**
 * A full disk while a workspace is created or migrated becomes one sentence that says what happened and
 * what to do; a workspace file this attempt created (left empty by the failed migration) is removed, so
 * the next attempt starts clean.
 */
function openOrExplain(path: string, opts: OpenDatabaseOptions): ReturnType<typeof openDatabase> {
  const existed = path === ':memory:' || existsSync(path);
  try {
    return openDatabase(path, opts);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : '';
    const full = NO_SPACE.has(code);
    if (!full && !DISK_TROUBLE.test(code)) throw err;
    if (!existed) for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    // A write limit (ulimit -f) and some full disks reach SQLite as a failed write, not as "full".
    const what = full
      ? `the disk is full (${code})`
      : `the disk refused a read or write (${code}: ${(err as Error).message})`;
    const todo = full
      ? 'Free some space on that disk'
      : 'Check that the disk has room and that you may write there';
    throw new AppError(
      'unavailable',
      `Cannot ${existed ? 'open' : 'create'} the workspace ${path}: ${what}. ` +
        `${todo}, or choose a workspace elsewhere (--workspace FILE or $CTGI_WORKSPACE).`,
    );
  }
}

export function openWorkspace(file: string, opts: OpenWorkspaceOptions = {}): Workspace {
  const inMemory = file === ':memory:';
  const path = inMemory ? file : resolve(file);
  const { db, migration } = openOrExplain(path, { nativeBinding: opts.nativeBinding });
  let reader: ReadableDb;
  try {
    reader = inMemory ? db : openReader(path, { nativeBinding: opts.nativeBinding });
  } catch (err) {
    db.close();
    throw err;
  }
  const bus = new EventBus();
  const resumeJobs = opts.resumeJobs ?? true;
  const services = createServices(reader, { keys: opts.keyStore, nativeBinding: opts.nativeBinding });
  const jobs = new JobRunner(db, bus, jobDefinitions, {
    concurrency: opts.jobConcurrency ?? 2,
    adoptQueued: resumeJobs,
    services,
  });
  const cacheDir = inMemory
    ? join(process.cwd(), '.ctgi', 'cache')
    : join(dirname(path), `${basename(path)}.cache`);
  mkdirSync(cacheDir, { recursive: true });
  const mediaDir = inMemory
    ? join(process.cwd(), '.ctgi', 'media')
    : join(dirname(path), `${basename(path)}.media`);
  if (resumeJobs) jobs.recover();
  const mti = new MtiSessions();
  let closed = false;
  return {
    file: path,
    db,
    reader,
    bus,
    jobs,
    cacheDir,
    mediaDir,
    migration,
    mti,
    services,
    async close() {
      if (closed) return;
      closed = true;
      await mti.close();
      await jobs.close();
      await services.close();
      if (reader !== db) reader.close();
      db.close();
    },
  };
}

/** The workspace used when none is named: `$CTGI_WORKSPACE`, else `./.ctgi/workspace.sqlite`. */
export function defaultWorkspaceFile(): string {
  return process.env.CTGI_WORKSPACE ?? join(process.cwd(), '.ctgi', 'workspace.sqlite');
}
