// Hugging Face ONNX CLIP folders registered as they come (issue 11 item 3): the folder is made from the tiny
// CLIP fixture in the transformers.js layout (plus an fp16 conversion of it) and must give the same model, the
// same token ids and the same vectors as the manifest route.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import { modelFilePaths } from '../../src/main/db/repos/models';
import type { WritableDb } from '../../src/main/db/types';
import { tokenizerFor } from '../../src/main/ml/encoder-pool';
import { ClipEncoder } from '../../src/main/ml/encoder';
import { TOKENIZER_PROBES } from '../../src/main/ml/hf-folder';
import {
  loadModelFolder,
  preprocessSpecOf,
  registerModel,
  resolveModelRow,
  type ModelFolder,
} from '../../src/main/ml/models';
import { clipTokenizer } from '../../src/main/ml/tokenizer';
import { tinyModelFolder } from '../fixtures/clip-tiny';
import { HF_CONFIG, HF_PREPROCESSOR, hfClipFolder } from '../fixtures/hf-clip';

process.env.CTGI_ORT_PROVIDER = 'cpu';

/** Deterministic pseudo-random pixels and a few token rows. */
function inputs(f: ModelFolder): { pixels: Float32Array; ids: Int32Array } {
  const [h, w] = f.manifest.imageSize;
  const pixels = new Float32Array(4 * 3 * h * w);
  let s = 7;
  for (let i = 0; i < pixels.length; i++)
    pixels[i] = ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2;
  const tok = clipTokenizer();
  const ids = new Int32Array(TOKENIZER_PROBES.length * f.manifest.contextLength);
  TOKENIZER_PROBES.forEach((t, i) =>
    ids.set(tok.encode(t, { context: f.manifest.contextLength }), i * f.manifest.contextLength),
  );
  return { pixels, ids };
}

async function vectors(
  f: ModelFolder,
  x: { pixels: Float32Array; ids: Int32Array },
): Promise<Float32Array[]> {
  const enc = await ClipEncoder.open({
    visionPath: f.visionPath,
    textPath: f.textPath,
    preprocess: preprocessSpecOf(f.manifest),
    providers: 'cpu',
  });
  try {
    enc.bind({ vision: f.vision, text: f.text });
    return [
      ...(await enc.embedPixels(x.pixels, 4)),
      ...(await enc.embedTokens(x.ids, TOKENIZER_PROBES.length, f.manifest.contextLength)),
    ];
  } finally {
    await enc.close();
  }
}

describe('Hugging Face ONNX CLIP folders', { timeout: 60_000 }, () => {
  let hf: string;
  let manifestRoute: ModelFolder;
  let db: WritableDb;
  beforeAll(async () => {
    hf = hfClipFolder();
    manifestRoute = await loadModelFolder(tinyModelFolder());
    db = openDatabase(':memory:').db;
  });
  afterAll(() => db.close());

  it('reads preprocessing, context length and dimension from the folder files, with no manifest', async () => {
    const f = await loadModelFolder(hf);
    expect(f.layout).toBe('hf');
    expect(f.variant).toBe('fp32');
    expect(f.files).toEqual({
      vision: join('onnx', 'vision_model.onnx'),
      text: join('onnx', 'text_model.onnx'),
    });
    const { name: _a, ...fromHf } = f.manifest;
    const { name: _b, ...fromManifest } = manifestRoute.manifest;
    expect(fromHf).toEqual(fromManifest);
    expect(f.tokenizer.kind).toBe('tokenizer.json');
    expect(f.notes.join(' ')).toMatch(/Hugging Face folder, fp32 towers \(also here: fp16\)/);
    expect(f.notes.join(' ')).not.toMatch(/other ids/);
  });

  it('its tokenizer.json gives the same ids as our CLIP tokenizer', async () => {
    const f = await loadModelFolder(hf);
    const theirs = tokenizerFor(f.tokenizer);
    const ours = clipTokenizer();
    for (const s of [
      ...TOKENIZER_PROBES,
      'a person wearing a white t-shirt and blue shorts',
      '  MIXED case,   spaces!! ',
    ])
      expect(Array.from(theirs.encode(s))).toEqual(Array.from(ours.encode(s)));
  });

  it('gives the same vectors as the manifest route (fp32 exactly, fp16 within 2e-3 cosine)', async () => {
    const x = inputs(manifestRoute);
    const ref = await vectors(manifestRoute, x);
    const fp32 = await vectors(await loadModelFolder(hf), x);
    expect(fp32.map((v) => Array.from(v))).toEqual(ref.map((v) => Array.from(v)));
    const fp16Folder = await loadModelFolder(hf, { variant: 'fp16' });
    expect(fp16Folder.files.vision).toBe(join('onnx', 'vision_model_fp16.onnx'));
    expect(fp16Folder.visionSha256).not.toBe(manifestRoute.visionSha256);
    const fp16 = await vectors(fp16Folder, x);
    const cos = (a: Float32Array, b: Float32Array): number => {
      let d = 0,
        na = 0,
        nb = 0;
      for (let i = 0; i < a.length; i++) {
        d += a[i]! * b[i]!;
        na += a[i]! ** 2;
        nb += b[i]! ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    let exact = true;
    for (let i = 0; i < ref.length; i++) {
      expect(cos(fp16[i]!, ref[i]!)).toBeGreaterThan(0.998);
      if (Array.from(fp16[i]!).join() !== Array.from(ref[i]!).join()) exact = false;
    }
    expect(exact).toBe(false); // the fp16 weights really are rounded
  });

  it('registers with no manifest; the stored paths point at the chosen variant', async () => {
    const m = await registerModel(db, hf, 'hf tiny fp16', 'fp16');
    expect(m).toMatchObject({ imageSize: [384, 128], resize: 'irra', contextLength: 77, embeddingDim: 8 });
    const paths = modelFilePaths(resolveModelRow(db, m.id));
    expect(paths.vision).toBe(join(hf, 'onnx', 'vision_model_fp16.onnx'));
    expect(paths.text).toBe(join(hf, 'onnx', 'text_model_fp16.onnx'));
  });

  const cases: [string, () => string, RegExp][] = [
    [
      'a variant that is not there',
      () => hfClipFolder({ fp16: false }),
      /text_model_fp16\.onnx.*missing.*both towers for: fp32/s,
    ],
    [
      'a missing preprocessor_config.json',
      () => hfClipFolder({ preprocessor: null }),
      /preprocessor_config\.json is missing/,
    ],
    [
      'a config without projection_dim',
      () => hfClipFolder({ config: { ...HF_CONFIG, projection_dim: undefined } }),
      /no projection_dim/,
    ],
    [
      'a non-square centre crop',
      () =>
        hfClipFolder({
          preprocessor: { ...HF_PREPROCESSOR, do_center_crop: true, crop_size: { height: 384, width: 128 } },
        }),
      /centre crop is not supported/,
    ],
    [
      'a rescale factor other than 1/255',
      () => hfClipFolder({ preprocessor: { ...HF_PREPROCESSOR, rescale_factor: 1 } }),
      /rescale_factor 1 is not 1\/255/,
    ],
    [
      'a tokenizer.json that is not a BPE',
      () => {
        const d = hfClipFolder();
        writeFileSync(join(d, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }));
        return d;
      },
      /tokenizer\.json: .*no BPE model/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(`explains ${what}`, async () => {
      const variant = what.startsWith('a variant') ? 'fp16' : 'fp32';
      await expect(loadModelFolder(make(), { variant })).rejects.toThrow(message);
    });
  }

  it('lists every problem at once', async () => {
    const d = hfClipFolder({
      preprocessor: { ...HF_PREPROCESSOR, rescale_factor: 2, image_mean: [1] },
      config: { model_type: 'clip' },
    });
    rmSync(join(d, 'onnx', 'vision_model.onnx'));
    const err = await loadModelFolder(d).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/vision_model\.onnx.*missing/);
    expect(err?.message).toMatch(/projection_dim/);
    expect(err?.message).toMatch(/rescale_factor/);
    expect(err?.message).toMatch(/image_mean/);
  });

  it('refuses a variant on a manifest folder', async () => {
    await expect(loadModelFolder(tinyModelFolder(), { variant: 'fp16' })).rejects.toThrow(
      /fp16 variant was asked for/,
    );
  });
});
