import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import { listModels } from '../../src/main/db/repos/models';
import { loadModelFolder, registerModel, resolveModelRow } from '../../src/main/ml/models';
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
