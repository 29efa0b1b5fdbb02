import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isReasoningModel, sentParamsFor } from '../../src/main/llm/client';
import { LlmError, redact } from '../../src/main/llm/errors';
import { llmImage, requestHash, type RequestIdentity } from '../../src/main/llm/hash';
import { resolveApiKey, unavailableKeyStore, type KeyStore } from '../../src/main/llm/keys';
import { EndpointLimiter } from '../../src/main/llm/limiter';
import { backoffMs, DEFAULT_RETRY, retryAfterMs } from '../../src/main/llm/retry';

describe('retry-after', () => {
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after': '0.5' }))).toBe(500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now)).toBe(3000);
  });

  it('ignores absent or unreadable values', () => {
    expect(retryAfterMs(undefined)).toBeNull();
    expect(retryAfterMs(new Headers())).toBeNull();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeNull();
    expect(retryAfterMs(new Headers({ 'retry-after': '-1' }))).toBeNull();
  });
});

describe('backoff', () => {
  it('doubles per retry, jitters within [½, 1] of the step, and is capped', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, p, () => 1)).toBe(100);
    expect(backoffMs(1, p, () => 0)).toBe(50);
    expect(backoffMs(3, p, () => 1)).toBe(400);
    expect(backoffMs(10, p, () => 1)).toBe(1000);
    expect(backoffMs(10, p, () => 0)).toBe(500);
  });
});

describe('request hash', () => {
  const base: RequestIdentity = {
    baseUrl: 'http://127.0.0.1:8000/v1',
    model: 'qwen2-vl',
    messages: [{ role: 'user', content: 'Describe the person.' }],
    imageSha256: ['ab'.repeat(32)],
    temperature: 0.01,
    maxTokens: 256,
  };

  it('is stable and ignores a trailing slash and parameter order', () => {
    expect(requestHash(base)).toBe(requestHash({ ...base, baseUrl: 'http://127.0.0.1:8000/v1/' }));
    expect(requestHash({ ...base, params: { seed: 1, stop: ['.'] } })).toBe(
      requestHash({ ...base, params: { stop: ['.'], seed: 1 } }),
    );
  });

  it('changes with anything that changes the answer', () => {
    const h = requestHash(base);
    const variants: Partial<RequestIdentity>[] = [
      { baseUrl: 'http://other/v1' },
      { model: 'gpt-4o' },
      { messages: [{ role: 'system', content: 'Describe the person.' }] },
      { messages: [{ role: 'user', content: 'Describe the person' }] },
      { imageSha256: ['cd'.repeat(32)] },
      { imageSha256: [] },
      { temperature: 0 },
      { maxTokens: 255 },
      { params: { seed: 2 } },
      { temperature: null },
      { tokenLimitParam: 'max_completion_tokens' },
    ];
    for (const v of variants) expect(requestHash({ ...base, ...v }), JSON.stringify(v)).not.toBe(h);
  });

  it('keeps the key of a classic request (temperature + max_tokens), so caches from older versions still answer', () => {
    const v1 = createHash('sha256')
      .update(
        JSON.stringify([
          'chat.v1',
          base.baseUrl,
          base.model,
          [['user', 'Describe the person.']],
          base.imageSha256,
          0.01,
          256,
          null,
        ]),
      )
      .digest('hex');
    expect(requestHash(base)).toBe(v1);
    expect(requestHash({ ...base, tokenLimitParam: 'max_tokens' })).toBe(v1);
  });

  it('hashes image bytes once into a sha256 and a data URL', () => {
    const img = llmImage(Buffer.from('hello'), 'image/png');
    expect(img.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(img.dataUrl).toBe('data:image/png;base64,aGVsbG8=');
  });
});

describe('request fields by model family', () => {
  it('knows the OpenAI reasoning families by name, with or without a provider prefix', () => {
    for (const m of [
      'o1',
      'o1-mini',
      'o3',
      'o3-mini-2025-01-31',
      'o4-mini',
      'gpt-5',
      'gpt-5-mini',
      'gpt-5.1',
      'openai/o3-mini',
      'azure:gpt-5-nano',
    ]) {
      expect(isReasoningModel(m), m).toBe(true);
    }
    for (const m of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1',
      'Qwen/Qwen2-VL-7B-Instruct',
      'qwen2.5vl:7b',
      'llava-o1',
      'gpt-50',
      'o2-x',
      'yolo3',
    ]) {
      expect(isReasoningModel(m), m).toBe(false);
    }
  });

  it("resolves 'auto' by model family, and leaves explicit settings alone", () => {
    const auto = { tokenLimitParam: 'auto', temperatureParam: 'auto' } as const;
    expect(sentParamsFor({ ...auto, model: 'gpt-4o' })).toEqual({
      tokenLimitParam: 'max_tokens',
      temperature: true,
    });
    expect(sentParamsFor({ ...auto, model: 'o3-mini' })).toEqual({
      tokenLimitParam: 'max_completion_tokens',
      temperature: false,
    });
    expect(
      sentParamsFor({ model: 'o3-mini', tokenLimitParam: 'max_tokens', temperatureParam: 'send' }),
    ).toEqual({ tokenLimitParam: 'max_tokens', temperature: true });
    expect(
      sentParamsFor({
        model: 'qwen2-vl',
        tokenLimitParam: 'max_completion_tokens',
        temperatureParam: 'omit',
      }),
    ).toEqual({
      tokenLimitParam: 'max_completion_tokens',
      temperature: false,
    });
  });
});

describe('redaction', () => {
  it('removes the key and anything key-shaped', () => {
    const key = 'my-local-secret-token';
    expect(redact(`bad key ${key}!`, key)).toBe('bad key [redacted key]!');
    expect(redact('Incorrect API key provided: sk-proj-abc123DEF456.', null)).toBe(
      'Incorrect API key provided: [redacted key].',
    );
    expect(redact('header Authorization: Bearer abc.def', null)).toBe(
      'header Authorization: Bearer [redacted]',
    );
    expect(redact('nothing to hide', key)).toBe('nothing to hide');
  });

  it('gives each error kind an API error code and knows which are worth retrying', () => {
    expect(new LlmError('auth', 'x')).toMatchObject({ code: 'unauthorized', retryable: false });
    expect(new LlmError('rate_limited', 'x')).toMatchObject({ code: 'unavailable', retryable: true });
    expect(new LlmError('rate_limited', 'x', 429, false).retryable).toBe(false);
    expect(new LlmError('no_vision', 'x')).toMatchObject({ code: 'bad_request', retryable: false });
  });
});

describe('API key resolution', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-keys-'));

  it('reads env variables and says which one is missing', async () => {
    await expect(
      resolveApiKey({ kind: 'env', name: 'K' }, unavailableKeyStore, { K: ' sk-x \n' }),
    ).resolves.toBe('sk-x');
    await expect(resolveApiKey({ kind: 'env', name: 'K' }, unavailableKeyStore, {})).rejects.toThrow(
      /K, which is not set/,
    );
    await expect(resolveApiKey({ kind: 'none' }, unavailableKeyStore, {})).resolves.toBeNull();
  });

  it('reads a 0600 key file and refuses one others can read, naming the fix', async () => {
    const file = join(dir, 'key');
    writeFileSync(file, 'sk-file-key\n');
    chmodSync(file, 0o640);
    const err = await resolveApiKey({ kind: 'file', path: file }, unavailableKeyStore).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`chmod 600 ${file}`);
    expect((err as Error).message).not.toContain('sk-file-key');
    chmodSync(file, 0o600);
    await expect(resolveApiKey({ kind: 'file', path: file }, unavailableKeyStore)).resolves.toBe(
      'sk-file-key',
    );
    await expect(
      resolveApiKey({ kind: 'file', path: join(dir, 'nope') }, unavailableKeyStore),
    ).rejects.toThrow(/cannot be read/);
  });

  it('uses the plugged-in key store for safe-storage, and explains when there is none', async () => {
    const secrets = new Map([['ep', 'sk-stored']]);
    const store: KeyStore = {
      available: true,
      get: (id) => Promise.resolve(secrets.get(id) ?? null),
      set: (id, s) => Promise.resolve(void secrets.set(id, s)),
      delete: (id) => Promise.resolve(void secrets.delete(id)),
    };
    await expect(resolveApiKey({ kind: 'safe-storage', id: 'ep' }, store)).resolves.toBe('sk-stored');
    await expect(resolveApiKey({ kind: 'safe-storage', id: 'other' }, store)).rejects.toThrow(
      /Enter it again/,
    );
    await expect(resolveApiKey({ kind: 'safe-storage', id: 'ep' }, unavailableKeyStore)).rejects.toThrow(
      /only available in the desktop app/,
    );
  });
});

describe('endpoint limiter', () => {
  it('holds every start back while paused by a retry-after', async () => {
    const limiter = new EndpointLimiter(4, null);
    const t0 = Date.now();
    limiter.pause(t0 + 150);
    const starts = await Promise.all([1, 2, 3].map(() => limiter.run(() => Promise.resolve(Date.now()))));
    for (const s of starts) expect(s - t0).toBeGreaterThanOrEqual(145);
  });

  it('bounds work in flight and follows a new concurrency setting', async () => {
    const limiter = new EndpointLimiter(2, null);
    let now = 0;
    let peak = 0;
    const job = (): Promise<void> =>
      limiter.run(async () => {
        peak = Math.max(peak, ++now);
        await new Promise((r) => setTimeout(r, 10));
        now--;
      });
    await Promise.all(Array.from({ length: 8 }, job));
    expect(peak).toBe(2);
    limiter.configure(5, null);
    peak = 0;
    await Promise.all(Array.from({ length: 10 }, job));
    expect(peak).toBe(5);
  });
});
