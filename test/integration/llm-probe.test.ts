import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointProbe, KeyRef, LlmEndpoint } from '#shared/llm/types';
import { openDatabase } from '../../src/main/db/open';
import { listLlmCalls, upsertEndpoint, type LlmEndpointInput } from '../../src/main/db/repos/llm';
import type { WritableDb } from '../../src/main/db/types';
import { unavailableKeyStore } from '../../src/main/llm/keys';
import { probeEndpoint } from '../../src/main/llm/probe';
import {
  startFakeOpenAi,
  type FakeOpenAi,
  type FakeOpenAiOptions,
  type FakeReply,
} from '../fixtures/fake-openai';

const KEY = 'sk-probe-SECRET-abcdef0123456789';
let servers: FakeOpenAi[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

let seq = 0;
async function probe(
  serverOpts: FakeOpenAiOptions = {},
  profile: Partial<LlmEndpointInput> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<{ result: EndpointProbe; fake: FakeOpenAi; db: WritableDb; endpoint: LlmEndpoint }> {
  const fake = await startFakeOpenAi(serverOpts);
  servers.push(fake);
  const { db } = openDatabase(':memory:');
  const endpoint = upsertEndpoint(db, {
    name: `probe${++seq}`,
    baseUrl: fake.url,
    model: 'fake-vl',
    role: 'both',
    temperature: 0.01,
    maxTokens: 64,
    concurrency: 2,
    requestsPerMinute: null,
    timeoutMs: 3000,
    keyRef: { kind: 'none' },
    ...profile,
  });
  const result = await probeEndpoint(db, endpoint, unavailableKeyStore, { env, retry: { retries: 0 } });
  return { result, fake, db, endpoint };
}

const statuses = (p: EndpointProbe): Record<string, string> =>
  Object.fromEntries(p.checks.map((c) => [c.name, c.status]));

describe('probeEndpoint', () => {
  it('passes every check on a healthy vision endpoint, looking at a real image', async () => {
    const { result, fake, db } = await probe(
      { apiKey: KEY },
      { keyRef: { kind: 'env', name: 'PROBE_KEY' } },
      { PROBE_KEY: KEY },
    );
    expect(statuses(result)).toEqual({ key: 'ok', reachable: 'ok', model: 'ok', chat: 'ok', vision: 'ok' });
    expect(result.ok).toBe(true);
    expect(result.advice).toMatch(/ready to use/);
    expect(result.availableModels).toEqual(['fake-vl']);
    expect(result.checks.find((c) => c.name === 'vision')!.detail).toMatch(/red/i);
    expect(result.sentParams).toEqual({ tokenLimitParam: 'max_tokens', temperature: true });
    expect(result.checks.find((c) => c.name === 'chat')!.detail).toMatch(/max_tokens and a temperature/);
    expect(fake.chats).toHaveLength(2);
    expect(listLlmCalls(db).every((c) => c.purpose === 'probe' && c.status === 'ok')).toBe(true);
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it('asks the server again even when an earlier probe answer is cached', async () => {
    const { fake, db, endpoint } = await probe();
    await probeEndpoint(db, endpoint, unavailableKeyStore);
    expect(fake.chats).toHaveLength(4);
  });

  it('says to pick a vision model when the model is text-only', async () => {
    const { result } = await probe({ vision: false });
    expect(statuses(result)).toMatchObject({ chat: 'ok', vision: 'failed' });
    expect(result.ok).toBe(false);
    expect(result.advice).toMatch(/vision model.*reconstructor/);
  });

  it('skips the image check for a reconstructor-only endpoint', async () => {
    const { result, fake } = await probe({ vision: false }, { role: 'reconstructor' });
    expect(statuses(result)).toMatchObject({ chat: 'ok', vision: 'skipped' });
    expect(result.ok).toBe(true);
    expect(fake.chats).toHaveLength(1);
  });

  it('reports a wrong key as a key failure, with where to fix it and without the key', async () => {
    const { result } = await probe(
      { apiKey: 'sk-the-real-one-123456' },
      { keyRef: { kind: 'env', name: 'PROBE_KEY' } },
      { PROBE_KEY: KEY },
    );
    expect(statuses(result)).toMatchObject({
      key: 'failed',
      reachable: 'ok',
      model: 'skipped',
      vision: 'skipped',
    });
    expect(result.advice).toMatch(/Check the key in the environment variable PROBE_KEY/);
    expect(JSON.stringify(result)).not.toContain('SECRET');
  });

  it('reports a missing environment variable before calling anything', async () => {
    const { result, fake } = await probe({}, { keyRef: { kind: 'env', name: 'PROBE_KEY_UNSET' } });
    expect(statuses(result)).toEqual({
      key: 'failed',
      reachable: 'skipped',
      model: 'skipped',
      chat: 'skipped',
      vision: 'skipped',
    });
    expect(result.advice).toMatch(/PROBE_KEY_UNSET.*not set/);
    expect(fake.modelListRequests + fake.chats.length).toBe(0);
  });

  it('refuses a key file others can read, and says chmod 600', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ctgi-key-')), 'key.txt');
    writeFileSync(file, `${KEY}\n`);
    chmodSync(file, 0o644);
    const ref: KeyRef = { kind: 'file', path: file };
    const { result } = await probe({ apiKey: KEY }, { keyRef: ref });
    expect(statuses(result)).toMatchObject({ key: 'failed' });
    expect(result.advice).toContain(`chmod 600 ${file}`);
    chmodSync(file, 0o600);
    const again = await probe({ apiKey: KEY }, { keyRef: ref });
    expect(again.result.ok).toBe(true);
  });

  it('lists the served models when the model is not among them', async () => {
    const { result, fake } = await probe({ models: ['qwen2-vl-7b', 'llava:13b'] }, { model: 'qwen2-vl' });
    expect(statuses(result)).toMatchObject({ reachable: 'ok', model: 'failed', chat: 'skipped' });
    expect(result.advice).toContain('qwen2-vl-7b, llava:13b');
    expect(fake.chats).toHaveLength(0);
  });

  it('falls back to the answers when the server has no model list', async () => {
    const { result } = await probe({ modelsStatus: 404 });
    expect(statuses(result)).toMatchObject({ reachable: 'ok', model: 'warning', chat: 'ok', vision: 'ok' });
    expect(result.ok).toBe(true);
  });

  it('reports an unreachable server and skips the rest', async () => {
    const fake = await startFakeOpenAi();
    const url = fake.url;
    await fake.close();
    const { db } = openDatabase(':memory:');
    const endpoint = upsertEndpoint(db, {
      name: 'gone',
      baseUrl: url,
      model: 'm',
      role: 'both',
      temperature: 0.01,
      maxTokens: 8,
      concurrency: 1,
      requestsPerMinute: null,
      timeoutMs: 2000,
      keyRef: { kind: 'none' },
    });
    const result = await probeEndpoint(db, endpoint, unavailableKeyStore, { retry: { retries: 0 } });
    expect(statuses(result)).toEqual({
      key: 'ok',
      reachable: 'failed',
      model: 'skipped',
      chat: 'skipped',
      vision: 'skipped',
    });
    expect(result.advice).toMatch(/Cannot reach .*Is the server running/);
  });

  it('reports a chat that answers garbage', async () => {
    const fake = await startFakeOpenAi();
    servers.push(fake);
    fake.onChat = () => ({ body: { choices: [] } });
    const { db } = openDatabase(':memory:');
    const endpoint = upsertEndpoint(db, {
      name: 'garbage',
      baseUrl: fake.url,
      model: 'fake-vl',
      role: 'both',
      temperature: 0.01,
      maxTokens: 8,
      concurrency: 1,
      requestsPerMinute: null,
      timeoutMs: 2000,
      keyRef: { kind: 'none' },
    });
    const result = await probeEndpoint(db, endpoint, unavailableKeyStore, { retry: { retries: 0 } });
    expect(statuses(result)).toMatchObject({ model: 'ok', chat: 'failed', vision: 'skipped' });
    expect(result.advice).toMatch(/without any choices/);
  });
});

// Exactly what api.openai.com answers for a field the model does not take.
const rejects = (param: string, instead: string): FakeReply => ({
  status: 400,
  body: {
    error: {
      message: `Unsupported parameter: '${param}' is not supported with this model. Use '${instead}' instead.`,
      type: 'invalid_request_error',
      param,
      code: 'unsupported_parameter',
    },
  },
});

describe('probeEndpoint: which request fields the server takes', () => {
  it('says when the server wants max_completion_tokens instead of max_tokens, and how to save that', async () => {
    const fake = await startFakeOpenAi({ models: ['reasoner'] });
    servers.push(fake);
    fake.onChat = (body) =>
      'max_tokens' in body ? rejects('max_tokens', 'max_completion_tokens') : undefined;
    const { db } = openDatabase(':memory:');
    const endpoint = upsertEndpoint(db, {
      name: 'reasoner',
      baseUrl: fake.url,
      model: 'reasoner',
      role: 'both',
      temperature: 0.01,
      maxTokens: 64,
      concurrency: 1,
      requestsPerMinute: null,
      timeoutMs: 3000,
      keyRef: { kind: 'none' },
    });
    const result = await probeEndpoint(db, endpoint, unavailableKeyStore, { retry: { retries: 0 } });
    expect(statuses(result)).toEqual({
      key: 'ok',
      reachable: 'ok',
      model: 'ok',
      chat: 'warning',
      vision: 'ok',
    });
    expect(result.ok).toBe(true);
    expect(result.sentParams).toEqual({ tokenLimitParam: 'max_completion_tokens', temperature: true });
    expect(result.checks.find((c) => c.name === 'chat')!.detail).toMatch(
      /sent the token limit as max_completion_tokens \(the server rejects max_tokens\)/,
    );
    expect(result.advice).toMatch(/set the token limit field to max_completion_tokens/);
    // One rejected request, then both answers with the field that works.
    expect(fake.chats.map((c) => 'max_completion_tokens' in c.body)).toEqual([false, true, true]);
  });

  it('says when the model only takes its default temperature', async () => {
    const strict = await startFakeOpenAi();
    servers.push(strict);
    strict.onChat = (body) =>
      'temperature' in body
        ? {
            status: 400,
            body: {
              error: {
                message:
                  "Unsupported value: 'temperature' does not support 0.01 with this model. Only the default (1) value is supported.",
                type: 'invalid_request_error',
                param: 'temperature',
                code: 'unsupported_value',
              },
            },
          }
        : undefined;
    const { db } = openDatabase(':memory:');
    const endpoint = upsertEndpoint(db, {
      name: 'strict',
      baseUrl: strict.url,
      model: 'fake-vl',
      role: 'reconstructor',
      temperature: 0.01,
      maxTokens: 64,
      concurrency: 1,
      requestsPerMinute: null,
      timeoutMs: 3000,
      keyRef: { kind: 'none' },
    });
    const r = await probeEndpoint(db, endpoint, unavailableKeyStore, { retry: { retries: 0 } });
    expect(statuses(r)).toMatchObject({ chat: 'warning' });
    expect(r.sentParams).toEqual({ tokenLimitParam: 'max_tokens', temperature: false });
    expect(r.advice).toMatch(/set temperature to "omit"/);
  });

  it("probes a reasoning model on 'auto' with its own fields and room to think, without a warning", async () => {
    const { result, fake } = await probe({ models: ['o4-mini'] }, { model: 'o4-mini', maxTokens: 2000 });
    expect(statuses(result)).toEqual({ key: 'ok', reachable: 'ok', model: 'ok', chat: 'ok', vision: 'ok' });
    expect(result.sentParams).toEqual({ tokenLimitParam: 'max_completion_tokens', temperature: false });
    for (const c of fake.chats) {
      expect(c.body).toMatchObject({ max_completion_tokens: 2000 });
      expect('temperature' in c.body || 'max_tokens' in c.body).toBe(false);
    }
  });
});
