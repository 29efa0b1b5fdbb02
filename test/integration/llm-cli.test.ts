import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { startFakeOpenAi, type FakeOpenAi } from '../fixtures/fake-openai';

const KEY = 'sk-cli-SECRET-0123456789abcdef';
let fake: FakeOpenAi;
const workspace = join(mkdtempSync(join(tmpdir(), 'ctgi-cli-llm-')), 'ws.sqlite');

async function ctgi(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['endpoints', '--workspace', workspace, ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  fake = await startFakeOpenAi({ apiKey: KEY });
  process.env.CTGI_CLI_TEST_KEY = KEY;
});
afterAll(async () => {
  delete process.env.CTGI_CLI_TEST_KEY;
  await fake.close();
});

describe('ctgi endpoints', () => {
  it('says how to add one when there are none', async () => {
    expect(await ctgi()).toMatchObject({ code: 0, out: expect.stringMatching(/No endpoints yet.*--save/) });
  });

  it('saves, changes only the flags given, lists without the key, probes and deletes', async () => {
    const saved = await ctgi(
      '--save',
      'fake',
      '--base-url',
      fake.url,
      '--model',
      'fake-vl',
      '--key-env',
      'CTGI_CLI_TEST_KEY',
      '--rpm',
      '120',
      '--timeout',
      '5',
    );
    expect(saved).toMatchObject({ code: 0, out: expect.stringContaining('Saved fake') });

    expect(await ctgi('--save', 'fake', '--concurrency', '2')).toMatchObject({ code: 0 });
    const list = await ctgi('--json');
    const [e] = JSON.parse(list.out) as {
      name: string;
      concurrency: number;
      requestsPerMinute: number;
      timeoutMs: number;
      keyRef: unknown;
    }[];
    expect(e).toMatchObject({
      name: 'fake',
      concurrency: 2,
      requestsPerMinute: 120,
      timeoutMs: 5000,
      keyRef: { kind: 'env', name: 'CTGI_CLI_TEST_KEY' },
    });
    expect(list.out).not.toContain(KEY);
    expect((await ctgi()).out).toMatch(/fake .*fake-vl .*×2, 120\/min.*env CTGI_CLI_TEST_KEY/);

    const probe = await ctgi('--probe', 'fake');
    expect(probe.code).toBe(0);
    expect(probe.out).toMatch(/usable[\s\S]*ok +vision/);
    const json = JSON.parse((await ctgi('--probe', 'fake', '--json')).out) as { ok: boolean };
    expect(json.ok).toBe(true);

    expect(await ctgi('--delete', 'fake')).toMatchObject({ code: 0, out: 'Deleted endpoint fake.' });
    expect(await ctgi('--delete', 'fake')).toMatchObject({ code: 1 });
  });

  it('exits non-zero with advice when the probe fails, never printing the key', async () => {
    process.env.CTGI_CLI_WRONG_KEY = 'sk-wrong-0123456789abcdef';
    await ctgi(
      '--save',
      'wrong',
      '--base-url',
      fake.url,
      '--model',
      'fake-vl',
      '--key-env',
      'CTGI_CLI_WRONG_KEY',
    );
    const probe = await ctgi('--probe', 'wrong');
    expect(probe.code).toBe(1);
    expect(probe.out).toContain('Check the key in the environment variable CTGI_CLI_WRONG_KEY');
    expect(probe.out + probe.err).not.toContain('0123456789abcdef');
    delete process.env.CTGI_CLI_WRONG_KEY;
  });

  it('sets which field carries the token limit and whether temperature is sent, keeping them on later saves', async () => {
    await ctgi(
      '--save',
      'o3',
      '--base-url',
      fake.url,
      '--model',
      'o3-mini',
      '--key-env',
      'CTGI_CLI_TEST_KEY',
    );
    const auto = JSON.parse((await ctgi('--json')).out) as {
      name: string;
      tokenLimitParam: string;
      temperatureParam: string;
    }[];
    expect(auto.find((e) => e.name === 'o3')).toMatchObject({
      tokenLimitParam: 'auto',
      temperatureParam: 'auto',
    });
    expect(
      await ctgi('--save', 'o3', '--token-param', 'max_tokens', '--temperature-param', 'omit'),
    ).toMatchObject({ code: 0 });
    expect(await ctgi('--save', 'o3', '--rpm', '30')).toMatchObject({ code: 0 });
    const set = JSON.parse((await ctgi('--json')).out) as {
      name: string;
      tokenLimitParam: string;
      temperatureParam: string;
      requestsPerMinute: number;
    }[];
    expect(set.find((e) => e.name === 'o3')).toMatchObject({
      tokenLimitParam: 'max_tokens',
      temperatureParam: 'omit',
      requestsPerMinute: 30,
    });
    expect((await ctgi()).out).toMatch(/o3 .*T=omitted, 512 tok as max_tokens/);
    const bad = await ctgi('--save', 'o3', '--token-param', 'max_new_tokens');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--token-param must be one of auto, max_tokens, max_completion_tokens');
    await ctgi('--delete', 'o3');
  });

  it('explains invalid flags', async () => {
    const r = await ctgi('--save', 'bad', '--base-url', 'not a url', '--model', 'm');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Cannot save endpoint "bad": baseUrl/);
    expect((await ctgi('--save', 'new-one')).err).toMatch(/baseUrl.*model/);
  });
});
