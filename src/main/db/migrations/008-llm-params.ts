import type { Migration } from '../migrate';

// Two things the LLM client needs:
// - where an endpoint puts its token limit and whether it sends a temperature (OpenAI's o-series and
//   gpt-5 reject `max_tokens` and any temperature but the default; many local servers only know
//   `max_tokens`). Existing profiles become 'auto', which sends what they sent before unless the model
//   name is one of those families.
// - refusals are cached like answers (a resumed job must not pay for the same refusal again). They stay
//   'error' rows with error_kind 'refused', so the llm_calls CHECK is untouched; this partial index makes
//   their lookup one probe, like the answers' llm_calls_cache.
export const v8LlmParams: Migration = {
  name: 'llm endpoint token-limit field and temperature; refusal cache index',
  up: (db) => {
    db.exec(`
      ALTER TABLE llm_endpoints ADD COLUMN token_limit_param TEXT NOT NULL DEFAULT 'auto'
        CHECK (token_limit_param IN ('auto', 'max_tokens', 'max_completion_tokens'));
      ALTER TABLE llm_endpoints ADD COLUMN temperature_param TEXT NOT NULL DEFAULT 'auto'
        CHECK (temperature_param IN ('auto', 'send', 'omit'));
      CREATE INDEX llm_calls_refusals ON llm_calls (request_hash, id) WHERE status = 'error' AND error_kind = 'refused';
    `);
  },
};
