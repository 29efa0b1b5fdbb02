import type { KeyRef, LlmEndpoint, LlmEndpointId, LlmRole } from '../../../shared/domain';
import type { Db } from '../types';

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
  created_at: number;
  updated_at: number;
}

/** An endpoint as saved: everything but the timestamps and id. */
export type LlmEndpointInput = Omit<LlmEndpoint, 'id' | 'createdAt' | 'updatedAt'>;

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
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function listEndpoints(db: Db): LlmEndpoint[] {
  return (db.prepare(`SELECT * FROM llm_endpoints ORDER BY name`).all() as LlmEndpointRow[]).map(toEndpoint);
}

export function getEndpointByName(db: Db, name: string): LlmEndpoint | undefined {
  const r = db.prepare(`SELECT * FROM llm_endpoints WHERE name = ?`).get(name) as LlmEndpointRow | undefined;
  return r && toEndpoint(r);
}

/** Creates the profile, or replaces every setting of the one with the same name (keeping its id). */
export function upsertEndpoint(db: Db, e: LlmEndpointInput): LlmEndpoint {
  const now = Date.now();
  // Only the reference is stored: a KeyRef has no field that could hold a secret.
  const keyRef = JSON.stringify(pickKeyRef(e.keyRef));
  const row = db
    .prepare(
      `INSERT INTO llm_endpoints (name, base_url, model, role, temperature, max_tokens, concurrency,
         requests_per_minute, timeout_ms, key_ref, created_at, updated_at)
       VALUES (@name, @baseUrl, @model, @role, @temperature, @maxTokens, @concurrency, @requestsPerMinute,
         @timeoutMs, @keyRef, @now, @now)
       ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, model = excluded.model,
         role = excluded.role, temperature = excluded.temperature, max_tokens = excluded.max_tokens,
         concurrency = excluded.concurrency, requests_per_minute = excluded.requests_per_minute,
         timeout_ms = excluded.timeout_ms, key_ref = excluded.key_ref, updated_at = excluded.updated_at
       RETURNING *`,
    )
    .get({
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

export function deleteEndpoint(db: Db, name: string): boolean {
  return db.prepare(`DELETE FROM llm_endpoints WHERE name = ?`).run(name).changes > 0;
}

// ── llm_calls: the call log and response cache ────────────────────────────────────────────────

export interface CachedAnswer {
  id: number;
  response: string;
  finish_reason: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

export interface CallContext {
  endpointId: number | null;
  baseUrl: string;
  model: string;
  purpose: string;
  requestHash: string;
}

export interface CallLog {
  lookup(requestHash: string): CachedAnswer | undefined;
  /** Stores a paid answer; returns its row id. */
  recordOk(c: CallContext, a: { attempt: number; latencyMs: number; response: string; finishReason: string | null; promptTokens: number | null; completionTokens: number | null }): number;
  recordError(c: CallContext, e: { attempt: number; latencyMs: number | null; kind: string; message: string }): void;
  recordHit(c: CallContext, cachedFrom: number): void;
}

const callLogs = new WeakMap<Db, CallLog>();

/** Prepared once per connection: the hot path of every model call (hundreds per second). */
export function callLog(db: Db): CallLog {
  const existing = callLogs.get(db);
  if (existing) return existing;
  const lookup = db.prepare(
    `SELECT id, response, finish_reason, prompt_tokens, completion_tokens FROM llm_calls
     WHERE request_hash = ? AND status = 'ok' ORDER BY id LIMIT 1`,
  );
  const insert = db.prepare(
    `INSERT INTO llm_calls (endpoint_id, base_url, model, purpose, request_hash, status, attempt, latency_ms,
       prompt_tokens, completion_tokens, response, finish_reason, error_kind, error, cached_from, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const log: CallLog = {
    lookup: (hash) => lookup.get(hash) as CachedAnswer | undefined,
    recordOk: (c, a) =>
      Number(
        insert.run(c.endpointId, c.baseUrl, c.model, c.purpose, c.requestHash, 'ok', a.attempt, a.latencyMs,
          a.promptTokens, a.completionTokens, a.response, a.finishReason, null, null, null, Date.now()).lastInsertRowid,
      ),
    recordError: (c, e) => {
      insert.run(c.endpointId, c.baseUrl, c.model, c.purpose, c.requestHash, 'error', e.attempt, e.latencyMs,
        null, null, null, null, e.kind, e.message, null, Date.now());
    },
    recordHit: (c, cachedFrom) => {
      insert.run(c.endpointId, c.baseUrl, c.model, c.purpose, c.requestHash, 'hit', 1, 0,
        null, null, null, null, null, null, cachedFrom, Date.now());
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
}

export function listLlmCalls(db: Db, limit = 100): LlmCallRow[] {
  return db.prepare(`SELECT * FROM llm_calls ORDER BY id DESC LIMIT ?`).all(limit) as LlmCallRow[];
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
export function summarizeLlmUsage(db: Db): LlmUsage[] {
  return db
    .prepare(
      `SELECT purpose, sum(status = 'ok') AS calls, sum(status = 'hit') AS hits, sum(status = 'error') AS errors,
         coalesce(sum(prompt_tokens), 0) AS promptTokens, coalesce(sum(completion_tokens), 0) AS completionTokens
       FROM llm_calls GROUP BY purpose ORDER BY purpose`,
    )
    .all() as LlmUsage[];
}
