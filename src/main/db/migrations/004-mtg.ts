import type { Migration } from '../migrate';

// MTG (issue 4). prompt_sets holds every version of the templates + question pool + filters that a run
// used, content-addressed by sha256 of its canonical JSON, so a caption traces to the exact text that
// made it even after the user edits the set in Settings. mtg_runs is one attempt at one image (done or
// failed, with the models and parameters used); qa_rounds keeps every question asked, its answer, and
// whether the filters kept it and why not. A run, its rounds and its caption are written in one
// transaction, so a crash leaves either all of them or none.
export const v4Mtg: Migration = {
  name: 'mtg runs, qa rounds, prompt templates',
  up: (db) => {
    db.exec(`
      CREATE TABLE prompt_sets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version > 0),
        sha256 TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL CHECK (json_valid(body)),
        created_at INTEGER NOT NULL,
        UNIQUE (name, version)
      ) STRICT;

      CREATE TABLE mtg_runs (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
        prompt_set_id INTEGER NOT NULL REFERENCES prompt_sets(id),
        status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        error TEXT,
        caption_id INTEGER REFERENCES captions(id) ON DELETE SET NULL,
        initial_caption TEXT,
        initial_call_id INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        reconstruction TEXT,
        reconstruct_call_id INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        vqa_endpoint TEXT NOT NULL,
        vqa_model TEXT NOT NULL,
        reconstructor_endpoint TEXT NOT NULL,
        reconstructor_model TEXT NOT NULL,
        params TEXT NOT NULL CHECK (json_valid(params)),
        skipped TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(skipped)),
        calls INTEGER NOT NULL DEFAULT 0,
        cached_calls INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        elapsed_ms INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        CHECK (status = 'done' OR error IS NOT NULL)
      ) STRICT;
      CREATE INDEX mtg_runs_by_image ON mtg_runs (image_id, id);
      CREATE INDEX mtg_runs_by_job ON mtg_runs (job_id, image_id);

      CREATE TABLE qa_rounds (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES mtg_runs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL CHECK (idx >= 0),
        question_id TEXT NOT NULL,
        question TEXT NOT NULL,
        prompt TEXT NOT NULL,
        answer TEXT,
        kept INTEGER NOT NULL CHECK (kept IN (0, 1)),
        drop_reason TEXT CHECK (drop_reason IS NULL OR drop_reason IN ('not_visible', 'refusal', 'negative', 'redundant', 'empty', 'error')),
        drop_detail TEXT,
        fact TEXT,
        llm_call_id INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        cached INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1)),
        latency_ms INTEGER,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        CHECK ((kept = 1) = (drop_reason IS NULL)),
        UNIQUE (run_id, idx)
      ) STRICT;
    `);
  },
};
