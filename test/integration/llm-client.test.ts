import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmEndpoint } from '#shared/llm/types';
import { openDatabase } from '../../src/main/db/open';
import {
  listLlmCalls,
  summarizeLlmUsage,
  upsertEndpoint,
  type LlmEndpointInput,
} from '../../src/main/db/repos/llm';
import type { WritableDb } from '../../src/main/db/types';
import { createLlmClient as newLlmClient, type LlmClientOptions } from '../../src/main/llm/client';
import { LlmError } from '../../src/main/llm/errors';
import { llmImage, requestHash } from '../../src/main/llm/hash';
import { unavailableKeyStore, type KeyStore } from '../../src/main/llm/keys';
import { LlmRuntime } from '../../src/main/llm/runtime';
import {
  startFakeOpenAi,
  type FakeOpenAi,
  type FakeOpenAiOptions,
  type FakeReply,
} from '../fixtures/fake-openai';

const KEY = 'sk-test-SECRET0123456789abcdef';
const fast: LlmClientOptions['retry'] = { retries: 3, baseDelayMs: 20, maxDelayMs: 50 };

let servers: FakeOpenAi[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

// Each test's database stands for one workspace: its clients share that workspace's LLM runtime, as the
// clients of one open workspace do (ws.services.llm).
const runtimes = new WeakMap<WritableDb, LlmRuntime>();
function createLlmClient(db: WritableDb, endpoint: LlmEndpoint, keys: KeyStore, opts: LlmClientOptions = {}) {
  let runtime = runtimes.get(db);
  if (!runtime) runtimes.set(db, (runtime = new LlmRuntime()));
  return newLlmClient(db, endpoint, keys, { runtime, ...opts });
}

let seq = 0;
async function setup(
  serverOpts: FakeOpenAiOptions = {},
  profile: Partial<LlmEndpointInput> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<{ db: WritableDb; fake: FakeOpenAi; endpoint: LlmEndpoint }> {
  const fake = await startFakeOpenAi(serverOpts);
  servers.push(fake);
  const { db } = openDatabase(':memory:');
  const endpoint = upsertEndpoint(db, {
    name: `ep${++seq}`,
    baseUrl: fake.url,
    model: 'fake-vl',
    role: 'both',
    temperature: 0.01,
    maxTokens: 64,
    concurrency: 4,
    requestsPerMinute: null,
    timeoutMs: 5000,
    keyRef: { kind: 'none' },
    ...profile,
  });
  void env;
  return { db, fake, endpoint };
}

const textOfLast = (body: { messages: { content: unknown }[] }): unknown =>
  body.messages[body.messages.length - 1]?.content;

const ask = (text: string, purpose = 'test') => ({
  purpose,
  messages: [{ role: 'user' as const, content: text }],
});

async function failure(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LlmError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('LLM client: answers and the call log', () => {
  it('answers and records the call with purpose, tokens and latency', async () => {
    const { db, fake, endpoint } = await setup({ latencyMs: 30 });
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    const r = await client.chat(ask('describe the person', 'mtg.caption'));
    expect(r).toMatchObject({
      content: 'echo: describe the person',
      cached: false,
      promptTokens: 3,
      completionTokens: 4,
    });
    expect(fake.chats).toHaveLength(1);
    expect(fake.chats[0]!.body).toMatchObject({ model: 'fake-vl', temperature: 0.01, max_tokens: 64 });
    expect(fake.chats[0]!.authorization).toBeUndefined();
    const [row] = listLlmCalls(db);
    expect(row).toMatchObject({
      id: r.callId,
      endpoint_id: endpoint.id,
      model: 'fake-vl',
      purpose: 'mtg.caption',
      status: 'ok',
      prompt_tokens: 3,
      completion_tokens: 4,
      response: 'echo: describe the person',
      request_hash: r.requestHash,
    });
    expect(row!.latency_ms).toBeGreaterThanOrEqual(25);
  });

  it('sends images before the text of the last user message', async () => {
    const { db, fake, endpoint } = await setup();
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    const sharp = (await import('sharp')).default;
    const png = await sharp({
      create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 0, b: 230 } },
    })
      .png()
      .toBuffer();
    const r = await client.chat({ ...ask('What colour?'), images: [llmImage(png, 'image/png')] });
    expect(r.content).toBe('Blue.');
    const content = fake.chats[0]!.body.messages[0]!.content;
    expect(Array.isArray(content) && content.map((p) => p.type)).toEqual(['image_url', 'text']);
  });
});

describe('LLM client: cache and coalescing', () => {
  it('answers a repeated request from the cache without an HTTP call, and counts the hit', async () => {
    const { db, fake, endpoint } = await setup();
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    const first = await client.chat(ask('same question'));
    const again = await createLlmClient(db, endpoint, unavailableKeyStore).chat(
      ask('same question', 'resume'),
    );
    expect(fake.chats).toHaveLength(1);
    expect(again).toMatchObject({
      content: first.content,
      cached: true,
      callId: first.callId,
      promptTokens: first.promptTokens,
    });
    const hit = listLlmCalls(db).find((c) => c.status === 'hit');
    expect(hit).toMatchObject({
      purpose: 'resume',
      cached_from: first.callId,
      request_hash: first.requestHash,
    });
    expect(summarizeLlmUsage(db)).toEqual(
      expect.arrayContaining([expect.objectContaining({ purpose: 'resume', calls: 0, hits: 1 })]),
    );
  });

  it('keys the cache on everything that changes the answer, and on images by sha256 only', async () => {
    const { db, fake, endpoint } = await setup();
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    const sharp = (await import('sharp')).default;
    const square = sharp({
      create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 200, b: 0 } },
    });
    const img = llmImage(await square.clone().png().toBuffer(), 'image/png');
    await client.chat({ ...ask('q'), images: [img] });
    // The same image sent in another encoding (another data URL, same sha256) is the same request.
    const jpeg = llmImage(await square.clone().jpeg().toBuffer(), 'image/jpeg');
    await client.chat({ ...ask('q'), images: [{ ...img, dataUrl: jpeg.dataUrl }] });
    expect(fake.chats).toHaveLength(1);
    await client.chat({ ...ask('q'), images: [img], temperature: 0.7 });
    await client.chat({ ...ask('q'), images: [img], maxTokens: 9 });
    await client.chat({ ...ask('q'), images: [{ ...img, sha256: 'b'.repeat(64) }] });
    await client.chat({ ...ask('q'), images: [img], params: { seed: 1 } });
    await client.chat(ask('q'));
    expect(fake.chats).toHaveLength(6);
  });

  it('coalesces identical concurrent requests into one HTTP call', async () => {
    const { db, fake, endpoint } = await setup({ latencyMs: 150 });
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    const results = await Promise.all(Array.from({ length: 6 }, () => client.chat(ask('together'))));
    expect(fake.chats).toHaveLength(1);
    expect(new Set(results.map((r) => r.callId)).size).toBe(1);
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
    const rows = listLlmCalls(db);
    expect(rows.filter((r) => r.status === 'ok')).toHaveLength(1);
    expect(rows.filter((r) => r.status === 'hit')).toHaveLength(5);
  });

  it('keeps a coalesced call going when one waiter cancels, and cancels it when all do', async () => {
    const { db, fake, endpoint } = await setup({ latencyMs: 200 });
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    const quitter = new AbortController();
    const a = client.chat({ ...ask('shared'), signal: quitter.signal });
    const b = client.chat(ask('shared'));
    setTimeout(() => quitter.abort(), 30);
    await expect(a).rejects.toThrow(/abort|cancel/i);
    await expect(b).resolves.toMatchObject({ content: 'echo: shared' });
    expect(fake.chats).toHaveLength(1);

    const only = new AbortController();
    const c = client.chat({ ...ask('alone'), signal: only.signal });
    setTimeout(() => only.abort(), 30);
    await expect(c).rejects.toThrow(/abort|cancel/i);
    expect(listLlmCalls(db).filter((r) => r.status === 'ok')).toHaveLength(1);
  });
});

describe('LLM client: retries', () => {
  it('waits as long as retry-after-ms asks on a 429, then succeeds', async () => {
    const { db, fake, endpoint } = await setup();
    fake.script({
      status: 429,
      headers: { 'retry-after-ms': '400' },
      body: { error: { message: 'slow down' } },
    });
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
    const t0 = performance.now();
    const r = await client.chat(ask('patience'));
    const elapsed = performance.now() - t0;
    expect(r.content).toBe('echo: patience');
    expect(fake.chats).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(fake.chats[1]!.at - fake.chats[0]!.at).toBeGreaterThanOrEqual(390);
    const rows = listLlmCalls(db).reverse();
    expect(rows.map((x) => [x.status, x.attempt, x.error_kind])).toEqual([
      ['error', 1, 'rate_limited'],
      ['ok', 2, null],
    ]);
  });

  it('holds back other requests to the endpoint while a retry-after runs', async () => {
    const { db, fake, endpoint } = await setup();
    fake.script({
      status: 429,
      headers: { 'retry-after-ms': '400' },
      body: { error: { message: 'slow down' } },
    });
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
    const first = client.chat(ask('first'));
    await new Promise((r) => setTimeout(r, 80));
    await Promise.all([first, client.chat(ask('second'))]);
    const second = fake.chats.find((c) => c.body.messages[0]!.content === 'second')!;
    expect(second.at - fake.chats[0]!.at).toBeGreaterThanOrEqual(390);
  });

  it('honours retry-after in seconds on a 503', async () => {
    const { db, fake, endpoint } = await setup();
    fake.script({
      status: 503,
      headers: { 'retry-after': '1' },
      body: { error: { message: 'loading model' } },
    });
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
    const t0 = performance.now();
    await client.chat(ask('later'));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    expect(fake.chats).toHaveLength(2);
  });

  it('retries 500/502/504 with backoff and gives up after the configured retries', async () => {
    const { db, fake, endpoint } = await setup();
    fake.script(
      { status: 500, body: { error: { message: 'oops' } } },
      { status: 502, contentType: 'text/html', body: '<html><body>Bad Gateway</body></html>' },
    );
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
    await expect(client.chat(ask('eventually'))).resolves.toMatchObject({ content: 'echo: eventually' });
    expect(fake.chats).toHaveLength(3);

    fake.onChat = () => ({ status: 504, body: { error: { message: 'gateway timeout' } } });
    const e = await failure(client.chat(ask('never')));
    expect(e.kind).toBe('server');
    expect(fake.chats).toHaveLength(3 + 4);
    const html = listLlmCalls(db).find((r) => r.error?.includes('502'));
    expect(html?.error).toContain('an HTML error page');
    expect(html?.error).not.toContain('<html');
  });

  it('never retries 401, and says where to fix the key without showing it', async () => {
    const { db, fake, endpoint } = await setup(
      { apiKey: 'sk-the-right-one-000000' },
      { keyRef: { kind: 'env', name: 'CTGI_TEST_KEY' } },
    );
    const client = createLlmClient(db, endpoint, unavailableKeyStore, {
      retry: fast,
      env: { CTGI_TEST_KEY: KEY },
    });
    const e = await failure(client.chat(ask('let me in')));
    expect(e.kind).toBe('auth');
    expect(e.message).toContain('Check the key in the environment variable CTGI_TEST_KEY');
    expect(e.message).not.toContain(KEY);
    expect(e.message).not.toContain('SECRET0123');
    expect(fake.chats).toHaveLength(0); // rejected before the chat handler: one HTTP request in all
    expect(JSON.stringify(listLlmCalls(db))).not.toContain('SECRET0123');
  });

  it('sends the key as a Bearer token when one is configured', async () => {
    const { db, fake, endpoint } = await setup(
      { apiKey: KEY },
      { keyRef: { kind: 'env', name: 'CTGI_TEST_KEY' } },
    );
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { env: { CTGI_TEST_KEY: KEY } });
    await client.chat(ask('hello'));
    expect(fake.chats[0]!.authorization).toBe(`Bearer ${KEY}`);
  });

  it('never retries a 400, and names a text-only model as such', async () => {
    const { db, fake, endpoint } = await setup({ vision: false });
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
    const e = await failure(
      client.chat({ ...ask('see?'), images: [llmImage(Buffer.from('not looked at'), 'image/png')] }),
    );
    expect(e.kind).toBe('no_vision');
    expect(e.message).toMatch(/does not accept images/);
    expect(fake.chats).toHaveLength(1);
  });

  it('lists the served models when the model is not found, without retrying', async () => {
    const { db, fake, endpoint } = await setup({ models: ['qwen2-vl-7b', 'llava'] }, { model: 'gpt-4o' });
    const e = await failure(
      createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast }).chat(ask('hi')),
    );
    expect(e.kind).toBe('model_not_found');
    expect(e.message).toContain('Available: qwen2-vl-7b, llava');
    expect(fake.chats).toHaveLength(1);
  });

  it('times out a hanging request, retries it, then reports a timeout', async () => {
    const { db, fake, endpoint } = await setup({}, { timeoutMs: 300 });
    fake.onChat = () => ({ hang: true });
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: { ...fast, retries: 1 } });
    const t0 = performance.now();
    const e = await failure(client.chat(ask('anyone?')));
    expect(e.kind).toBe('timeout');
    expect(fake.chats).toHaveLength(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(550);
  });

  it('reports an unreachable server after retrying', async () => {
    const { db, endpoint, fake } = await setup();
    await fake.close();
    servers = [];
    const e = await failure(
      createLlmClient(db, endpoint, unavailableKeyStore, { retry: { ...fast, retries: 1 } }).chat(
        ask('hello?'),
      ),
    );
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain('Cannot reach http://127.0.0.1:');
    expect(listLlmCalls(db).filter((r) => r.error_kind === 'unreachable')).toHaveLength(2);
  });
});

describe('LLM client: response validation', () => {
  // [what, reply, kind, message, retried]: a malformed or empty answer is transient (a body cut short, an
  // overloaded server) and is asked again like a 5xx; an HTML page or a reply cut by max tokens is what
  // the same request gets again, so it is final.
  const cases: [string, Parameters<FakeOpenAi['script']>[0], LlmError['kind'], RegExp, boolean][] = [
    [
      'malformed JSON',
      { body: '{"choices": [', contentType: 'application/json' },
      'bad_response',
      /malformed JSON/,
      true,
    ],
    [
      'an HTML page with 200',
      { body: '<!DOCTYPE html><html><body>Welcome</body></html>', contentType: 'text/html' },
      'bad_response',
      /HTML page.*\/v1/,
      false,
    ],
    [
      'empty choices',
      { body: { id: 'x', object: 'chat.completion', choices: [] } },
      'bad_response',
      /without any choices/,
      true,
    ],
    [
      'null content',
      {
        body: {
          choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'stop' }],
        },
      },
      'bad_response',
      /empty message/,
      true,
    ],
    [
      'content cut by max tokens',
      {
        body: {
          choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' }],
        },
      },
      'bad_response',
      /max tokens/,
      false,
    ],
  ];
  for (const [what, reply, kind, message, retried] of cases) {
    if (retried) {
      it(`retries ${what} like a 5xx, logging each attempt, and gives up after the retries`, async () => {
        const { db, fake, endpoint } = await setup();
        fake.script(reply, reply);
        const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
        // Two bad attempts, then the server answers: the answer is the one stored and served.
        await expect(client.chat(ask('q'))).resolves.toMatchObject({ cached: false, content: 'echo: q' });
        expect(fake.chats).toHaveLength(3);
        expect(listLlmCalls(db).reverse()).toMatchObject([
          { status: 'error', error_kind: kind, attempt: 1 },
          { status: 'error', error_kind: kind, attempt: 2 },
          { status: 'ok', attempt: 3 },
        ]);
        await expect(client.chat(ask('q'))).resolves.toMatchObject({ cached: true, content: 'echo: q' });

        // Bad every time: 1 + retries attempts, then the error; nothing cached, so a later call asks again.
        fake.script(reply, reply, reply, reply);
        const e = await failure(client.chat(ask('again')));
        expect(e.kind).toBe(kind);
        expect(e.message).toMatch(message);
        expect(fake.chats).toHaveLength(3 + 4);
        await expect(client.chat(ask('again'))).resolves.toMatchObject({ cached: false });
      });
    } else {
      it(`turns ${what} into a ${kind} error at once, recorded and not cached`, async () => {
        const { db, fake, endpoint } = await setup();
        fake.script(reply);
        const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
        const e = await failure(client.chat(ask('q')));
        expect(e.kind).toBe(kind);
        expect(e.message).toMatch(message);
        expect(fake.chats).toHaveLength(1);
        expect(listLlmCalls(db)).toMatchObject([{ status: 'error', error_kind: kind }]);
        // Not cached: asking again reaches the server (which now answers normally).
        await expect(client.chat(ask('q'))).resolves.toMatchObject({ cached: false });
      });
    }
  }
});

describe('LLM client: refusals are final, and cached like answers', () => {
  const refusal = (text: string): Parameters<FakeOpenAi['script']>[0] => ({
    body: {
      choices: [
        { index: 0, message: { role: 'assistant', content: null, refusal: text }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 },
    },
  });
  const filtered: Parameters<FakeOpenAi['script']>[0] = {
    body: {
      choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter' }],
    },
  };

  for (const [what, reply, message] of [
    ['a refusal', refusal("I can't help with that."), /refused.*can't help/],
    ['a content filter stop', filtered, /content filter/],
  ] as const) {
    it(`answers ${what} asked twice with the same refused error, paying once`, async () => {
      const { db, fake, endpoint } = await setup();
      fake.script(reply);
      const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
      const first = await failure(client.chat(ask('who is this?')));
      expect(first).toMatchObject({ kind: 'refused', retryable: false, code: 'conflict' });
      expect(first.message).toMatch(message);
      // Had it not been cached, the server (script used up) would answer normally now.
      const again = await failure(client.chat(ask('who is this?', 'mtg.question')));
      expect(again).toBeInstanceOf(LlmError);
      expect(again).toMatchObject({
        kind: 'refused',
        message: first.message,
        code: first.code,
        status: first.status,
      });
      expect(fake.chats).toHaveLength(1);
      const rows = listLlmCalls(db).reverse();
      expect(rows.map((r) => [r.status, r.error_kind])).toEqual([
        ['error', 'refused'],
        ['hit', null],
      ]);
      expect(rows[1]).toMatchObject({
        purpose: 'mtg.question',
        cached_from: rows[0]!.id,
        request_hash: rows[0]!.request_hash,
      });
      // Another request is not touched by it.
      await expect(client.chat(ask('who is that?'))).resolves.toMatchObject({ cached: false });
    });
  }

  it('records what a refusal cost, and a resumed run in a new process does not ask again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-refusal-'));
    const file = join(dir, 'ws.sqlite');
    const fake = await startFakeOpenAi();
    servers.push(fake);
    let { db } = openDatabase(file);
    const endpoint = upsertEndpoint(db, {
      name: 'refuser',
      baseUrl: fake.url,
      model: 'fake-vl',
      role: 'both',
      temperature: 0.01,
      maxTokens: 64,
      concurrency: 2,
      requestsPerMinute: null,
      timeoutMs: 5000,
      keyRef: { kind: 'none' },
    });
    fake.onChat = (body) =>
      textOfLast(body) === 'describe the face' ? refusal('I cannot identify people.') : undefined;
    const run = async (): Promise<string[]> => {
      const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
      const out = await Promise.allSettled([
        client.chat(ask('describe the face')),
        client.chat(ask('describe the coat')),
      ]);
      return out.map((o) => (o.status === 'fulfilled' ? o.value.content : (o.reason as LlmError).kind));
    };
    expect(await run()).toEqual(['refused', 'echo: describe the coat']);
    expect(listLlmCalls(db).find((r) => r.error_kind === 'refused')).toMatchObject({
      prompt_tokens: 7,
      completion_tokens: 5,
      finish_reason: 'stop',
    });
    db.close();
    ({ db } = openDatabase(file));
    expect(await run()).toEqual(['refused', 'echo: describe the coat']);
    expect(fake.chats).toHaveLength(2);
    expect(summarizeLlmUsage(db)).toEqual([
      expect.objectContaining({
        purpose: 'test',
        calls: 1,
        hits: 2,
        errors: 1,
        promptTokens: 7 + 3,
        completionTokens: 5 + 4,
      }),
    ]);
    db.close();
  });

  it('does not cache transient failures: a 429, a 500 and malformed JSON are asked again', async () => {
    const { db, fake, endpoint } = await setup();
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: { ...fast, retries: 0 } });
    fake.script(
      { status: 429, body: { error: { message: 'slow down' } } },
      { status: 500, body: { error: { message: 'oops' } } },
      { body: '{"choices": [', contentType: 'application/json' },
    );
    for (const kind of ['rate_limited', 'server', 'bad_response'])
      expect((await failure(client.chat(ask('flaky')))).kind).toBe(kind);
    await expect(client.chat(ask('flaky'))).resolves.toMatchObject({ cached: false, content: 'echo: flaky' });
    expect(fake.chats).toHaveLength(4);
  });
});

// Exactly what api.openai.com answers for a field the model does not take.
function unsupportedParameter(param: string, instead: string): FakeReply {
  return {
    status: 400,
    body: {
      error: {
        message: `Unsupported parameter: '${param}' is not supported with this model. Use '${instead}' instead.`,
        type: 'invalid_request_error',
        param,
        code: 'unsupported_parameter',
      },
    },
  };
}
const unsupportedTemperature: FakeReply = {
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
};
const has = (body: object, field: string): boolean => field in body;

describe('LLM client: the token-limit field and temperature', () => {
  it("sends max_tokens and the temperature to other models, and the reasoning families' fields on 'auto'", async () => {
    const { db, fake, endpoint } = await setup({ models: ['fake-vl', 'o4-mini'] });
    await createLlmClient(db, endpoint, unavailableKeyStore).chat(ask('classic'));
    const o4 = upsertEndpoint(db, { ...endpoint, name: `${endpoint.name}-o4`, model: 'o4-mini' });
    const r = await createLlmClient(db, o4, unavailableKeyStore).chat(ask('reasoning'));
    expect(fake.chats[0]!.body).toMatchObject({ temperature: 0.01, max_tokens: 64 });
    expect(has(fake.chats[0]!.body, 'max_completion_tokens')).toBe(false);
    expect(fake.chats[1]!.body).toMatchObject({ max_completion_tokens: 64 });
    expect(has(fake.chats[1]!.body, 'max_tokens') || has(fake.chats[1]!.body, 'temperature')).toBe(false);
    expect(r.sentParams).toEqual({ tokenLimitParam: 'max_completion_tokens', temperature: false });
  });

  it('follows explicit settings over the model name', async () => {
    const { db, fake, endpoint } = await setup(
      { models: ['o3'] },
      { model: 'o3', tokenLimitParam: 'max_tokens', temperatureParam: 'send' },
    );
    await createLlmClient(db, endpoint, unavailableKeyStore).chat(ask('as told'));
    expect(fake.chats[0]!.body).toMatchObject({ max_tokens: 64, temperature: 0.01 });
  });

  it('switches to max_completion_tokens once when the server rejects max_tokens, and keys the cache on what was sent', async () => {
    // A deployment whose name does not give away a reasoning model (Azure-style), so 'auto' guesses wrong.
    const { db, fake, endpoint } = await setup(
      { models: ['my-deployment'] },
      { model: 'my-deployment', temperatureParam: 'omit' },
    );
    fake.onChat = (body) =>
      has(body, 'max_tokens') ? unsupportedParameter('max_tokens', 'max_completion_tokens') : undefined;
    const client = createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast });
    const r = await client.chat(ask('think'));
    expect(r).toMatchObject({
      content: 'echo: think',
      cached: false,
      sentParams: { tokenLimitParam: 'max_completion_tokens', temperature: false },
    });
    expect(fake.chats.map((c) => has(c.body, 'max_tokens'))).toEqual([true, false]);
    expect(fake.chats[1]!.body).toMatchObject({ max_completion_tokens: 64 });
    const rows = listLlmCalls(db).reverse();
    expect(rows.map((x) => [x.status, x.error_kind])).toEqual([
      ['error', 'bad_request'],
      ['ok', null],
    ]);
    expect(rows[0]!.request_hash).not.toBe(rows[1]!.request_hash);
    expect(rows[1]!.request_hash).toBe(r.requestHash);
    expect(r.requestHash).toBe(
      requestHash({
        baseUrl: fake.url,
        model: 'my-deployment',
        messages: [{ role: 'user', content: 'think' }],
        imageSha256: [],
        temperature: null,
        maxTokens: 64,
        tokenLimitParam: 'max_completion_tokens',
      }),
    );
    // Learned for the process: the next request goes out right the first time, and the same one is cached.
    await createLlmClient(db, endpoint, unavailableKeyStore).chat(ask('think again'));
    await expect(
      createLlmClient(db, endpoint, unavailableKeyStore).chat(ask('think')),
    ).resolves.toMatchObject({ cached: true, callId: r.callId });
    expect(fake.chats).toHaveLength(3);
    expect(has(fake.chats[2]!.body, 'max_completion_tokens')).toBe(true);
  });

  it('switches back to max_tokens for a server that does not know max_completion_tokens', async () => {
    const { db, fake, endpoint } = await setup(
      { models: ['gpt-5-local'] },
      { model: 'gpt-5-local', temperatureParam: 'send' },
    );
    fake.onChat = (body) =>
      has(body, 'max_completion_tokens')
        ? {
            status: 400,
            body: {
              object: 'error',
              message:
                "[{'type': 'extra_forbidden', 'loc': ('body', 'max_completion_tokens'), 'msg': 'Extra inputs are not permitted'}]",
              type: 'BadRequestError',
              code: 400,
            },
          }
        : undefined;
    const r = await createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast }).chat(ask('local'));
    expect(r.sentParams.tokenLimitParam).toBe('max_tokens');
    expect(fake.chats.map((c) => Object.keys(c.body).filter((k) => /tokens/.test(k)))).toEqual([
      ['max_completion_tokens'],
      ['max_tokens'],
    ]);
  });

  it('leaves the temperature out once the model rejects it', async () => {
    const { db, fake, endpoint } = await setup();
    fake.onChat = (body) => (has(body, 'temperature') ? unsupportedTemperature : undefined);
    const r = await createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast }).chat(ask('warm?'));
    expect(r.sentParams).toEqual({ tokenLimitParam: 'max_tokens', temperature: false });
    expect(fake.chats.map((c) => has(c.body, 'temperature'))).toEqual([true, false]);
  });

  it('tries the other field only once, and does not switch on a 400 about something else', async () => {
    const { db, fake, endpoint } = await setup();
    fake.onChat = (body) =>
      has(body, 'max_tokens')
        ? unsupportedParameter('max_tokens', 'max_completion_tokens')
        : unsupportedParameter('max_completion_tokens', 'max_tokens');
    const e = await failure(
      createLlmClient(db, endpoint, unavailableKeyStore, { retry: fast }).chat(ask('neither')),
    );
    expect(e.kind).toBe('bad_request');
    expect(e.message).toContain("'max_completion_tokens' is not supported");
    expect(fake.chats).toHaveLength(2);

    const other = await setup();
    other.fake.onChat = () => ({
      status: 400,
      body: {
        error: {
          message: "Invalid 'messages[0].content': string too long.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'string_above_max_length',
        },
      },
    });
    expect(
      (
        await failure(
          createLlmClient(other.db, other.endpoint, unavailableKeyStore, { retry: fast }).chat(ask('long')),
        )
      ).kind,
    ).toBe('bad_request');
    expect(other.fake.chats).toHaveLength(1);
  });
});

describe('LLM client: limits', () => {
  it('never has more requests in flight than the endpoint allows', async () => {
    const { db, fake, endpoint } = await setup({ latencyMs: 40 }, { concurrency: 3 });
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.chat(ask(`question ${i}`))));
    expect(fake.chats).toHaveLength(20);
    expect(fake.maxInFlight).toBe(3);
  });

  it('shares the bound between clients of the same endpoint', async () => {
    const { db, fake, endpoint } = await setup({ latencyMs: 40 }, { concurrency: 2 });
    const a = createLlmClient(db, endpoint, unavailableKeyStore);
    const b = createLlmClient(db, endpoint, unavailableKeyStore);
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).chat(ask(`q${i}`))));
    expect(fake.maxInFlight).toBe(2);
  });

  it('spaces request starts to respect requests per minute', async () => {
    // 600/min = one start every 100 ms.
    const { db, fake, endpoint } = await setup({}, { requestsPerMinute: 600, concurrency: 8 });
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.chat(ask(`r${i}`))));
    const at = fake.chats.map((c) => c.at).sort((x, y) => x - y);
    // Unlimited, all six would arrive within a few ms. Starts are spaced by the client (so elapsed time is
    // exact); arrivals at the server get slack for transit jitter on a loaded machine.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(480);
    expect(at[5]! - at[0]!).toBeGreaterThanOrEqual(400);
    for (let i = 2; i < at.length; i++) expect(at[i]! - at[i - 2]!).toBeGreaterThanOrEqual(120);
  });
});

describe('LLM client: throughput at zero latency', () => {
  it('sustains hundreds of recorded calls per second', async () => {
    const { db, fake, endpoint } = await setup({}, { concurrency: 16 });
    const client = createLlmClient(db, endpoint, unavailableKeyStore);
    await client.chat(ask('warm up'));
    const n = 600;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => client.chat(ask(`throughput ${i}`))));
    const perSecond = n / ((performance.now() - t0) / 1000);
    console.info(
      `llm client: ${perSecond.toFixed(0)} calls/s (fake server in-process, 0 ms latency, 16 in flight)`,
    );
    expect(fake.chats).toHaveLength(n + 1);
    expect(listLlmCalls(db, 10_000).filter((r) => r.status === 'ok')).toHaveLength(n + 1);
    // A loose floor: a loaded 2-core CI box must not flake; the figure above is the measurement.
    expect(perSecond).toBeGreaterThan(60);
  });
});
