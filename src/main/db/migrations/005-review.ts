import type { Migration } from '../migrate';

// Review desk (issue 5). An edit never overwrites model output: it adds a caption row (source
// 'edited', derived_from the caption it edits) and the edited row becomes the *current* one of its
// chain. `is_current` says which row of a chain the desk, the dashboard and the export see; it is a
// column rather than a NOT EXISTS over derived_from so that queue pages over 100,000 captions stay an
// index walk. An undone edit is kept (retracted_at) so the audit trail never loses rows.
//
// reviews gains `undone_by` (the undo row that reversed it: undo walks back through the rows not yet
// undone) and `batch` (one id for every row a bulk action wrote, so one undo reverses the whole bulk).
export const v5Review: Migration = {
  name: 'review: current captions, undo links, bulk batches, saved filters, caption scores',
  up: (db) => {
    db.exec(`
      ALTER TABLE captions ADD COLUMN is_current INTEGER NOT NULL DEFAULT 1 CHECK (is_current IN (0, 1));
      ALTER TABLE captions ADD COLUMN retracted_at INTEGER;
      CREATE INDEX captions_current_by_image ON captions (is_current, image_id, id);
      CREATE INDEX captions_current_by_status ON captions (is_current, status, image_id, id);
      CREATE INDEX captions_by_derived ON captions (derived_from) WHERE derived_from IS NOT NULL;

      ALTER TABLE reviews ADD COLUMN undone_by INTEGER REFERENCES reviews(id) ON DELETE SET NULL;
      ALTER TABLE reviews ADD COLUMN batch INTEGER;
      CREATE INDEX reviews_by_reviewer ON reviews (reviewer, id);
      CREATE INDEX reviews_by_time ON reviews (created_at);
      CREATE INDEX reviews_by_batch ON reviews (batch) WHERE batch IS NOT NULL;

      CREATE TABLE saved_filters (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        filter TEXT NOT NULL CHECK (json_valid(filter)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      -- CLIP image–text cosine of a caption's text with its image, per model; recomputed when the text
      -- changes (an edit is a new row, so a row's text never changes under its score).
      CREATE TABLE caption_scores (
        caption_id INTEGER NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        score REAL NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (caption_id, model_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX caption_scores_by_model ON caption_scores (model_id, score);

      -- The desk reads a caption's evidence by the caption the run wrote (migration 4 indexes runs by image).
      CREATE INDEX mtg_runs_by_caption ON mtg_runs (caption_id) WHERE caption_id IS NOT NULL;
    `);
  },
};
