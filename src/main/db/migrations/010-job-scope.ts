import type { Migration } from '../migrate';

// Two things jobs could not say before (issue 12):
// - Their scope. A job over a dataset (or all images) walked the live tables, so images imported after
//   it started were taken in too (60 images became 360 "of 60"). The images a job covers are now fixed
//   when it is queued: one row per image in job_images, written in the transaction that inserts the job,
//   and walked by image id. A table, not a JSON parameter, so that 100k+ images cost an index, not a
//   rewrite of the job row. `jobs.scoped` says the rows were written (a job queued before this version
//   has none until it next runs); an image deleted later leaves its job's scope with it.
// - Two statuses: 'paused' (stopped by the user to be resumed; 'cancelled' is now only a cancel) and
//   'done-with-failures' (finished, but some items failed: the CLI exits non-zero on it).
// SQLite cannot widen a CHECK in place, so jobs is rebuilt and its rows copied as they are; job_issues,
// mtg_runs and eval_mti_queries reference it, hence the rebuild runs with foreign keys off (migrate.ts).
export const v10JobScope: Migration = {
  name: 'job scope (job_images), paused and done-with-failures statuses',
  rebuildsReferencedTable: true,
  up: (db) => {
    db.exec(`
      CREATE TABLE jobs_v10 (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        params TEXT NOT NULL CHECK (json_valid(params)),
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'done-with-failures', 'failed', 'cancelled')),
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER,
        message TEXT,
        error TEXT,
        state TEXT CHECK (state IS NULL OR json_valid(state)),
        attempts INTEGER NOT NULL DEFAULT 0,
        -- The process running it ('host:pid:start:instance') and when it last said so: a second process
        -- opening the workspace leaves a live job alone and requeues only an orphaned one.
        owner TEXT,
        heartbeat_at INTEGER,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        updated_at INTEGER NOT NULL,
        scoped INTEGER NOT NULL DEFAULT 0 CHECK (scoped IN (0, 1))
      ) STRICT;
      INSERT INTO jobs_v10 (id, kind, title, params, status, done, total, message, error, state, attempts, owner,
          heartbeat_at, created_at, started_at, finished_at, updated_at)
        SELECT id, kind, title, params, status, done, total, message, error, state, attempts, owner,
          heartbeat_at, created_at, started_at, finished_at, updated_at FROM jobs;
      DROP TABLE jobs;
      ALTER TABLE jobs_v10 RENAME TO jobs;
      CREATE INDEX jobs_by_status ON jobs (status);

      CREATE TABLE job_images (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        PRIMARY KEY (job_id, image_id)
      ) STRICT, WITHOUT ROWID;
      -- Deleting a dataset's images finds their scope rows through this, not by a scan per image.
      CREATE INDEX job_images_by_image ON job_images (image_id);
    `);
  },
};
