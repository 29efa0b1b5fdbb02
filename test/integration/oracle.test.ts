// The oracle MLLM as the app meets it: a real HTTP server on loopback, spoken to through the official
// `openai` package, looking at real rendered images of the synthetic world — as written, and resized to
// 384×128 and re-encoded as JPEG the way the app may hand them on.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import { upsertEndpoint } from '../../src/main/db/repos/llm';
import { unavailableKeyStore } from '../../src/main/llm/keys';
import { probeEndpoint } from '../../src/main/llm/probe';
import type { PersonAttributes } from '../../src/main/pipelines/attributes';
import { startOracle, type OracleOptions, type OracleServer } from '../../src/main/synth/oracle/server';
import { makeWorld, type WorldFixture } from '../fixtures/world';

let world: WorldFixture;
let oracle: OracleServer;
let client: OpenAI;
const started: OracleServer[] = [];

beforeAll(async () => {
  world = await makeWorld({ identities: 40, views: 3 });
  oracle = await startOracle({ world: world.dir });
  client = new OpenAI({ baseURL: oracle.url, apiKey: 'unused', maxRetries: 0 });
}, 120_000);
afterAll(async () => {
  await Promise.all([oracle, ...started].map((o) => o.close()));
});

async function another(opts: OracleOptions): Promise<{ oracle: OracleServer; client: OpenAI }> {
  const o = await startOracle({ world: world.dir, ...opts });
  started.push(o);
  return {
    oracle: o,
    client: new OpenAI({ baseURL: o.url, apiKey: opts.apiKey ?? 'unused', maxRetries: 0 }),
  };
}

const dataUrl = (bytes: Buffer, type = 'image/jpeg'): string =>
  `data:${type};base64,${bytes.toString('base64')}`;

async function ask(c: OpenAI, image: string | null, text: string, model = 'oracle-vl'): Promise<string> {
  const content: OpenAI.Chat.ChatCompletionContentPart[] = [{ type: 'text', text }];
  if (image) content.unshift({ type: 'image_url', image_url: { url: image } });
  const r = await c.chat.completions.create({
    model,
    messages: [{ role: 'user', content }],
    temperature: 0.01,
  });
  return r.choices[0]?.message.content ?? '';
}

/** The image as written, and as the app may pass it on: resized to 384×128 and re-encoded as JPEG. */
async function variants(file: string): Promise<Record<'original' | 'resized-jpeg', string>> {
  const bytes = await readFile(path.join(world.imageRoot, file));
  const resized = await sharp(bytes).resize(128, 384, { fit: 'fill' }).jpeg({ quality: 75 }).toBuffer();
  return {
    original: dataUrl(bytes, file.endsWith('.png') ? 'image/png' : 'image/jpeg'),
    'resized-jpeg': dataUrl(resized),
  };
}

/** Whole-word test that does not see "shirt" inside "t-shirt". */
const says = (text: string, word: string): boolean =>
  new RegExp(`(?<![\\w-])${word}(?![\\w-])`, 'i').test(text);

/** Pool questions and how to tell a right answer from the truth. */
const CHECKS: { q: string; right: (answer: string, a: PersonAttributes) => boolean }[] = [
  { q: "What colour is the person's upper-body clothing?", right: (x, a) => says(x, a.top.colour) },
  {
    q: 'What kind of garment is the person wearing on the upper body?',
    right: (x, a) => says(x, a.top.type),
  },
  { q: 'Are the sleeves of the upper-body garment short or long?', right: (x, a) => says(x, a.top.sleeves) },
  { q: "What colour is the garment on the person's lower body?", right: (x, a) => says(x, a.bottom.colour) },
  { q: 'What type of lower-body garment is the person wearing?', right: (x, a) => says(x, a.bottom.type) },
  {
    q: "Is the garment on the person's lower body short or long?",
    right: (x, a) => says(x, a.bottom.length),
  },
  { q: "What colour are the person's shoes?", right: (x, a) => says(x, a.shoes.colour) },
  { q: "What colour is the person's hair?", right: (x, a) => says(x, a.hair.colour) },
  { q: 'What is the hair length?', right: (x, a) => says(x, a.hair.length) },
  { q: 'Is the person a man or a woman?', right: (x, a) => says(x, a.sex) },
  {
    q: 'Does the person look young, middle-aged or elderly?',
    right: (x, a) => says(x, a.ageGroup === 'adult' ? 'adult' : a.ageGroup),
  },
  {
    q: 'Is the person carrying a bag or a backpack? If so, what kind and what colour?',
    right: (x, a) =>
      a.bag.type === 'none'
        ? /^No\b/.test(x)
        : /^Yes\b/.test(x) && says(x, a.bag.type) && says(x, a.bag.colour as string),
  },
  {
    q: 'Is the person wearing a hat or a cap? If so, what colour?',
    right: (x, a) =>
      a.hat.type === 'none' ? /^No\b/.test(x) : /^Yes\b/.test(x) && says(x, a.hat.colour as string),
  },
  {
    q: 'Is the person wearing glasses?',
    right: (x, a) => /^(Yes|No)\b/.exec(x)?.[1] === (a.glasses ? 'Yes' : 'No'),
  },
];

/** Runs `fn` over items with a few requests in flight, as the app's limiter would. */
async function pool<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, width = 8): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

describe('the oracle over HTTP', () => {
  it('lists a vision and a text-only model', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(['oracle-vl', 'oracle-text']);
  });

  it('captions a few people with true attributes, saying only some of them', async () => {
    for (const img of world.truth.images.slice(0, 6)) {
      const { original } = await variants(img.file);
      const caption = await ask(client, original, 'Describe the person in the image.');
      const a = img.attributes;
      expect(says(caption, a.sex), caption).toBe(true);
      expect(says(caption, a.top.colour) && says(caption, a.top.type), caption).toBe(true);
      // A first answer, not the whole truth: follow-up questions must have something to add.
      const told = [a.hair.length, a.top.sleeves, a.shoes.colour].filter((w) => says(caption, w)).length;
      expect(told, caption).toBeLessThan(3);
    }
  });

  it('answers ≥ 95% of attribute questions right, from the original and from a resized, re-encoded image', async () => {
    const images = world.truth.images.slice(0, 60);
    for (const variant of ['original', 'resized-jpeg'] as const) {
      const results = await pool(images, async (img) => {
        const url = (await variants(img.file))[variant];
        let right = 0;
        const wrong: string[] = [];
        for (const check of CHECKS) {
          const answer = await ask(
            client,
            url,
            `${check.q} Answer in a few words. If it cannot be seen in the image, answer "cannot tell".`,
          );
          if (check.right(answer, img.attributes)) right++;
          else wrong.push(`${img.file}: ${check.q} → ${answer}`);
        }
        return { right, wrong };
      });
      const right = results.reduce((n, r) => n + r.right, 0);
      const total = images.length * CHECKS.length;
      expect(
        right / total,
        `${variant}: ${results
          .flatMap((r) => r.wrong)
          .slice(0, 5)
          .join('\n')}`,
      ).toBeGreaterThanOrEqual(0.95);
    }
  }, 120_000);

  it("answers MTI's anchor check Yes for the person's own captions and No for a contradicting query", async () => {
    const captions = JSON.parse(await readFile(path.join(world.dir, 'data_captions.json'), 'utf8')) as {
      img_path: string;
      captions: string[];
    }[];
    const byFile = new Map(captions.map((c) => [c.img_path, c.captions]));
    for (const img of world.truth.images.slice(0, 15)) {
      const { 'resized-jpeg': url } = await variants(img.file);
      const own = (byFile.get(img.file) as string[])[0] as string;
      const anchor = (q: string): string =>
        `Can this text accurately describe the image? Text: ${q.replace(/\.$/, '')}. Answer Yes or No.`;
      expect(await ask(client, url, anchor(own)), own).toBe('Yes');
      const wrongColour = img.attributes.top.colour === 'red' ? 'green' : 'red';
      const wrongTop = own.replace(
        new RegExp(`\\b${img.attributes.top.colour} ${img.attributes.top.type}`),
        `${wrongColour} ${img.attributes.top.type}`,
      );
      expect(wrongTop).not.toBe(own);
      expect(await ask(client, url, anchor(wrongTop)), wrongTop).toBe('No');
      const otherSex = img.attributes.sex === 'man' ? 'A woman' : 'A man';
      expect(
        await ask(
          client,
          url,
          anchor(`${otherSex} wearing ${img.attributes.bottom.colour} ${img.attributes.bottom.type}`),
        ),
      ).toBe('No');
    }
  });

  it('answers about 30% wrong at wrongRate 0.3, the same way every time the same request comes', async () => {
    const noisy = await another({ wrongRate: 0.3, seed: 9 });
    const images = world.truth.images.slice(0, 40);
    const checks = CHECKS.slice(0, 8);
    const runs = await pool(images, async (img) => {
      const { original } = await variants(img.file);
      let wrong = 0;
      for (const check of checks) {
        const first = await ask(noisy.client, original, check.q);
        expect(await ask(noisy.client, original, check.q)).toBe(first);
        if (!check.right(first, img.attributes)) wrong++;
      }
      return wrong;
    });
    const share = runs.reduce((a, b) => a + b, 0) / (images.length * checks.length);
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.38);
    expect(noisy.oracle.stats().noisy).toBeGreaterThan(0);
  }, 60_000);

  it('refuses images on the text-only model the way OpenAI-compatible servers do', async () => {
    const { original } = await variants(world.truth.images[0]?.file as string);
    const err = await ask(client, original, 'Describe the person.', 'oracle-text').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(400);
    expect((err as APIError).message).toMatch(/image_url is only supported by certain models/);
    // Text is fine on it: it is the reconstructor's model.
    expect(await ask(client, null, 'Reply with the single word: ready', 'oracle-text')).toBe('ready');
  });

  it('refuses what it cannot use with a message that says what to send', async () => {
    const bad = async (body: Record<string, unknown>): Promise<APIError> =>
      (await client.chat.completions.create(body as never).catch((e: unknown) => e)) as APIError;
    const http = await bad({
      model: 'oracle-vl',
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } }] },
      ],
    });
    expect(http.status).toBe(400);
    expect(http.message).toMatch(/does not fetch image URLs.*data: URL/);
    const garbage = await bad({
      model: 'oracle-vl',
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,bm90IGFuIGltYWdl' } }],
        },
      ],
    });
    expect(garbage.status).toBe(400);
    expect(garbage.message).toMatch(/Cannot decode the image/);
    const stream = await bad({
      model: 'oracle-vl',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(stream.status).toBe(400);
    expect(stream.message).toMatch(/Streaming is not supported/);
    const model = await bad({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(model.status).toBe(404);
  });

  it('checks the bearer key when started with one', async () => {
    const { oracle: keyed, client: right } = await another({ apiKey: 'sk-oracle-test-key' });
    expect(await ask(right, null, 'Reply with the single word: ready')).toBe('ready');
    const wrong = new OpenAI({ baseURL: keyed.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const err = (await ask(wrong, null, 'hi').catch((e: unknown) => e)) as APIError;
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('sk-wrong');
  });

  it('without a world, reads colours, cap and bag from the pixels and cannot tell the rest', async () => {
    const { client: blind } = await another({ world: null });
    const img = world.truth.images[3] as (typeof world.truth.images)[number];
    const { 'resized-jpeg': url } = await variants(img.file);
    expect(
      says(await ask(blind, url, "What colour are the person's shoes?"), img.attributes.shoes.colour),
    ).toBe(true);
    expect(await ask(blind, url, 'Is the person wearing glasses?')).toBe('Cannot tell from this image.');
    expect(await ask(blind, url, 'Is the person a man or a woman?')).toBe('Cannot tell from this image.');
  });

  it('counts requests by kind at /v1/oracle/stats', async () => {
    const before = (await (await fetch(`${oracle.url}/oracle/stats`)).json()) as {
      byKind: Record<string, number>;
      perception: { hits: number };
    };
    const { original } = await variants(world.truth.images[1]?.file as string);
    await ask(client, original, 'Describe the person in the image.');
    await ask(client, original, 'Is the person wearing glasses?');
    const after = (await (await fetch(`${oracle.url}/oracle/stats`)).json()) as typeof before;
    expect(after.byKind.describe).toBe((before.byKind.describe ?? 0) + 1);
    expect(after.byKind.yesno).toBe((before.byKind.yesno ?? 0) + 1);
    expect(after.perception.hits).toBeGreaterThan(before.perception.hits);
  });
});

describe("the app's endpoint probe", () => {
  const probe = async (model: string): Promise<Record<string, string>> => {
    const { db } = openDatabase(':memory:');
    const endpoint = upsertEndpoint(db, {
      name: `oracle-${model}`,
      baseUrl: oracle.url,
      model,
      role: 'both',
      temperature: 0.01,
      maxTokens: 64,
      concurrency: 2,
      requestsPerMinute: null,
      timeoutMs: 5000,
      keyRef: { kind: 'none' },
    });
    const result = await probeEndpoint(db, endpoint, unavailableKeyStore, { retry: { retries: 0 } });
    db.close();
    return Object.fromEntries(result.checks.map((c) => [c.name, c.status]));
  };

  it('finds oracle-vl usable for images and oracle-text without vision', async () => {
    expect(await probe('oracle-vl')).toMatchObject({
      reachable: 'ok',
      model: 'ok',
      chat: 'ok',
      vision: 'ok',
    });
    expect(await probe('oracle-text')).toMatchObject({
      reachable: 'ok',
      model: 'ok',
      chat: 'ok',
      vision: 'failed',
    });
  });
});

describe('fault knobs', () => {
  const hi = (c: OpenAI, opts: { timeout?: number } = {}): Promise<unknown> =>
    c.chat.completions
      .create(
        { model: 'oracle-vl', messages: [{ role: 'user', content: 'Reply with the single word: ready' }] },
        opts,
      )
      .catch((e: unknown) => e);

  it('answers 429 with retry-after', async () => {
    const { client: c } = await another({ faults: { rate429: 1, retryAfterS: 7 } });
    const err = (await hi(c)) as APIError;
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('7');
  });

  it('answers 500', async () => {
    const { client: c } = await another({ faults: { rate500: 1 } });
    expect(((await hi(c)) as APIError).status).toBe(500);
  });

  it('leaves requests hanging until the client gives up', async () => {
    const { client: c, oracle: o } = await another({ faults: { timeoutRate: 1 } });
    const t0 = performance.now();
    expect(await hi(c, { timeout: 300 })).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(o.stats().faults.timeout).toBe(1);
  });

  it('sends malformed JSON and empty choices', async () => {
    const { client: bad } = await another({ faults: { malformedRate: 1 } });
    const err = await hi(bad);
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/JSON/i);
    const { client: empty } = await another({ faults: { emptyRate: 1 } });
    const r = (await hi(empty)) as OpenAI.Chat.ChatCompletion;
    expect(r.choices).toEqual([]);
  });

  it('draws faults per attempt, so retries get through and identical requests still get one answer', async () => {
    const { client: c, oracle: o } = await another({ faults: { rate429: 0.5, retryAfterS: 0 } });
    const retrying = c.withOptions({ maxRetries: 12 });
    const { original } = await variants(world.truth.images[2]?.file as string);
    const answers = new Set<string>();
    for (let i = 0; i < 10; i++)
      answers.add(await ask(retrying, original, "What colour is the person's upper-body clothing?"));
    expect(answers.size).toBe(1);
    const s = o.stats();
    expect(s.faults.rate429).toBeGreaterThan(0);
    expect(s.answered).toBe(10);
  });

  it('adds the latency it was given', async () => {
    const { client: c } = await another({ latencyMs: 150 });
    const t0 = performance.now();
    await hi(c);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });
});

describe('ctgi oracle', () => {
  it('starts as a child process, prints its URL as JSON, serves, and stops on SIGTERM', async () => {
    const bin = path.resolve(import.meta.dirname, '../../bin/ctgi.mjs');
    const child = spawn(process.execPath, [bin, 'oracle', '--world', world.dir, '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.on('exit', (code) =>
        reject(new Error(`ctgi oracle exited (${code}) before printing its URL: ${err}`)),
      );
    });
    const info = JSON.parse(line) as { url: string; port: number; models: string[] };
    expect(info.url).toBe(`http://127.0.0.1:${info.port}/v1`);
    const c = new OpenAI({ baseURL: info.url, apiKey: 'unused', maxRetries: 0 });
    const { original } = await variants(world.truth.images[0]?.file as string);
    const a = world.truth.images[0]?.attributes as PersonAttributes;
    expect(says(await ask(c, original, "What colour are the person's shoes?"), a.shoes.colour)).toBe(true);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toMatch(/Oracle stopped after 1 answers/);
  }, 60_000);
});
