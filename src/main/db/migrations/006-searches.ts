import type { Migration } from '../migrate';

// Saved searches with their MTI transcripts (issue 6). One row per search: the analyst's query, the model
// and scope it ran on, the MTI parameters, the whole transcript (every anchor check, question, answer and
// analyst action, as JSON: it is read and written as one document and never queried inside), the refined
// query the current ranking uses, and the shown results with their score parts, so a saved search reopens
// exactly as it was left even if the gallery has been re-embedded since.
export const v6Searches: Migration = {
  name: 'searches and MTI transcripts',
  up: (db) => {
    db.exec(`
      CREATE TABLE searches (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        query TEXT NOT NULL,
        vqa_endpoint TEXT,
        aggregator_endpoint TEXT,
        params TEXT NOT NULL CHECK (json_valid(params)),
        transcript TEXT NOT NULL CHECK (json_valid(transcript)),
        refined TEXT,
        results TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(results)),
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'fallback', 'cancelled')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX searches_by_time ON searches (updated_at DESC, id DESC);
    `);
  },
};
