import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import { openDatabase } from '../../src/main/db/open';
import { listModels } from '../../src/main/db/repos/models';
import { loadModelFolder, registerModel, resolveModelRow } from '../../src/main/ml/models';
import { TOY_CLIP_NAME, writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { tinyModelFolder } from '../fixtures/clip-tiny';

process.env.CTGI_ORT_PROVIDER = 'cpu';

describe('model folder validation', { timeout: 30_000 }, () => {
  it('accepts the contract and records io names, tokenizer and sha256 of both towers', async () => {
    const f = await loadModelFolder(tinyModelFolder());
    expect(f.vision).toEqual({ input: 'pixel_values', output: 'image_embeds' });
    expect(f.text).toEqual({
      input: 'input_ids',
      idsType: 'int64',
      attentionMask: null,
      output: 'text_embeds',
    });
    expect(f.visionSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(f.visionSha256).not.toBe(f.textSha256);
    expect(f.tokenizer.kind).toBe('bundled');
    expect(f.notes.join(' ')).toMatch(/bundled OpenAI CLIP vocabulary/);
  });

  it('prefers a tokenizer file in the folder', async () => {
    const dir = tinyModelFolder();
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    expect((await loadModelFolder(dir)).tokenizer.kind).toBe('tokenizer.json');
  });

  const cases: [string, () => string, RegExp][] = [
    [
      'a missing image tower',
      () => tinyModelFolder({}, { 'vision_model.onnx': null }),
      /vision_model\.onnx \(the image tower\) is missing/,
    ],
    [
      'a missing manifest',
      () => {
        const d = tinyModelFolder();
        rmSync(join(d, 'ctgi-model.json'));
        return d;
      },
      /ctgi-model\.json is missing\. Create it/,
    ],
    ['a manifest with a bad field', () => tinyModelFolder({ resize: 'squash' }), /"resize"/],
    ['a non-square stock CLIP crop', () => tinyModelFolder({ resize: 'clip' }), /centre-crops a square/],
    [
      'an embedding size the towers do not produce',
      () => tinyModelFolder({ embeddingDim: 16 }),
      /8 values per item but ctgi-model\.json says embeddingDim 16/,
    ],
    [
      'towers that disagree',
      () => tinyModelFolder({}, { 'vision_model.onnx': 'vision_d4.onnx' }),
      /images embed to 4 values, texts to 8/,
    ],
    [
      'a context longer than the positional table',
      () => tinyModelFolder({ contextLength: 248 }),
      /cannot take 248 tokens.*positional table/s,
    ],
    [
      'a file that is not ONNX',
      () => {
        const d = tinyModelFolder();
        writeFileSync(join(d, 'text_model.onnx'), 'not a model');
        return d;
      },
      /ONNX Runtime cannot open its ONNX files/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(`explains ${what}`, async () => {
      await expect(loadModelFolder(make())).rejects.toThrow(message);
    });
  }

  it('explains a path that is not a folder', async () => {
    await expect(loadModelFolder('/nonexistent/model')).rejects.toThrow(/is not a folder/);
  });
});

describe('model registration', { timeout: 30_000 }, () => {
  it('registers once per name and finds models by id or name', async () => {
    const { db } = openDatabase(':memory:');
    const m = await registerModel(db, tinyModelFolder(), 'tiny');
    expect(m).toMatchObject({
      name: 'tiny',
      imageSize: [384, 128],
      resize: 'irra',
      contextLength: 77,
      embeddingDim: 8,
      embeddedImages: 0,
    });
    expect(listModels(db).map((x) => x.name)).toEqual(['tiny']);
    expect(resolveModelRow(db, 'tiny').id).toBe(m.id);
    expect(resolveModelRow(db, String(m.id)).name).toBe('tiny');
    await expect(registerModel(db, tinyModelFolder(), 'tiny')).rejects.toThrow(/already registered/);
    expect(() => resolveModelRow(db, 'nope')).toThrow(/No model "nope"/);
  });
});

describe('finding a model by what a user types', { timeout: 60_000 }, () => {
  it('takes the folder name or the registered name, whole and in any case, and lists the names when none fits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-model-lookup-'));
    try {
      const ws = join(dir, 'ws.sqlite');
      // What a new user does after `ctgi synth`: register the world's toy CLIP under its manifest name…
      const clip = await writeToyClipFolder(join(dir, 'world', 'toy-clip'));
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
      expect(await main(['models', '-w', ws, '--register', clip.dir], io), err.join('\n')).toBe(0);
      // …then names it by its folder, as they see it on disk.
      expect(await main(['embed', '-w', ws, '--model', 'toy-clip'], io), err.join('\n')).toBe(0);
      expect(out.join('\n')).toContain(`with model "${TOY_CLIP_NAME}"`);

      const { db } = openDatabase(ws);
      try {
        const tiny = await registerModel(db, tinyModelFolder(), 'Tiny');
        const toy = resolveModelRow(db, TOY_CLIP_NAME);
        expect(resolveModelRow(db, 'TOY-CLIP').id).toBe(toy.id);
        expect(resolveModelRow(db, 'toy-clip (SYNTHETIC)').id).toBe(toy.id);
        expect(resolveModelRow(db, 'tiny').id).toBe(tiny.id);
        // Whole names only: a part of one is not a match.
        expect(() => resolveModelRow(db, 'toy')).toThrow(
          `No model "toy" is registered. Registered: ${toy.id} "${TOY_CLIP_NAME}" (folder toy-clip), ${tiny.id} "Tiny"`,
        );
        // A folder name two models share is not a guess: both are named.
        await registerModel(db, clip.dir, 'toy again');
        expect(() => resolveModelRow(db, 'toy-clip')).toThrow(
          /"toy-clip" fits 2 models: .*"toy-clip \(synthetic\)".*"toy again".*Give the id or the whole name/,
        );
        // The registered name still wins over another model's folder name.
        expect(resolveModelRow(db, 'Toy Again').name).toBe('toy again');
      } finally {
        db.close();
      }

      err.length = 0;
      expect(await main(['embed', '-w', ws, '--model', 'nope'], io)).not.toBe(0);
      expect(err.join('\n')).toMatch(
        /No model "nope" is registered\. Registered: .*"toy-clip \(synthetic\)"/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
