import type { Migration } from '../migrate';

// Per-query results of MTI evaluations (`eval-mti` jobs), one row per finished query, written in the same
// transaction as the job's progress, rather than in the job's resume cursor, which would be rewritten
// whole after every query: quadratic in the number of queries (gigabytes of writes on CUHK-PEDES' 6,148
// test queries). The report is computed from these rows; the cursor keeps only the elapsed time and the report.
// `query_index` is the query's position in the evaluation (captions of the split in id order); the caption
// and text are kept so a resumed job reuses a row only while it still describes the same query.
// The `without_*` / `with_*` figures are NULL together when the query's person has no image in the gallery.
export const v9EvalMtiQueries: Migration = {
  name: 'per-query results of MTI evaluations',
  up: (db) => {
    db.exec(`
      CREATE TABLE eval_mti_queries (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        query_index INTEGER NOT NULL CHECK (query_index >= 0),
        caption_id INTEGER NOT NULL,
        query TEXT NOT NULL,
        without_first INTEGER,
        without_ap REAL,
        without_inp REAL,
        with_first INTEGER,
        with_ap REAL,
        with_inp REAL,
        calls INTEGER NOT NULL CHECK (calls >= 0),
        ms REAL NOT NULL,
        top1 REAL NOT NULL,
        anchor INTEGER NOT NULL CHECK (anchor IN (0, 1)),
        anchor_correct INTEGER NOT NULL CHECK (anchor_correct IN (0, 1)),
        early_stop INTEGER NOT NULL CHECK (early_stop IN (0, 1)),
        fallback INTEGER NOT NULL CHECK (fallback IN (0, 1)),
        refined TEXT,
        PRIMARY KEY (job_id, query_index),
        CHECK ((without_first IS NULL) = (without_ap IS NULL) AND (without_ap IS NULL) = (without_inp IS NULL)),
        CHECK ((with_first IS NULL) = (with_ap IS NULL) AND (with_ap IS NULL) = (with_inp IS NULL))
      ) STRICT;
    `);
  },
};
