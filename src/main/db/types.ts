import type BetterSqlite3 from 'better-sqlite3';

/** A workspace connection. Repos take it as their first parameter. */
export type Db = BetterSqlite3.Database;
