// `ctgi eval --protocol reid|both` on a synthetic Market-1501 tree (test/fixtures/reid-trees.ts): imported
// as it comes, embedded with the toy CLIP, its images captioned the way MTG leaves them (pending, source
// mtg), then measured with the dataset's own protocol beside the TBPS one. The counts are the tree's: 4
// query images × 2 captions, a gallery of 20 person images (junk never, distractors only when asked), and
// one same-person-same-camera gallery image per query left out.
import { createHash } from 'node:crypto';
import { runCli, type CliRun } from '../fixtures/cli';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertCaption } from '../../src/main/db/repos/images';
import { evaluateRetrieval } from '../../src/main/pipelines/eval';
import { galleryScorer } from '../../src/main/search/store-search';
import { describeOnBothBackends } from '../fixtures/backends';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { openWorkspace } from '../../src/main/workspace';
import type { EvalReport } from '#shared/eval/types';
import { asImageId, asModelId } from '#shared/ids';
import { reidWorld, writeReidTree } from '../fixtures/reid-trees';

process.env.CTGI_ORT_PROVIDER = 'cpu';

let dir: string;
let ws: string;

const ctgi = (...args: string[]): Promise<CliRun> => runCli(...args, '-w', ws);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctgi-reid-eval-'));
  ws = path.join(dir, 'ws.sqlite');
  const tree = await writeReidTree('market', path.join(dir, 'Market-1501'));
  const clip = await writeToyClipFolder(path.join(dir, 'toy-clip'));
  const imported = await ctgi('import', '--folder', tree);
  expect(imported.code).toBe(0);
  expect(imported.out).toMatch(/Layout: market \(detected\)/);
  expect((await ctgi('models', '--register', clip.dir, '--name', 'toy')).code).toBe(0);
  expect((await ctgi('embed', '--model', 'toy')).code).toBe(0);

  // The world's captions, found by the bytes of each file (the tree's files are copies of the world's).
  const world = await reidWorld();
  const records = JSON.parse(readFileSync(path.join(world.dir, 'data_captions.json'), 'utf8')) as {
    img_path: string;
    captions: string[];
  }[];
  const bySha = new Map<string, string[]>();
  for (const r of records) {
    const sha = createHash('sha256')
      .update(readFileSync(path.join(world.imageRoot, r.img_path)))
      .digest('hex');
    bySha.set(sha, r.captions);
  }
  const w = openWorkspace(ws, { resumeJobs: false });
  try {
    const images = w.db.prepare(`SELECT id, sha256 FROM images`).all() as { id: number; sha256: string }[];
    w.db.transaction(() => {
      for (const img of images)
        for (const text of bySha.get(img.sha256)!)
          insertCaption(w.db, { imageId: asImageId(img.id), source: 'mtg', text, status: 'pending' });
    })();
  } finally {
    await w.close();
  }
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeOnBothBackends('ctgi eval --protocol', { timeout: 120_000 }, (_backend, record) => {
  it('reid: query captions rank the gallery, same person and camera left out, junk and distractors too', async () => {
    const r = await ctgi('eval', '--model', 'toy', '--protocol', 'reid', '--json');
    expect(r.err).toBe('');
    const report = JSON.parse(r.out) as EvalReport;
    expect(report).toMatchObject({
      protocol: 'reid',
      captionSource: 'any',
      distractors: false,
      captions: 8,
      queries: 8,
      queriesWithoutMatch: 0,
      gallery: 20,
      identities: 4,
      excludedSameCamera: 8,
    });
    const withDistractors = JSON.parse(
      (await ctgi('eval', '--model', 'toy', '--protocol', 'reid', '--distractors', '--json')).out,
    ) as EvalReport;
    expect(withDistractors).toMatchObject({ gallery: 26, queries: 8, distractors: true });
    expect(withDistractors.mAP).toBeLessThanOrEqual(report.mAP);
  });

  it('both: TBPS over the test split and re-ID side by side', async () => {
    const json = JSON.parse((await ctgi('eval', '--model', 'toy', '--protocol', 'both', '--json')).out) as {
      tbps: EvalReport;
      reid: EvalReport;
    };
    // TBPS: the 24 person images of the test split (query + gallery) both ask and answer.
    expect(json.tbps).toMatchObject({ protocol: 'tbps', captions: 48, gallery: 24, queriesWithoutMatch: 0 });
    expect(json.reid).toMatchObject({ protocol: 'reid', captions: 8, gallery: 20 });
    const text = await ctgi('eval', '--model', 'toy', '--protocol', 'both');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/TBPS \(test split → itself\) +\d+\.\d\d/);
    expect(text.out).toMatch(/re-ID \(query → gallery\) +\d+\.\d\d/);
    expect(text.out).toMatch(/8 \(query, gallery image\) pairs of the same person seen by the same camera/);
    // TBPS on human captions only finds none here, and says what to do.
    const human = await ctgi('eval', '--model', 'toy', '--protocol', 'tbps');
    expect(human.code).not.toBe(0);
    expect(human.err).toMatch(/no human captions .*--captions any/);
  });

  it('gives the same figures whatever the query block size (the rule follows each query across blocks)', async () => {
    const w = openWorkspace(ws, { resumeJobs: false });
    try {
      const opts = {
        modelId: asModelId(1),
        split: 'test' as const,
        protocol: 'reid' as const,
        encoders: w.services.encoders,
        score: galleryScorer(w.services.vectors),
      };
      const { ms: _a, ...whole } = await evaluateRetrieval(w.db, opts);
      const { ms: _b, ...pieces } = await evaluateRetrieval(w.db, { ...opts, chunk: 3 });
      expect(pieces).toEqual(whole);
      record('reid', whole);
    } finally {
      await w.close();
    }
  });
});
