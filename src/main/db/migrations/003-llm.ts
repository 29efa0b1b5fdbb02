import type { Migration } from '../migrate';

// Endpoint profiles and the llm_calls log, which is also the response cache (issue 4). An endpoint stores
// where its key comes from (key_ref), never the key. llm_calls keeps one row per HTTP attempt
// (status 'ok' or 'error') and one per cache hit ('hit', pointing at the row it reused): the 'ok' rows
// are the cache, so a resumed job never pays twice for the same request.
export const v3Llm: Migration = {
  name: 'llm endpoints and the llm_calls log + response cache',
  up: (db) => {
    db.exec(`
      CREATE TABLE llm_endpoints (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('vqa', 'reconstructor', 'both')),
        temperature REAL NOT NULL DEFAULT 0.01 CHECK (temperature >= 0),
        max_tokens INTEGER NOT NULL CHECK (max_tokens > 0),
        concurrency INTEGER NOT NULL CHECK (concurrency > 0),
        requests_per_minute INTEGER CHECK (requests_per_minute IS NULL OR requests_per_minute > 0),
        timeout_ms INTEGER NOT NULL CHECK (timeout_ms > 0),
        key_ref TEXT NOT NULL CHECK (json_valid(key_ref)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE llm_calls (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER REFERENCES llm_endpoints(id) ON DELETE SET NULL,
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        purpose TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'hit')),
        attempt INTEGER NOT NULL DEFAULT 1,
        latency_ms INTEGER,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        response TEXT,
        finish_reason TEXT,
        error_kind TEXT,
        error TEXT,
        cached_from INTEGER REFERENCES llm_calls(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      -- The cache lookup is one probe of this partial index. Not unique: two processes that raced on the
      -- same request both paid, and both answers stay on the books (the first one is served).
      CREATE INDEX llm_calls_cache ON llm_calls (request_hash, id) WHERE status = 'ok';
      CREATE INDEX llm_calls_by_endpoint ON llm_calls (endpoint_id, created_at);
      CREATE INDEX llm_calls_by_purpose ON llm_calls (purpose, created_at);
    `);
  },
};
