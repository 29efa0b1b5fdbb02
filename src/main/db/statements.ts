// Prepared statements for the repos: one compiled statement per SQL text and connection, and (in
// development) a log of the statements that run slower than CTGI_SLOW_QUERY_MS, with their plan.
import type BetterSqlite3 from 'better-sqlite3';
import type { ReadableDb } from './types';

export type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** How a reading statement hands back its rows: objects (default), the first column, arrays, or by table. */
export type RowMode = 'object' | 'pluck' | 'raw' | 'expand';

/**
 * Statements kept per connection. Dynamic SQL (IN lists of varying length, a filter's clauses) makes
 * new texts, so the cache is bounded and drops the least recently used.
 */
const MAX_CACHED = 500;

/**
 * Keyed by the connection itself: compiled statements belong to one connection and go with it. A closed
 * connection's statements refuse to run, as they would uncached.
 */
const caches = new WeakMap<ReadableDb, Map<string, Statement>>();

function setMode(s: Statement, mode: RowMode): Statement {
  // The mode is one setting of the statement (each toggle turning the others off), and it sticks: set it
  // on every hand-out, so that a caller's .pluck() cannot leak into the next caller of the same SQL.
  if (!s.reader) {
    if (mode !== 'object') throw new TypeError(`Only a statement that returns rows can use ${mode}().`);
    return s;
  }
  if (mode === 'object') return s.pluck(false).raw(false).expand(false);
  return s[mode](true);
}

/**
 * The statement for `sql` on `db`, compiled once per connection and reused. Its rows come as `mode` says
 * (objects unless told), whatever an earlier user of the same statement set. A statement still being
 * iterated (busy) is never handed out again: the caller gets a fresh one, not cached.
 */
export function stmt(db: ReadableDb, sql: string, mode: RowMode = 'object'): Statement {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (s) {
    if (s.busy) return setMode(db.prepare(sql), mode);
    // Most recently used last: Map keeps insertion order.
    cache.delete(sql);
    cache.set(sql, s);
    return setMode(s, mode);
  }
  s = db.prepare(sql);
  cache.set(sql, s);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  return setMode(s, mode);
}

/** How many statements are cached for `db` (for tests and diagnostics). */
export const cachedStatements = (db: ReadableDb): number => caches.get(db)?.size ?? 0;

export interface SlowQuery {
  sql: string;
  ms: number;
  /** EXPLAIN QUERY PLAN's detail lines, indented by depth; or why the plan could not be had. */
  plan: string[];
}

export interface SlowQueryLog {
  /** Statements at or over this many milliseconds are reported. */
  thresholdMs: number;
  report: (q: SlowQuery) => void;
}

/** The threshold CTGI_SLOW_QUERY_MS sets (a positive number of ms), or null: the log is off. */
export function slowQueryMsFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env.CTGI_SLOW_QUERY_MS;
  if (raw === undefined || raw.trim() === '') return null;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

export const formatSlowQuery = (q: SlowQuery): string =>
  `[slow query] ${q.ms.toFixed(1)} ms: ${q.sql.replace(/\s+/g, ' ').trim()}\n${q.plan.map((l) => `  ${l}`).join('\n')}`;

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

function queryPlan(prepare: (sql: string) => Statement, sql: string, args: unknown[]): string[] {
  try {
    const rows = prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as PlanRow[];
    const depth = new Map<number, number>([[0, -1]]);
    return rows.map((r) => {
      const d = (depth.get(r.parent) ?? -1) + 1;
      depth.set(r.id, d);
      return `${'  '.repeat(d)}${r.detail}`;
    });
  } catch (err) {
    return [`(no plan: ${err instanceof Error ? err.message : String(err)})`];
  }
}

/**
 * Times every statement `db` prepares from now on (run, get, all, and the steps of iterate) and reports
 * those over the threshold with their plan. For development: the timing wraps each call.
 */
export function logSlowQueries(db: ReadableDb, log: SlowQueryLog): void {
  const prepare = db.prepare.bind(db) as (sql: string) => Statement;
  const check = (sql: string, args: unknown[], ms: number): void => {
    if (ms >= log.thresholdMs) log.report({ sql, ms, plan: queryPlan(prepare, sql, args) });
  };
  const timed = (s: Statement, name: 'run' | 'get' | 'all'): void => {
    const original = s[name] as (...args: unknown[]) => unknown;
    Object.defineProperty(s, name, {
      value: (...args: unknown[]): unknown => {
        const t0 = performance.now();
        const out = original.apply(s, args);
        check(s.source, args, performance.now() - t0);
        return out;
      },
    });
  };
  const instrument = (s: Statement): Statement => {
    timed(s, 'run');
    timed(s, 'get');
    timed(s, 'all');
    const iterate = s.iterate.bind(s);
    Object.defineProperty(s, 'iterate', {
      value: (...args: unknown[]): IterableIterator<unknown> => {
        const it = iterate(...args);
        // Time spent in SQLite only (the steps), not in the caller's loop body.
        let ms = 0;
        let reported = false;
        const done = (): void => {
          if (reported) return;
          reported = true;
          check(s.source, args, ms);
        };
        const wrapped: IterableIterator<unknown> = {
          next: () => {
            const t0 = performance.now();
            const r = it.next();
            ms += performance.now() - t0;
            if (r.done) done();
            return r;
          },
          return: (value?: unknown) => {
            done();
            return it.return ? it.return(value) : { done: true, value };
          },
          [Symbol.iterator]: () => wrapped,
        };
        return wrapped;
      },
    });
    return s;
  };
  Object.defineProperty(db, 'prepare', {
    value: (sql: string) => instrument(prepare(sql)),
    configurable: true,
    writable: true,
  });
}
