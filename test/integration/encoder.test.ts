import sharp from 'sharp';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClipEncoder, providerLists } from '../../src/main/ml/encoder';
import { IRRA_SPEC } from '../../src/main/ml/preprocess';
import { CLIP_TINY_DIR } from '../fixtures/clip-tiny';

const open = (batchSize = 2) =>
  ClipEncoder.open({
    visionPath: join(CLIP_TINY_DIR, 'vision_model.onnx'),
    textPath: join(CLIP_TINY_DIR, 'text_model.onnx'),
    preprocess: IRRA_SPEC,
    batchSize,
    providers: 'cpu',
  }).then((e) => {
    e.bind({
      vision: { input: 'pixel_values', output: 'image_embeds' },
      text: { input: 'input_ids', idsType: 'int64', attentionMask: null, output: 'text_embeds' },
    });
    return e;
  });

async function images(n: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'enc-'));
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `${i}.png`);
    writeFileSync(
      p,
      await sharp({
        create: {
          width: 40 + i,
          height: 100,
          channels: 3,
          background: { r: 30 * i, g: 200 - 20 * i, b: 90 },
        },
      })
        .png()
        .toBuffer(),
    );
    paths.push(p);
  }
  return paths;
}

let enc: ClipEncoder | null = null;
afterEach(async () => {
  await enc?.close();
  enc = null;
});

describe('CLIP encoder worker', () => {
  it('tries WebGPU and CUDA only where a GPU and the CUDA provider are there, and always ends on CPU', () => {
    expect(providerLists('auto', { gpu: false, cuda: false })).toEqual([['cpu']]);
    expect(providerLists('auto', { gpu: false, cuda: true })).toEqual([['cpu']]);
    expect(providerLists('auto', { gpu: true, cuda: false })).toEqual([['webgpu', 'cpu'], ['cpu']]);
    expect(providerLists('auto', { gpu: true, cuda: true })).toEqual([
      ['webgpu', 'cpu'],
      ['cuda', 'cpu'],
      ['cpu'],
    ]);
    // An explicit choice is the user's, GPU or not.
    expect(providerLists('webgpu', { gpu: false, cuda: false })).toEqual([['webgpu', 'cpu']]);
  });

  it('reports the provider whose session creation succeeded', async () => {
    enc = await open();
    expect(enc.provider).toBe('cpu');
    expect(enc.vision?.inputs[0]).toMatchObject({ name: 'pixel_values', type: 'float32' });
  });

  it('embeds images in batches into unit vectors of the model dimension, in input order', async () => {
    enc = await open(2);
    const paths = await images(5);
    const r = await enc.embedImages(paths);
    expect(r.dim).toBe(8);
    expect(r.errors).toEqual([null, null, null, null, null]);
    for (const v of r.vectors) expect(Math.hypot(...v!)).toBeCloseTo(1, 5);
    // Same image alone gives the same vector: batching does not mix rows.
    const alone = await enc.embedImages([paths[3]!]);
    expect([...alone.vectors[0]!]).toEqual([...r.vectors[3]!].map((x) => expect.closeTo(x, 6)));
    expect([...r.vectors[0]!]).not.toEqual([...r.vectors[4]!]);
  });

  it('reports an unreadable file at its index without failing the batch', async () => {
    enc = await open(4);
    const [a, b] = await images(2);
    const r = await enc.embedImages([a!, '/nonexistent.png', b!]);
    expect(r.vectors[1]).toBeNull();
    expect(r.errors[1]).toMatch(/missing|no such file/i);
    expect(r.vectors[0]).toHaveLength(8);
    expect(r.vectors[2]).toHaveLength(8);
  });

  it('embeds token rows with the text tower', async () => {
    enc = await open();
    const ids = new Int32Array(3 * 77);
    for (let r = 0; r < 3; r++) ids.set([49406, 320 + r, 49407], r * 77);
    const v = await enc.embedTokens(ids, 3, 77);
    expect(v.map((x) => x.length)).toEqual([8, 8, 8]);
    for (const x of v) expect(Math.hypot(...x)).toBeCloseTo(1, 5);
  });

  it('survives a native crash of the encoder: pending and later calls fail with a clear error, the app carries on', async () => {
    enc = await open();
    const pending = enc.embedImages(await images(3));
    // The encoder process aborts (SIGABRT), as native code does on a segfault or a failed assertion.
    enc.simulateCrash();
    await expect(pending).rejects.toThrow(
      /CLIP encoder crashed: the encoder process stopped unexpectedly \(signal SIGABRT\)/,
    );
    await expect(enc.embedTokens(new Int32Array(77), 1, 77)).rejects.toThrow(/crashed/);
    expect(enc.alive).toBe(false);
    // This process (the app, here) is still here, and a new encoder works.
    const again = await open();
    try {
      expect((await again.embedImages(await images(2))).vectors.every((v) => v?.length === 8)).toBe(true);
    } finally {
      await again.close();
    }
  });

  it('closes mid-batch at once: pending calls are rejected and the encoder process is gone', async () => {
    enc = await open(2);
    const pending = enc.embedImages(await images(12));
    const closing = enc.close();
    await expect(pending).rejects.toThrow(/closed before the call finished/);
    await closing;
    expect(enc.alive).toBe(false);
    await expect(enc.embedTokens(new Int32Array(77), 1, 77)).rejects.toThrow(/closed/);
  });

  it('fails to open with ORT’s reason when a model cannot load', async () => {
    await expect(
      ClipEncoder.open({ visionPath: join(CLIP_TINY_DIR, 'make.py'), providers: 'cpu' }),
    ).rejects.toThrow(/ONNX Runtime could not load the model/);
  });
});
