import type { Migration } from '../migrate';

// MLLM work beyond one server (issue 10):
// - Replica pools: an endpoint profile may name more servers of the same model beside its base URL
//   (`replicas`, a JSON array of {baseUrl, concurrency}). The cache key stays the profile's base URL, so
//   an answer paid on one replica is served for the same request sent to any other.
// - Prices per endpoint (USD per million input / output tokens; null = not priced) and the Batch API's
//   discount (a share of the price, 0.5 at OpenAI), so cost is computed from the calls log, never stored.
// - llm_calls says which replica answered, for which job, and through which batch: cost per job and
//   per-replica figures are then sums over the log.
// - llm_batches: one row per Batch API submission (one MTG round of one job). The provider's batch id is
//   written BEFORE the job waits on it, so a crash or restart polls the batch it already paid for and
//   never submits it twice.
export const v13Fleet: Migration = {
  name: 'endpoint replicas and prices; llm_calls replica/job/batch; llm_batches',
  up: (db) => {
    db.exec(`
      ALTER TABLE llm_endpoints ADD COLUMN replicas TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(replicas));
      ALTER TABLE llm_endpoints ADD COLUMN price_input REAL CHECK (price_input IS NULL OR price_input >= 0);
      ALTER TABLE llm_endpoints ADD COLUMN price_output REAL CHECK (price_output IS NULL OR price_output >= 0);
      ALTER TABLE llm_endpoints ADD COLUMN batch_discount REAL NOT NULL DEFAULT 0.5
        CHECK (batch_discount >= 0 AND batch_discount <= 1);

      CREATE TABLE llm_batches (
        id INTEGER PRIMARY KEY,
        job_id INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
        endpoint_id INTEGER REFERENCES llm_endpoints(id) ON DELETE SET NULL,
        -- The MTG round this batch asks (0 = initial caption; rounds + 1 = reconstruction), and which try
        -- of that round it is (a smaller batch retries what failed or expired).
        round INTEGER NOT NULL CHECK (round >= 0),
        try INTEGER NOT NULL DEFAULT 1 CHECK (try >= 1),
        provider_batch_id TEXT,
        input_file_id TEXT,
        output_file_id TEXT,
        error_file_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('preparing', 'submitted', 'in_progress', 'finalizing',
          'completed', 'failed', 'expired', 'cancelled', 'collected')),
        request_count INTEGER NOT NULL DEFAULT 0 CHECK (request_count >= 0),
        completed_count INTEGER NOT NULL DEFAULT 0 CHECK (completed_count >= 0),
        failed_count INTEGER NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX llm_batches_by_job ON llm_batches (job_id, round);

      ALTER TABLE llm_calls ADD COLUMN replica TEXT;
      ALTER TABLE llm_calls ADD COLUMN job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL;
      ALTER TABLE llm_calls ADD COLUMN batch_id INTEGER REFERENCES llm_batches(id) ON DELETE SET NULL;
      CREATE INDEX llm_calls_by_job ON llm_calls (job_id) WHERE job_id IS NOT NULL;
    `);
  },
};
