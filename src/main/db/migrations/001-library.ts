import type { Migration } from '../migrate';

// Timestamps are integer milliseconds since the epoch. JSON columns are TEXT checked with json_valid.
export const v1Library: Migration = {
  name: 'library: datasets, identities, images, captions, reviews, jobs',
  up: (db) => {
    db.exec(`
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('folder', 'cuhk-pedes', 'icfg-pedes', 'rstpreid')),
        root TEXT NOT NULL,
        annotation_file TEXT,
        status TEXT NOT NULL CHECK (status IN ('importing', 'ready', 'incomplete')),
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE identities (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        person_id TEXT NOT NULL,
        UNIQUE (dataset_id, person_id)
      ) STRICT;

      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        rel_path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        width INTEGER NOT NULL CHECK (width > 0),
        height INTEGER NOT NULL CHECK (height > 0),
        bytes INTEGER NOT NULL,
        format TEXT NOT NULL,
        identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL,
        camera TEXT,
        split TEXT CHECK (split IN ('train', 'val', 'test')),
        created_at INTEGER NOT NULL,
        UNIQUE (dataset_id, rel_path)
      ) STRICT;
      CREATE INDEX images_by_sha ON images (dataset_id, sha256);
      CREATE INDEX images_by_identity ON images (identity_id);
      CREATE INDEX images_by_split ON images (dataset_id, split);

      CREATE TABLE captions (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('human', 'mtg', 'edited')),
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'flagged')),
        derived_from INTEGER REFERENCES captions(id) ON DELETE SET NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX captions_by_image ON captions (image_id);
      CREATE INDEX captions_by_status ON captions (status);

      CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        caption_id INTEGER NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
        reviewer TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT CHECK (before IS NULL OR json_valid(before)),
        after TEXT CHECK (after IS NULL OR json_valid(after)),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX reviews_by_caption ON reviews (caption_id, id);

      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        params TEXT NOT NULL CHECK (json_valid(params)),
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER,
        message TEXT,
        error TEXT,
        state TEXT CHECK (state IS NULL OR json_valid(state)),
        attempts INTEGER NOT NULL DEFAULT 0,
        -- The process running it ('host:pid:instance') and when it last said so: a second process
        -- opening the workspace leaves a live job alone and requeues only an orphaned one.
        owner TEXT,
        heartbeat_at INTEGER,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX jobs_by_status ON jobs (status);

      CREATE TABLE job_issues (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        severity TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
        item TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX job_issues_by_job ON job_issues (job_id, id);
    `);
  },
};
