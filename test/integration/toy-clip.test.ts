import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { loadModelFolder, MANIFEST_FILE, TEXT_FILE, VISION_FILE } from '../../src/main/ml/models';
import {
  TOY_CLIP_DIR,
  TOY_CLIP_NAME,
  TOY_EMBEDDING_DIM,
  writeToyClipFolder,
} from '../../src/main/synth/toy-clip';
import { evaluateRetrieval, type QuerySet } from '../../src/main/synth/toy-clip/evaluate';
import { makeWorld } from '../fixtures/world';

const made: string[] = [];
const scratch = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctgi-toy-clip-'));
  made.push(dir);
  return dir;
};
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const quiet = { out: () => {}, err: () => {} };

describe('ctgi synth writes a toy CLIP beside the people', () => {
  it('as a model folder that validates and registers, with the same bytes every time', async () => {
    const [a, b] = [path.join(scratch(), 'world'), path.join(scratch(), 'world')];
    const lines: string[] = [];
    expect(
      await main(['synth', '--out', a, '-n', '3', '--views', '1', '--json'], {
        out: (l) => lines.push(l),
        err: () => {},
      }),
    ).toBe(0);
    expect(await main(['synth', '--out', b, '-n', '3', '--views', '1'], quiet)).toBe(0);
    const clip = path.join(a, TOY_CLIP_DIR);
    expect((JSON.parse(lines.join('\n')) as { toyClip: string }).toyClip).toBe(clip);
    for (const f of [VISION_FILE, TEXT_FILE, MANIFEST_FILE])
      expect(sha(path.join(clip, f))).toBe(sha(path.join(b, TOY_CLIP_DIR, f)));

    const folder = await loadModelFolder(clip);
    expect(folder.manifest).toMatchObject({
      name: TOY_CLIP_NAME,
      imageSize: [384, 128],
      resize: 'irra',
      contextLength: 77,
      embeddingDim: TOY_EMBEDDING_DIM,
    });
    expect(folder.vision).toEqual({ input: 'pixel_values', output: 'image_embeds' });
    expect(folder.text).toMatchObject({
      input: 'input_ids',
      idsType: 'int64',
      attentionMask: null,
      output: 'text_embeds',
    });

    const out: string[] = [];
    const ws = path.join(scratch(), 'ws.sqlite');
    expect(
      await main(['models', '-w', ws, '--register', clip], { out: (l) => out.push(l), err: () => {} }),
    ).toBe(0);
    expect(out.join('\n')).toContain(`Registered #1 ${TOY_CLIP_NAME}`);
  });

  it('refuses to overwrite a world and its toy CLIP without --force, replaces both with it, and skips the CLIP on --no-clip', async () => {
    const dir = path.join(scratch(), 'world');
    const errors: string[] = [];
    const io = { out: () => {}, err: (l: string) => errors.push(l) };
    expect(await main(['synth', '--out', dir, '-n', '2', '--views', '1'], io)).toBe(0);
    expect(await main(['synth', '--out', dir, '-n', '2', '--views', '1'], io)).toBe(2);
    expect(errors.at(-1)).toMatch(/already holds a synthetic world/);
    expect(
      await main(['synth', '--out', dir, '-n', '2', '--views', '1', '--force', '--no-clip', '--json'], io),
    ).toBe(0);
    expect(() => readFileSync(path.join(dir, TOY_CLIP_DIR, MANIFEST_FILE))).toThrow(/ENOENT/);
    expect(await main(['synth', '--out', dir, '-n', '2', '--views', '1', '--force'], io)).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, TOY_CLIP_DIR, MANIFEST_FILE), 'utf8'))).toMatchObject({
      name: TOY_CLIP_NAME,
    });
  });
});

describe('retrieval with the toy CLIP (synthetic figures)', () => {
  it('finds people by their full captions and far less by a single attribute', async () => {
    const world = await makeWorld({ identities: 100, views: 4 });
    const model = await writeToyClipFolder(path.join(scratch(), TOY_CLIP_DIR));
    const e = await evaluateRetrieval({ worldDir: world.dir, modelDir: model.dir });
    const r1 = (set: QuerySet): number => e.rows.find((r) => r.set === set)!.r1;
    expect(e.gallery).toBe(80); // 20 test identities × 4 views
    // Full captions name hair, top, bottom, shoes, cap and bag colours: nearly every person is unique.
    expect(r1('full captions')).toBeGreaterThanOrEqual(90);
    // One colour is shared by a tenth of the people (11 colours), so the first hit is often someone else.
    for (const set of ['top only', 'bottom only', 'shoes only'] as const) {
      expect(r1(set)).toBeLessThanOrEqual(75);
      expect(r1(set)).toBeLessThanOrEqual(r1('full captions') - 25);
    }
    expect(r1('top + bottom')).toBeGreaterThan(r1('top only'));
  });
});
