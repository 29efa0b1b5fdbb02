import type {
  EndpointReplica,
  KeyRef,
  LlmEndpoint,
  LlmEndpointId,
  LlmRole,
  TemperatureParam,
  TokenLimitParam,
} from '#shared/llm/types';
import { stmt } from '../statements';
import type { ReadableDb, WritableDb } from '../types';

export interface LlmEndpointRow {
  id: number;
  name: string;
  base_url: string;
  model: string;
  role: LlmRole;
  temperature: number;
  max_tokens: number;
  concurrency: number;
  requests_per_minute: number | null;
  timeout_ms: number;
  key_ref: string;
  token_limit_param: TokenLimitParam;
  temperature_param: TemperatureParam;
  replicas: string;
  price_input: number | null;
  price_output: number | null;
  batch_discount: number;
  created_at: number;
  updated_at: number;
}

/** An endpoint as saved: everything but the timestamps and id; the request-field settings default to 'auto'. */
export type LlmEndpointInput = Omit<
  LlmEndpoint,
  | 'id'
  | 'createdAt'
  | 'updatedAt'
  | 'tokenLimitParam'
  | 'temperatureParam'
  | 'replicas'
  | 'priceInput'
  | 'priceOutput'
  | 'batchDiscount'
> &
  Partial<
    Pick<
      LlmEndpoint,
      'tokenLimitParam' | 'temperatureParam' | 'replicas' | 'priceInput' | 'priceOutput' | 'batchDiscount'
    >
  >;

const toEndpoint = (r: LlmEndpointRow): LlmEndpoint => ({
  id: r.id as LlmEndpointId,
  name: r.name,
  baseUrl: r.base_url,
  model: r.model,
  role: r.role,
  temperature: r.temperature,
  maxTokens: r.max_tokens,
  concurrency: r.concurrency,
  requestsPerMinute: r.requests_per_minute,
  timeoutMs: r.timeout_ms,
  keyRef: JSON.parse(r.key_ref) as KeyRef,
  tokenLimitParam: r.token_limit_param,
  temperatureParam: r.temperature_param,
  replicas: JSON.parse(r.replicas) as EndpointReplica[],
  priceInput: r.price_input,
  priceOutput: r.price_output,
  batchDiscount: r.batch_discount,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function listEndpoints(db: ReadableDb): LlmEndpoint[] {
  return (stmt(db, `SELECT * FROM llm_endpoints ORDER BY name`).all() as LlmEndpointRow[]).map(toEndpoint);
}

export function getEndpointByName(db: ReadableDb, name: string): LlmEndpoint | undefined {
  const r = stmt(db, `SELECT * FROM llm_endpoints WHERE name = ?`).get(name) as LlmEndpointRow | undefined;
  return r && toEndpoint(r);
}

/** Creates the profile, or replaces every setting of the one with the same name (keeping its id). */
export function upsertEndpoint(db: WritableDb, e: LlmEndpointInput): LlmEndpoint {
  const now = Date.now();
  // Only the reference is stored: a KeyRef has no field that could hold a secret.
  const keyRef = JSON.stringify(pickKeyRef(e.keyRef));
  const row = stmt(
    db,
    `INSERT INTO llm_endpoints (name, base_url, model, role, temperature, max_tokens, concurrency,
         requests_per_minute, timeout_ms, key_ref, token_limit_param, temperature_param, replicas, price_input,
         price_output, batch_discount, created_at, updated_at)
       VALUES (@name, @baseUrl, @model, @role, @temperature, @maxTokens, @concurrency, @requestsPerMinute,
         @timeoutMs, @keyRef, @tokenLimitParam, @temperatureParam, @replicas, @priceInput, @priceOutput,
         @batchDiscount, @now, @now)
       ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, model = excluded.model,
         role = excluded.role, temperature = excluded.temperature, max_tokens = excluded.max_tokens,
         concurrency = excluded.concurrency, requests_per_minute = excluded.requests_per_minute,
         timeout_ms = excluded.timeout_ms, key_ref = excluded.key_ref, token_limit_param = excluded.token_limit_param,
         temperature_param = excluded.temperature_param, replicas = excluded.replicas,
         price_input = excluded.price_input, price_output = excluded.price_output,
         batch_discount = excluded.batch_discount, updated_at = excluded.updated_at
       RETURNING *`,
  ).get({
    name: e.name,
    baseUrl: e.baseUrl,
    model: e.model,
    role: e.role,
    temperature: e.temperature,
    maxTokens: e.maxTokens,
    concurrency: e.concurrency,
    requestsPerMinute: e.requestsPerMinute,
    timeoutMs: e.timeoutMs,
    keyRef,
    tokenLimitParam: e.tokenLimitParam ?? 'auto',
    temperatureParam: e.temperatureParam ?? 'auto',
    replicas: JSON.stringify(
      (e.replicas ?? []).map((r) => ({ baseUrl: r.baseUrl, concurrency: r.concurrency })),
    ),
    priceInput: e.priceInput ?? null,
    priceOutput: e.priceOutput ?? null,
    batchDiscount: e.batchDiscount ?? 0.5,
    now,
  }) as LlmEndpointRow;
  return toEndpoint(row);
}

/** Strips anything a caller may have attached beyond the reference's own fields. */
function pickKeyRef(k: KeyRef): KeyRef {
  switch (k.kind) {
    case 'env':
      return { kind: 'env', name: k.name };
    case 'file':
      return { kind: 'file', path: k.path };
    case 'safe-storage':
      return { kind: 'safe-storage', id: k.id };
    case 'none':
      return { kind: 'none' };
  }
}

export function deleteEndpoint(db: WritableDb, name: string): boolean {
  return stmt(db, `DELETE FROM llm_endpoints WHERE name = ?`).run(name).changes > 0;
}

// ── llm_calls: the call log and response cache ────────────────────────────────────────────────

export interface CachedAnswer {
  id: number;
  response: string;
  finish_reason: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** A refusal is as final as an answer: the same request gets the same refusal, without paying again. */
export interface CachedRefusal {
  id: number;
  /** The message the caller got when the model refused. */
  error: string;
}

export type CachedOutcome = ({ kind: 'answer' } & CachedAnswer) | ({ kind: 'refusal' } & CachedRefusal);

export interface CallContext {
  endpointId: number | null;
  /** The profile's base URL: the pool's name, whichever replica answers. */
  baseUrl: string;
  model: string;
  purpose: string;
  requestHash: string;
  /** The server that was asked (a replica's base URL); null for cache hits. */
  replica?: string | null;
  /** The job the call was made for, so cost per job is a sum over the log. */
  jobId?: number | null;
  /** The llm_batches row when the answer came through the Batch API (priced at its discount). */
  batchId?: number | null;
}

export interface CallLog {
  /** The answer of an earlier 'ok' call, if any. */
  lookup(requestHash: string): CachedAnswer | undefined;
  /** The first final outcome of this request, answer or refusal; transient errors never count. */
  lookupOutcome(requestHash: string): CachedOutcome | undefined;
  /** Stores a paid answer; returns its row id. */
  recordOk(
    c: CallContext,
    a: {
      attempt: number;
      latencyMs: number;
      response: string;
      finishReason: string | null;
      promptTokens: number | null;
      completionTokens: number | null;
    },
  ): number;
  recordError(
    c: CallContext,
    e: { attempt: number; latencyMs: number | null; kind: string; message: string },
  ): void;
  /**
   * Stores a refusal, tokens included (it was paid for): an 'error' row of kind 'refused', which
   * lookupOutcome serves from then on. Returns its row id.
   */
  recordRefusal(
    c: CallContext,
    r: {
      attempt: number;
      latencyMs: number;
      message: string;
      finishReason: string | null;
      promptTokens: number | null;
      completionTokens: number | null;
    },
  ): number;
  recordHit(c: CallContext, cachedFrom: number): void;
}

const callLogs = new WeakMap<WritableDb, CallLog>();

/** Prepared once per connection: the hot path of every model call (hundreds per second). */
export function callLog(db: WritableDb): CallLog {
  const existing = callLogs.get(db);
  if (existing) return existing;
  const lookup = db.prepare(
    `SELECT id, response, finish_reason, prompt_tokens, completion_tokens FROM llm_calls
     WHERE request_hash = ? AND status = 'ok' ORDER BY id LIMIT 1`,
  );
  // Same shape as the llm_calls_refusals partial index (migration 9), so this is one index probe too.
  const lookupRefusal = db.prepare(
    `SELECT id, error FROM llm_calls
     WHERE request_hash = ? AND status = 'error' AND error_kind = 'refused' ORDER BY id LIMIT 1`,
  );
  const insert = stmt(
    db,
    `INSERT INTO llm_calls (endpoint_id, base_url, model, purpose, request_hash, status, attempt, latency_ms,
       prompt_tokens, completion_tokens, response, finish_reason, error_kind, error, cached_from, created_at,
       replica, job_id, batch_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const log: CallLog = {
    lookup: (hash) => lookup.get(hash) as CachedAnswer | undefined,
    lookupOutcome: (hash) => {
      const answer = lookup.get(hash) as CachedAnswer | undefined;
      const refusal = lookupRefusal.get(hash) as { id: number; error: string | null } | undefined;
      // Two racing processes may have recorded both; the first outcome on the books is the one served.
      if (refusal && (!answer || refusal.id < answer.id))
        return { kind: 'refusal', id: refusal.id, error: refusal.error ?? 'The model refused to answer.' };
      return answer && { kind: 'answer', ...answer };
    },
    recordOk: (c, a) =>
      Number(
        insert.run(
          c.endpointId,
          c.baseUrl,
          c.model,
          c.purpose,
          c.requestHash,
          'ok',
          a.attempt,
          a.latencyMs,
          a.promptTokens,
          a.completionTokens,
          a.response,
          a.finishReason,
          null,
          null,
          null,
          Date.now(),
          c.replica ?? null,
          c.jobId ?? null,
          c.batchId ?? null,
        ).lastInsertRowid,
      ),
    recordError: (c, e) => {
      insert.run(
        c.endpointId,
        c.baseUrl,
        c.model,
        c.purpose,
        c.requestHash,
        'error',
        e.attempt,
        e.latencyMs,
        null,
        null,
        null,
        null,
        e.kind,
        e.message,
        null,
        Date.now(),
        c.replica ?? null,
        c.jobId ?? null,
        c.batchId ?? null,
      );
    },
    recordRefusal: (c, r) =>
      Number(
        insert.run(
          c.endpointId,
          c.baseUrl,
          c.model,
          c.purpose,
          c.requestHash,
          'error',
          r.attempt,
          r.latencyMs,
          r.promptTokens,
          r.completionTokens,
          null,
          r.finishReason,
          'refused',
          r.message,
          null,
          Date.now(),
          c.replica ?? null,
          c.jobId ?? null,
          c.batchId ?? null,
        ).lastInsertRowid,
      ),
    recordHit: (c, cachedFrom) => {
      insert.run(
        c.endpointId,
        c.baseUrl,
        c.model,
        c.purpose,
        c.requestHash,
        'hit',
        1,
        0,
        null,
        null,
        null,
        null,
        null,
        null,
        cachedFrom,
        Date.now(),
        null,
        c.jobId ?? null,
        null,
      );
    },
  };
  callLogs.set(db, log);
  return log;
}

export interface LlmCallRow {
  id: number;
  endpoint_id: number | null;
  base_url: string;
  model: string;
  purpose: string;
  request_hash: string;
  status: 'ok' | 'error' | 'hit';
  attempt: number;
  latency_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  response: string | null;
  finish_reason: string | null;
  error_kind: string | null;
  error: string | null;
  cached_from: number | null;
  created_at: number;
  replica: string | null;
  job_id: number | null;
  batch_id: number | null;
}

export function listLlmCalls(db: ReadableDb, limit = 100): LlmCallRow[] {
  return stmt(db, `SELECT * FROM llm_calls ORDER BY id DESC LIMIT ?`).all(limit) as LlmCallRow[];
}

export interface LlmUsage {
  purpose: string;
  calls: number;
  hits: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
}

/** Per-purpose totals: what was paid for, what the cache saved, what failed. */
export function summarizeLlmUsage(db: ReadableDb): LlmUsage[] {
  return stmt(
    db,
    `SELECT purpose, sum(status = 'ok') AS calls, sum(status = 'hit') AS hits, sum(status = 'error') AS errors,
         coalesce(sum(prompt_tokens), 0) AS promptTokens, coalesce(sum(completion_tokens), 0) AS completionTokens
       FROM llm_calls GROUP BY purpose ORDER BY purpose`,
  ).all() as LlmUsage[];
}

// ── usage and cost (issue 10): sums over the calls log ────────────────────────────────────────

/**
 * Tokens paid for, by one grouping key and endpoint (prices are per endpoint) and by the way they were
 * paid (Batch API or not). Paid = an answer ('ok') or a refusal (a 200 that was billed); cache hits and
 * transport errors cost nothing.
 */
export interface PaidTokensRow {
  key: string;
  endpoint_id: number | null;
  batch: 0 | 1;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
}

const PAID = `(status = 'ok' OR (status = 'error' AND error_kind = 'refused'))`;

export function paidTokens(
  db: ReadableDb,
  by: 'job' | 'endpoint' | 'day',
  filter: { jobId?: number; sinceMs?: number } = {},
): PaidTokensRow[] {
  const key =
    by === 'job'
      ? `coalesce(CAST(job_id AS TEXT), '')`
      : by === 'endpoint'
        ? `coalesce(CAST(endpoint_id AS TEXT), '')`
        : `date(created_at / 1000, 'unixepoch')`;
  const where = [PAID];
  const args: number[] = [];
  if (filter.jobId !== undefined) {
    where.push('job_id = ?');
    args.push(filter.jobId);
  }
  if (filter.sinceMs !== undefined) {
    where.push('created_at >= ?');
    args.push(filter.sinceMs);
  }
  return stmt(
    db,
    `SELECT ${key} AS key, endpoint_id, (batch_id IS NOT NULL) AS batch, count(*) AS calls,
         coalesce(sum(prompt_tokens), 0) AS prompt_tokens, coalesce(sum(completion_tokens), 0) AS completion_tokens
       FROM llm_calls WHERE ${where.join(' AND ')}
       GROUP BY key, endpoint_id, batch ORDER BY key, endpoint_id, batch`,
  ).all(...args) as PaidTokensRow[];
}

/** What each server of an endpoint did, from the log (every process's calls, not just this one's). */
export interface ReplicaUsageRow {
  replica: string;
  calls: number;
  errors: number;
  mean_latency_ms: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  last_at: number;
}

export function replicaUsage(db: ReadableDb, endpointId: number): ReplicaUsageRow[] {
  return stmt(
    db,
    `SELECT replica, sum(status = 'ok') AS calls, sum(status = 'error' AND coalesce(error_kind, '') <> 'refused') AS errors,
         round(avg(CASE WHEN status = 'ok' THEN latency_ms END)) AS mean_latency_ms,
         coalesce(sum(prompt_tokens), 0) AS prompt_tokens, coalesce(sum(completion_tokens), 0) AS completion_tokens,
         max(created_at) AS last_at
       FROM llm_calls WHERE endpoint_id = ? AND replica IS NOT NULL GROUP BY replica ORDER BY replica`,
  ).all(endpointId) as ReplicaUsageRow[];
}
