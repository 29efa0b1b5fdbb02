// The repos' prepared-statement cache (one statement per SQL text and connection, its row mode set on
// every hand-out, a busy statement never shared) and the development slow-query log.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import {
  cachedStatements,
  formatSlowQuery,
  slowQueryMsFromEnv,
  stmt,
  type SlowQuery,
} from '../../src/main/db/statements';
import type { WritableDb } from '../../src/main/db/types';

const opened: WritableDb[] = [];
function open(opts: Parameters<typeof openDatabase>[1] = {}): WritableDb {
  const { db } = openDatabase(':memory:', opts);
  opened.push(db);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`);
  const ins = db.prepare(`INSERT INTO t (name) VALUES (?)`);
  for (const name of ['a', 'b', 'c']) ins.run(name);
  return db;
}

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

/** A query that takes a while on any machine: a recursive count to three million. */
const SLOW_SQL = `WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 3000000) SELECT count(*) AS n FROM r`;

describe('stmt', () => {
  it('compiles a SQL text once per connection', () => {
    const db = open({ slowQueries: null });
    const other = open({ slowQueries: null });
    const sql = `SELECT name FROM t WHERE id = ?`;
    const a = stmt(db, sql);
    expect(stmt(db, sql)).toBe(a);
    expect(stmt(other, sql)).not.toBe(a);
    expect(cachedStatements(db)).toBe(1);
    expect(stmt(db, `SELECT id FROM t`)).not.toBe(a);
    expect(cachedStatements(db)).toBe(2);
  });

  it('sets the row mode on every use, whatever the last user left', () => {
    const db = open({ slowQueries: null });
    const sql = `SELECT id, name FROM t ORDER BY id`;
    expect(stmt(db, sql, 'pluck').all()).toEqual([1, 2, 3]);
    expect(stmt(db, sql).all()).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
    ]);
    // A caller toggling the mode itself does not leak it to the next caller either.
    stmt(db, sql).raw();
    expect(stmt(db, sql).get()).toEqual({ id: 1, name: 'a' });
    expect(stmt(db, sql, 'raw').get()).toEqual([1, 'a']);
    expect(stmt(db, sql, 'expand').get()).toEqual({ t: { id: 1, name: 'a' } });
    expect(stmt(db, sql).get()).toEqual({ id: 1, name: 'a' });
    expect(() => stmt(db, `DELETE FROM t WHERE id = ?`, 'pluck')).toThrow(/returns rows/);
  });

  it('hands out a fresh statement while the cached one is iterating', () => {
    const db = open({ slowQueries: null });
    const sql = `SELECT id FROM t ORDER BY id`;
    const outer = stmt(db, sql, 'pluck');
    const pairs: [unknown, unknown[]][] = [];
    for (const id of outer.iterate()) {
      const inner = stmt(db, sql, 'pluck');
      expect(inner).not.toBe(outer);
      pairs.push([id, inner.all()]);
    }
    expect(pairs).toEqual([
      [1, [1, 2, 3]],
      [2, [1, 2, 3]],
      [3, [1, 2, 3]],
    ]);
    // Done iterating: the cached one is free again, and in the mode asked for.
    expect(stmt(db, sql)).toBe(outer);
    expect(outer.get()).toEqual({ id: 1 });
  });

  it('keeps a bounded number of statements, dropping the least recently used', () => {
    const db = open({ slowQueries: null });
    const first = stmt(db, `SELECT 0 AS n`);
    for (let k = 1; k < 600; k++) {
      stmt(db, `SELECT ${k} AS n`);
      if (k % 100 === 0) expect(stmt(db, `SELECT 0 AS n`)).toBe(first); // kept while in use
    }
    expect(cachedStatements(db)).toBe(500);
    expect(stmt(db, `SELECT 0 AS n`)).toBe(first);
    expect(stmt(db, `SELECT 1 AS n`).get()).toEqual({ n: 1 });
  });
});

describe('slow-query log', () => {
  it('reports a statement over the threshold with its SQL and plan, and not a fast one', () => {
    const logged: SlowQuery[] = [];
    const db = open({ slowQueries: { thresholdMs: 40, report: (q) => logged.push(q) } });
    expect(stmt(db, `SELECT name FROM t WHERE id = ?`).get(2)).toEqual({ name: 'b' });
    expect(logged).toEqual([]);

    expect(stmt(db, SLOW_SQL).get()).toEqual({ n: 3_000_000 });
    expect(logged).toHaveLength(1);
    expect(logged[0]!.sql).toBe(SLOW_SQL);
    expect(logged[0]!.ms).toBeGreaterThanOrEqual(40);
    expect(logged[0]!.plan.join('\n')).toMatch(/SCAN r/);
    expect(formatSlowQuery(logged[0]!)).toMatch(/^\[slow query\] \d+\.\d ms: WITH RECURSIVE r/);
  });

  it('times iterate, all and run, with the parameters bound for the plan', () => {
    const logged: SlowQuery[] = [];
    const db = open({ slowQueries: { thresholdMs: 40, report: (q) => logged.push(q) } });
    const slowWithParam = `WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < ?) SELECT count(*) AS n FROM r WHERE x > ?`;
    expect([...db.prepare(slowWithParam).iterate(3_000_000, 0)]).toEqual([{ n: 3_000_000 }]);
    expect(db.prepare(slowWithParam).all(3_000_000, 0)).toEqual([{ n: 3_000_000 }]);
    db.prepare(`CREATE TABLE u (n INTEGER)`).run();
    db.prepare(`INSERT INTO u ${slowWithParam.replace('count(*) AS n', 'count(*)')}`).run(3_000_000, 0);
    expect(logged.map((q) => q.sql.slice(0, 20))).toEqual([
      slowWithParam.slice(0, 20),
      slowWithParam.slice(0, 20),
      'INSERT INTO u WITH R',
    ]);
    for (const q of logged) expect(q.plan[0]).not.toMatch(/no plan/);
    // The insert ran once: the plan is explained, not executed.
    expect(db.prepare(`SELECT count(*) FROM u`).pluck().get()).toBe(1);
  });

  it('is off unless CTGI_SLOW_QUERY_MS is set to a positive number', () => {
    expect(slowQueryMsFromEnv({})).toBeNull();
    expect(slowQueryMsFromEnv({ CTGI_SLOW_QUERY_MS: '' })).toBeNull();
    expect(slowQueryMsFromEnv({ CTGI_SLOW_QUERY_MS: 'soon' })).toBeNull();
    expect(slowQueryMsFromEnv({ CTGI_SLOW_QUERY_MS: '0' })).toBeNull();
    expect(slowQueryMsFromEnv({ CTGI_SLOW_QUERY_MS: '40' })).toBe(40);
    // Off: prepare is better-sqlite3's own, untouched.
    const db = open();
    expect(Object.prototype.hasOwnProperty.call(db, 'prepare')).toBe(slowQueryMsFromEnv() !== null);
  });

  it('writes to stderr in a process started with CTGI_SLOW_QUERY_MS, and says nothing without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-slow-'));
    try {
      const script = join(dir, 'slow.mts');
      const mod = new URL('../../src/main/db/open.ts', import.meta.url).pathname;
      writeFileSync(
        script,
        `import { openDatabase } from ${JSON.stringify(mod)};
         const { db } = openDatabase(':memory:');
         db.prepare(${JSON.stringify(SLOW_SQL)}).get();
         db.prepare('SELECT 42 AS fast').get();
         db.close();`,
      );
      const run = (env: NodeJS.ProcessEnv) =>
        spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000, env });
      const { CTGI_SLOW_QUERY_MS: _, ...base } = process.env;
      const on = run({ ...base, CTGI_SLOW_QUERY_MS: '40' });
      expect(on.status, on.stderr).toBe(0);
      expect(on.stderr).toMatch(/\[slow query\] \d+\.\d ms: WITH RECURSIVE r\(x\)/);
      expect(on.stderr).toMatch(/SCAN r/);
      expect(on.stderr).not.toMatch(/fast/);
      const off = run(base);
      expect(off.status, off.stderr).toBe(0);
      expect(off.stderr).not.toMatch(/slow query/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
