import type { Migration } from '../migrate';

// MTG's optional verification step drops pairs with a new reason, 'unverified'. SQLite cannot change a
// CHECK constraint in place, so qa_rounds is rebuilt with the wider list and its rows copied over as they
// are (nothing references qa_rounds, so the swap leaves no dangling key).
export const v7Unverified: Migration = {
  name: "qa_rounds drop reason 'unverified'",
  up: (db) => {
    db.exec(`
      CREATE TABLE qa_rounds_v7 (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES mtg_runs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL CHECK (idx >= 0),
        question_id TEXT NOT NULL,
        question TEXT NOT NULL,
        prompt TEXT NOT NULL,
        answer TEXT,
        kept INTEGER NOT NULL CHECK (kept IN (0, 1)),
        drop_reason TEXT CHECK (drop_reason IS NULL OR drop_reason IN ('not_visible', 'refusal', 'negative', 'redundant', 'empty', 'error', 'unverified')),
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
      INSERT INTO qa_rounds_v7 SELECT * FROM qa_rounds;
      DROP TABLE qa_rounds;
      ALTER TABLE qa_rounds_v7 RENAME TO qa_rounds;
    `);
  },
};
