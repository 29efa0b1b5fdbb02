// `ctgi eval` over the synthetic world, the way a researcher runs it: import the RSTPReid-style world,
// register and embed the toy CLIP, then measure the test split with full captions and with vague
// one-attribute queries. The counts must be those of the world's test split (ALGORITHMS.md §4).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { runCli, type CliRun } from '../fixtures/cli';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRetrieval, firstClause, oneAttributeQuery } from '../../src/main/pipelines/eval';
import { galleryScorer } from '../../src/main/search/store-search';
import { describeOnBothBackends, withoutTimings } from '../fixtures/backends';
import { openWorkspace } from '../../src/main/workspace';
import { asModelId } from '#shared/ids';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import type { EvalReport } from '#shared/eval/types';
import { makeWorld, type WorldFixture } from '../fixtures/world';

process.env.CTGI_ORT_PROVIDER = 'cpu';

let dir: string;
let ws: string;
let world: WorldFixture;

const ctgi = (...args: string[]): Promise<CliRun> => runCli(...args, '-w', ws);

async function evalJson(...args: string[]): Promise<EvalReport> {
  const r = await ctgi('eval', '--model', 'toy', '--json', ...args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as EvalReport;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctgi-eval-'));
  ws = path.join(dir, 'ws.sqlite');
  world = await makeWorld({ identities: 40, views: 3 });
  const clip = await writeToyClipFolder(path.join(dir, 'toy-clip'));
  expect(
    (
      await ctgi(
        'import',
        '--annotations',
        path.join(world.dir, 'data_captions.json'),
        '--images',
        world.imageRoot,
      )
    ).code,
  ).toBe(0);
  expect((await ctgi('models', '--register', clip.dir, '--name', 'toy')).code).toBe(0);
  expect((await ctgi('embed', '--model', 'toy')).code).toBe(0);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeOnBothBackends('ctgi eval', { timeout: 120_000 }, (backend, record) => {
  it('counts every caption of the test split as a query and every test image as the gallery', async () => {
    const records = JSON.parse(readFileSync(path.join(world.dir, 'data_captions.json'), 'utf8')) as {
      id: number;
      captions: string[];
      split: string;
    }[];
    const test = records.filter((r) => r.split === 'test');
    const r = await evalJson('--split', 'test');
    record('captions', withoutTimings(r));
    expect(r).toMatchObject({
      split: 'test',
      queryKind: 'captions',
      captions: test.reduce((n, t) => n + t.captions.length, 0),
      queries: test.reduce((n, t) => n + t.captions.length, 0),
      queriesWithoutMatch: 0,
      gallery: test.length,
      identities: new Set(test.map((t) => t.id)).size,
      truncatedQueries: 0,
      provider: 'cpu',
    });
    for (const m of [r.r1, r.r5, r.r10, r.mAP, r.mINP]) expect(m).toBeGreaterThanOrEqual(0);
    expect(r.r1).toBeLessThanOrEqual(r.r5);
    expect(r.r5).toBeLessThanOrEqual(r.r10);
    expect(r.r10).toBeLessThanOrEqual(100);
    // The toy CLIP is built so that similarity follows the attributes a full caption states.
    expect(r.r1).toBeGreaterThan(90);
    const s = r.top1Similarity;
    expect(s.min).toBeLessThanOrEqual(s.p10);
    expect(s.p10).toBeLessThanOrEqual(s.median);
    expect(s.median).toBeLessThanOrEqual(s.p90);
    expect(s.p90).toBeLessThanOrEqual(s.max);
  });

  it('ranks worse with one vague attribute per caption than with the full caption', async () => {
    const full = await evalJson();
    const vague = await evalJson('--queries', 'one-attribute');
    record('one-attribute', withoutTimings(vague));
    expect(vague.queries).toBe(full.queries);
    expect(vague.gallery).toBe(full.gallery);
    expect(vague.queryDerivation).toMatch(/attributes\.json/);
    expect(vague.examples[0]!.query).toMatch(/^a person with /);
    expect(vague.r1).toBeLessThan(full.r1);
    expect(vague.mAP).toBeLessThan(full.mAP);
    const clause = await evalJson('--queries', 'first-clause');
    record('first-clause', withoutTimings(clause));
    expect(clause.queries).toBe(full.queries);
    expect(clause.mAP).toBeLessThan(full.mAP);
  });

  it('gives the same figures whether the queries are scored in one block or in many', async () => {
    const w = openWorkspace(ws, { resumeJobs: false });
    try {
      const whole = await evaluateRetrieval(w.db, {
        modelId: asModelId(1),
        split: 'test',
        queries: 'one-attribute',
        encoders: w.services.encoders,
        score: galleryScorer(w.services.vectors),
      });
      const pieces = await evaluateRetrieval(w.db, {
        modelId: asModelId(1),
        split: 'test',
        queries: 'one-attribute',
        chunk: 7,
        encoders: w.services.encoders,
        score: galleryScorer(w.services.vectors),
      });
      const { ms: _a, ...a } = whole;
      const { ms: _b, ...b } = pieces;
      expect(b).toEqual(a);
      expect(whole.queries).toBeGreaterThan(7 * 3);
    } finally {
      await w.close();
    }
  });

  it('prints the counts and metrics for people, and refuses a gallery the model has not embedded', async () => {
    const text = await ctgi('eval', '--model', 'toy', '--split', 'val');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/queries \d+ \(of \d+ captions\), gallery \d+ images of \d+ identities/);
    expect(text.out).toMatch(
      /R@1 \d+\.\d\d {2}R@5 \d+\.\d\d {2}R@10 \d+\.\d\d {2}mAP \d+\.\d\d {2}mINP \d+\.\d\d/,
    );

    const fresh = `fresh-${backend}`;
    expect((await ctgi('models', '--register', path.join(dir, 'toy-clip'), '--name', fresh)).code).toBe(0);
    const refused = await ctgi('eval', '--model', fresh);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(
      new RegExp(`have no vector from model "${fresh}".*ctgi embed --model ${fresh}`, 's'),
    );
    const badSplit = await ctgi('eval', '--model', 'toy', '--split', 'dev');
    expect(badSplit.err).toMatch(/--split must be one of train, val, test/);
  });
});

describe('query derivation', () => {
  it('cuts a caption at its first clause', () => {
    expect(firstClause('A man with short black hair, wearing a red t-shirt and blue jeans.')).toBe(
      'A man with short black hair',
    );
    expect(firstClause('The woman has long brown hair. She is wearing a skirt.')).toBe(
      'The woman has long brown hair',
    );
    expect(firstClause('A man in a red t-shirt with short sleeves and black trousers is walking.')).toBe(
      'A man in a red t-shirt with short sleeves',
    );
  });

  it('names one visible attribute per caption and rotates through them by caption id', () => {
    const person = world.truth.identities[0]!.attributes;
    const queries = new Set(Array.from({ length: 12 }, (_, id) => oneAttributeQuery(person, id)));
    expect(queries.size).toBeGreaterThan(3);
    for (const q of queries) {
      expect(q).toMatch(/^a person with /);
      expect(q).not.toMatch(/sleeves|\b(man|woman)\b/);
    }
    expect(oneAttributeQuery(person, 5)).toBe(oneAttributeQuery(person, 5));
  });
});
