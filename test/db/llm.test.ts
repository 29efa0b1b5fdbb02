import { asWritableDb } from '../../src/main/db/types';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/main/db/migrate';
import { migrations } from '../../src/main/db/migrations';
import { v8LlmParams } from '../../src/main/db/migrations/008-llm-params';
import { createHandlers, dispatch } from '../../src/main/api/handlers';
import { openDatabase } from '../../src/main/db/open';
import {
  callLog,
  getEndpointByName,
  listEndpoints,
  listLlmCalls,
  upsertEndpoint,
} from '../../src/main/db/repos/llm';
import type { KeyStore } from '../../src/main/llm/keys';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

const SECRET = 'sk-never-in-the-db-0123456789';
const profile = {
  name: 'local-qwen',
  baseUrl: 'http://127.0.0.1:8000/v1',
  model: 'Qwen2-VL-7B-Instruct',
  role: 'vqa' as const,
  temperature: 0.01,
  maxTokens: 256,
  concurrency: 8,
  requestsPerMinute: null,
  timeoutMs: 60_000,
  keyRef: { kind: 'env' as const, name: 'CTGI_KEY_OPENAI' },
};

let ws: Workspace | null = null;
afterEach(async () => {
  await ws?.close();
  ws = null;
});

describe('llm tables (migration 3)', () => {
  it('creates llm_endpoints and llm_calls as STRICT tables', () => {
    const { db } = openDatabase(':memory:');
    const tables = db.prepare(`SELECT name, strict FROM pragma_table_list WHERE name LIKE 'llm_%'`).all();
    expect(tables).toEqual(
      expect.arrayContaining([
        { name: 'llm_endpoints', strict: 1 },
        { name: 'llm_calls', strict: 1 },
      ]),
    );
  });

  it('upserts a profile by name, keeping its id, and stores only where the key is', () => {
    const { db } = openDatabase(':memory:');
    const first = upsertEndpoint(db, profile);
    const second = upsertEndpoint(db, {
      ...profile,
      concurrency: 2,
      keyRef: { kind: 'file', path: '/home/me/.qwen-key', secret: SECRET } as never,
    });
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ concurrency: 2, keyRef: { kind: 'file', path: '/home/me/.qwen-key' } });
    expect(second.keyRef).not.toHaveProperty('secret');
    expect(JSON.stringify(db.prepare(`SELECT * FROM llm_endpoints`).all())).not.toContain(SECRET);
  });

  it('keeps the call log and the cache when an endpoint is deleted', () => {
    const { db } = openDatabase(':memory:');
    const e = upsertEndpoint(db, profile);
    const ctx = { endpointId: e.id, baseUrl: e.baseUrl, model: e.model, purpose: 't', requestHash: 'h1' };
    const id = callLog(db).recordOk(ctx, {
      attempt: 1,
      latencyMs: 5,
      response: 'a man',
      finishReason: 'stop',
      promptTokens: 3,
      completionTokens: 2,
    });
    db.prepare(`DELETE FROM llm_endpoints`).run();
    expect(listLlmCalls(db)).toMatchObject([{ id, endpoint_id: null, response: 'a man' }]);
    expect(callLog(db).lookup('h1')).toMatchObject({ id, response: 'a man' });
  });
});

describe('request-field settings and the refusal cache (migration 9)', () => {
  it("gives profiles saved before it 'auto' for both settings, and keeps their calls", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ctgi-llm9-')), 'ws.sqlite');
    const old = asWritableDb(new Database(file));
    const at = migrations.indexOf(v8LlmParams);
    migrate(old, migrations.slice(0, at), file);
    old
      .prepare(
        `INSERT INTO llm_endpoints (name, base_url, model, role, temperature, max_tokens, concurrency, timeout_ms, key_ref, created_at, updated_at)
       VALUES ('old', 'http://127.0.0.1:8000/v1', 'qwen2-vl', 'both', 0.01, 256, 4, 60000, '{"kind":"none"}', 1, 1)`,
      )
      .run();
    old.close();
    const { db } = openDatabase(file);
    expect(getEndpointByName(db, 'old')).toMatchObject({
      model: 'qwen2-vl',
      tokenLimitParam: 'auto',
      temperatureParam: 'auto',
    });
    expect(() => db.prepare(`UPDATE llm_endpoints SET token_limit_param = 'max_new_tokens'`).run()).toThrow(
      /CHECK/,
    );
    expect(() => db.prepare(`UPDATE llm_endpoints SET temperature_param = 'sometimes'`).run()).toThrow(
      /CHECK/,
    );
    db.close();
  });

  it('saves the settings, defaults them to auto, and resets them on a save that leaves them out', () => {
    const { db } = openDatabase(':memory:');
    expect(upsertEndpoint(db, profile)).toMatchObject({ tokenLimitParam: 'auto', temperatureParam: 'auto' });
    expect(
      upsertEndpoint(db, { ...profile, tokenLimitParam: 'max_completion_tokens', temperatureParam: 'omit' }),
    ).toMatchObject({
      tokenLimitParam: 'max_completion_tokens',
      temperatureParam: 'omit',
    });
    expect(getEndpointByName(db, profile.name)).toMatchObject({
      tokenLimitParam: 'max_completion_tokens',
      temperatureParam: 'omit',
    });
    expect(upsertEndpoint(db, profile)).toMatchObject({ tokenLimitParam: 'auto', temperatureParam: 'auto' });
  });

  it('serves the first final outcome of a request, answer or refusal, and never a transient error', () => {
    const { db } = openDatabase(':memory:');
    const log = callLog(db);
    const ctx = (requestHash: string) => ({
      endpointId: null,
      baseUrl: 'http://x/v1',
      model: 'm',
      purpose: 't',
      requestHash,
    });
    log.recordError(ctx('r'), { attempt: 1, latencyMs: 3, kind: 'rate_limited', message: 'slow down' });
    log.recordError(ctx('r'), { attempt: 2, latencyMs: 3, kind: 'bad_response', message: 'malformed JSON' });
    expect(log.lookupOutcome('r')).toBeUndefined();
    const refused = log.recordRefusal(ctx('r'), {
      attempt: 3,
      latencyMs: 9,
      message: 'The model refused to answer: no.',
      finishReason: 'stop',
      promptTokens: 4,
      completionTokens: 1,
    });
    log.recordOk(ctx('r'), {
      attempt: 1,
      latencyMs: 5,
      response: 'a man',
      finishReason: 'stop',
      promptTokens: 3,
      completionTokens: 2,
    });
    expect(log.lookupOutcome('r')).toEqual({
      kind: 'refusal',
      id: refused,
      error: 'The model refused to answer: no.',
    });
    expect(listLlmCalls(db).find((c) => c.id === refused)).toMatchObject({
      status: 'error',
      error_kind: 'refused',
      prompt_tokens: 4,
      completion_tokens: 1,
    });

    const ok = log.recordOk(ctx('a'), {
      attempt: 1,
      latencyMs: 5,
      response: 'a woman',
      finishReason: 'stop',
      promptTokens: 3,
      completionTokens: 2,
    });
    log.recordRefusal(ctx('a'), {
      attempt: 1,
      latencyMs: 9,
      message: 'no',
      finishReason: 'stop',
      promptTokens: 4,
      completionTokens: 1,
    });
    expect(log.lookupOutcome('a')).toMatchObject({ kind: 'answer', id: ok, response: 'a woman' });
  });

  it('finds a cached refusal through its own index, not by scanning the log', () => {
    const { db } = openDatabase(':memory:');
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id, error FROM llm_calls WHERE request_hash = ? AND status = 'error' AND error_kind = 'refused' ORDER BY id LIMIT 1`,
      )
      .all('h') as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX llm_calls_refusals/);
  });
});

describe('endpoints:* API', () => {
  it('saves with defaults, lists, and deletes', async () => {
    ws = openWorkspace(':memory:');
    const h = createHandlers(ws);
    const saved = await dispatch(h, 'endpoints:save', {
      name: 'gpt',
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-4o',
    });
    expect(saved).toMatchObject({
      ok: true,
      value: { name: 'gpt', role: 'both', temperature: 0.01, keyRef: { kind: 'none' } },
    });
    expect(await dispatch(h, 'endpoints:list', {})).toMatchObject({ ok: true, value: [{ name: 'gpt' }] });
    expect(await dispatch(h, 'endpoints:delete', { name: 'gpt' })).toEqual({
      ok: true,
      value: { deleted: true },
    });
    expect(await dispatch(h, 'endpoints:delete', { name: 'gpt' })).toEqual({
      ok: true,
      value: { deleted: false },
    });
  });

  it('saves the request-field settings, and names the field when one is not known', async () => {
    ws = openWorkspace(':memory:');
    const h = createHandlers(ws);
    const saved = await dispatch(h, 'endpoints:save', {
      ...profile,
      model: 'o3-mini',
      tokenLimitParam: 'max_completion_tokens',
      temperatureParam: 'omit',
    });
    expect(saved).toMatchObject({
      ok: true,
      value: { tokenLimitParam: 'max_completion_tokens', temperatureParam: 'omit' },
    });
    const bad = await dispatch(h, 'endpoints:save', { ...profile, tokenLimitParam: 'max_new_tokens' });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining('tokenLimitParam') },
    });
  });

  it('rejects bad profiles with a message naming the field', async () => {
    ws = openWorkspace(':memory:');
    const h = createHandlers(ws);
    const r = await dispatch(h, 'endpoints:save', { name: 'x', baseUrl: 'ftp://example.com', model: 'm' });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining('baseUrl') },
    });
    const env = await dispatch(h, 'endpoints:save', {
      ...profile,
      keyRef: { kind: 'env', name: 'not a var' },
    });
    expect(env).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('never returns or stores a key, even one sent with the profile', async () => {
    ws = openWorkspace(':memory:');
    const h = createHandlers(ws);
    const r = await dispatch(h, 'endpoints:save', { ...profile, apiKey: SECRET });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(/only be entered for secure storage/) },
    });
    await dispatch(h, 'endpoints:save', { ...profile, keyRef: { ...profile.keyRef, value: SECRET } });
    const list = await dispatch(h, 'endpoints:list', {});
    expect(JSON.stringify(list)).not.toContain(SECRET);
    expect(JSON.stringify(ws.db.prepare(`SELECT * FROM llm_endpoints`).all())).not.toContain(SECRET);
  });

  it('hands an entered key to the key store, not the database', async () => {
    const secrets = new Map<string, string>();
    const store: KeyStore = {
      available: true,
      get: (id) => Promise.resolve(secrets.get(id) ?? null),
      set: (id, s) => Promise.resolve(void secrets.set(id, s)),
      delete: (id) => Promise.resolve(void secrets.delete(id)),
    };
    ws = openWorkspace(':memory:', { keyStore: store });
    const h = createHandlers(ws);
    const r = await dispatch(h, 'endpoints:save', {
      ...profile,
      keyRef: { kind: 'safe-storage', id: 'local-qwen' },
      apiKey: SECRET,
    });
    expect(r.ok).toBe(true);
    expect(secrets.get('local-qwen')).toBe(SECRET);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(JSON.stringify(listEndpoints(ws.db))).not.toContain(SECRET);
    await dispatch(h, 'endpoints:delete', { name: 'local-qwen' });
    expect(secrets.has('local-qwen')).toBe(false);
  });

  it('says where to enter a key when secure storage is missing', async () => {
    ws = openWorkspace(':memory:');
    const r = await dispatch(createHandlers(ws), 'endpoints:save', {
      ...profile,
      keyRef: { kind: 'safe-storage', id: 'a' },
      apiKey: SECRET,
    });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringMatching(/environment variable.*chmod 600/) },
    });
    expect(getEndpointByName(ws.db, profile.name)).toBeUndefined();
  });

  it('probes a saved endpoint by name, and answers not_found for an unknown one', async () => {
    ws = openWorkspace(':memory:');
    const h = createHandlers(ws);
    expect(await dispatch(h, 'endpoints:probe', { name: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    await dispatch(h, 'endpoints:save', {
      ...profile,
      keyRef: { kind: 'env', name: 'CTGI_KEY_SURELY_UNSET_VAR' },
    });
    const r = await dispatch(h, 'endpoints:probe', { name: profile.name });
    expect(r).toMatchObject({
      ok: true,
      value: {
        ok: false,
        checks: [
          { name: 'key', status: 'failed' },
          { status: 'skipped' },
          { status: 'skipped' },
          { status: 'skipped' },
          { status: 'skipped' },
        ],
      },
    });
  });
});
