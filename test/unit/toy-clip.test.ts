import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { constants, decodeModel, encodeModel, replaceConstant, shapeOf } from '../../src/main/ml/onnx';
import { pesModel, PES_TARGET_ROWS } from '../../src/main/ml/pes';
import { IRRA_SPEC, preprocessBatch, transformRgb, writeNormalised } from '../../src/main/ml/preprocess';
import { clipTokenizer, LONG_CONTEXT } from '../../src/main/ml/tokenizer';
import {
  sampleAttributes,
  templateCaption,
  type ColourName,
  type PersonAttributes,
} from '../../src/main/pipelines/attributes';
import { DEFAULT_SIZE, renderPerson, sampleScene, SKIN_TONES } from '../../src/main/synth/render';
import { createRng } from '../../src/main/rng';
import {
  buildToyTextModel,
  buildToyVisionModel,
  featureName,
  FEATURES,
  POSITION_SCALE,
  projectionMatrix,
  TOY_EMBEDDING_DIM,
} from '../../src/main/synth/toy-clip';
import { buildToyTextModel as buildOtherTextModel } from '../fixtures/onnx/toy-text';
import { makeWorld } from '../fixtures/world';
import { cosine } from '../../src/main/ml/vector-index';

const vision = buildToyVisionModel();
const text = buildToyTextModel();
const tok = clipTokenizer();

const sessions = new Map<Uint8Array, Promise<ort.InferenceSession>>();
const session = (bytes: Uint8Array): Promise<ort.InferenceSession> => {
  let s = sessions.get(bytes);
  if (!s) sessions.set(bytes, (s = ort.InferenceSession.create(bytes)));
  return s;
};

/** Runs the text tower on captions; returns [embeds, features] per caption. */
async function runText(
  bytes: Uint8Array,
  captions: string[],
  context = 77,
): Promise<{ embeds: Float32Array[]; features: Float32Array[] }> {
  const ids = captions.flatMap((c) => Array.from(tok.encode(c, { context })));
  const out = await (
    await session(bytes)
  ).run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [captions.length, context]),
  });
  return rows(out, 'text_embeds', captions.length);
}

async function runVision(
  pixels: Float32Array,
  count: number,
): Promise<{ embeds: Float32Array[]; features: Float32Array[] }> {
  const out = await (
    await session(vision)
  ).run({ pixel_values: new ort.Tensor('float32', pixels, [count, 3, 384, 128]) });
  return rows(out, 'image_embeds', count);
}

function rows(
  out: ort.InferenceSession.OnnxValueMapType,
  name: string,
  n: number,
): { embeds: Float32Array[]; features: Float32Array[] } {
  const e = out[name]!.data as Float32Array;
  const f = out.features!.data as Float32Array;
  const d = e.length / n;
  return {
    embeds: Array.from({ length: n }, (_, i) => e.slice(i * d, (i + 1) * d)),
    features: Array.from({ length: n }, (_, i) => f.slice(i * FEATURES, (i + 1) * FEATURES)),
  };
}

/** Feature names above one half, sorted. */
const fired = (f: Float32Array): string[] =>
  Array.from(f, (v, i) => [v, featureName(i)] as const)
    .filter(([v]) => v > 0.5)
    .map(([, n]) => n)
    .sort();

/** A rendered person with chosen top and bottom colours, preprocessed as the app does. */
function personPixels(top: ColourName, bottom: ColourName, into: Float32Array, index: number): void {
  const base = sampleAttributes(createRng(7));
  const attributes: PersonAttributes = {
    ...base,
    top: { ...base.top, colour: top },
    bottom: { ...base.bottom, colour: bottom },
  };
  const { rgb } = renderPerson({ ...sampleScene('front', createRng(3)), attributes, skin: SKIN_TONES[0]! });
  const img = transformRgb({ data: rgb, width: DEFAULT_SIZE.width, height: DEFAULT_SIZE.height }, IRRA_SPEC);
  writeNormalised(img.data, IRRA_SPEC, into, index);
}

describe('toy CLIP towers', () => {
  it('have the inputs and outputs of a CLIP export', async () => {
    const v = decodeModel(vision).graph!;
    const t = decodeModel(text).graph!;
    expect(v.input.map((i) => [i.name, i.type?.tensorType?.elemType, shapeOf(i)])).toEqual([
      ['pixel_values', 1, ['batch', 3, 384, 128]],
    ]);
    expect(t.input.map((i) => [i.name, i.type?.tensorType?.elemType, shapeOf(i)])).toEqual([
      ['input_ids', 7, ['batch', 77]],
    ]);
    expect(v.output.map((o) => [o.name, shapeOf(o)])[0]).toEqual([
      'image_embeds',
      ['batch', TOY_EMBEDDING_DIM],
    ]);
    expect(t.output.map((o) => [o.name, shapeOf(o)])[0]).toEqual([
      'text_embeds',
      ['batch', TOY_EMBEDDING_DIM],
    ]);

    const img = await runVision(new Float32Array(2 * 3 * 384 * 128), 2);
    const txt = await runText(text, ['a red shirt', 'blue jeans', 'black shoes']);
    expect(img.embeds.map((e) => e.length)).toEqual([TOY_EMBEDDING_DIM, TOY_EMBEDDING_DIM]);
    expect(txt.embeds.map((e) => e.length)).toEqual([
      TOY_EMBEDDING_DIM,
      TOY_EMBEDDING_DIM,
      TOY_EMBEDDING_DIM,
    ]);
  });

  it('are the same bytes on every build, whatever else was built before', () => {
    buildOtherTextModel(); // advances the ONNX builder's global node counter
    expect(Buffer.from(buildToyVisionModel()).equals(Buffer.from(vision))).toBe(true);
    expect(Buffer.from(buildToyTextModel()).equals(Buffer.from(text))).toBe(true);
  });

  it('project with orthonormal rows, so embeddings keep the features’ dot products', () => {
    const P = projectionMatrix();
    for (const [i, j] of [
      [0, 0],
      [0, 1],
      [17, 68],
      [68, 68],
    ] as const) {
      let dot = 0;
      for (let k = 0; k < TOY_EMBEDDING_DIM; k++)
        dot += P[i * TOY_EMBEDDING_DIM + k]! * P[j * TOY_EMBEDDING_DIM + k]!;
      expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
    }
  });
});

describe('toy CLIP text tower', () => {
  it('binds each colour to the garment named right after it', async () => {
    const { features } = await runText(text, [
      'a red shirt, blue trousers',
      'blue shirt and red trousers',
      'A woman in a pink t-shirt with a yellow shoulder bag and an orange cap, grey hair, black shoes.',
      'red',
      'shirt trousers',
      'red and blue',
    ]);
    expect(fired(features[0]!)).toEqual(['bottom:blue', 'top:red']);
    expect(fired(features[1]!)).toEqual(['bottom:red', 'top:blue']);
    expect(fired(features[2]!)).toEqual([
      'bag-type:shoulder bag',
      'bag:yellow',
      'hair:grey',
      'hat:orange',
      'shoes:black',
      'top:pink',
    ]);
    // Lone colours and garments do not fire at all.
    for (const f of features.slice(3)) expect(Math.max(...f)).toBe(0);
  });

  it('scores "red shirt, blue trousers" higher on a red-top/blue-bottom person than on the swapped one', async () => {
    const pixels = new Float32Array(2 * 3 * 384 * 128);
    personPixels('red', 'blue', pixels, 0);
    personPixels('blue', 'red', pixels, 1);
    const img = await runVision(pixels, 2);
    expect(fired(img.features[0]!)).toEqual(expect.arrayContaining(['top:red', 'bottom:blue']));
    expect(fired(img.features[1]!)).toEqual(expect.arrayContaining(['top:blue', 'bottom:red']));
    const [q, swapped] = (await runText(text, ['red shirt, blue trousers', 'blue shirt, red trousers']))
      .embeds;
    expect(cosine(q!, img.embeds[0]!)).toBeGreaterThan(cosine(q!, img.embeds[1]!) + 0.2);
    expect(cosine(swapped!, img.embeds[1]!)).toBeGreaterThan(cosine(swapped!, img.embeds[0]!) + 0.2);
  });

  it('uses its positional table, a little: zeroing it changes the embedding slightly', async () => {
    const m = decodeModel(text);
    const table = constants(m.graph!).find((c) => c.name.includes('position_embedding'))!;
    replaceConstant(
      table,
      new Float32Array(table.tensor.dims[0]! * table.tensor.dims[1]!),
      table.tensor.dims,
    );
    const zeroed = encodeModel(m);
    const caption =
      'A man with short black hair, wearing a red shirt with long sleeves, blue jeans and white shoes.';
    const [a] = (await runText(text, [caption])).features;
    const [b] = (await runText(zeroed, [caption])).features;
    const diffs = Array.from(a!, (v, i) => Math.abs(v - b![i]!));
    expect(Math.max(...diffs)).toBeGreaterThan(1e-4);
    expect(Math.max(...diffs)).toBeLessThanOrEqual(2 * POSITION_SCALE + 1e-6);
    expect(fired(a!)).toEqual(fired(b!));
  });

  it('after PES takes 248 tokens and keeps short captions’ embeddings (cosine > 0.99)', async () => {
    const { bytes, report } = pesModel(text);
    expect(report.contextAfter).toBe(PES_TARGET_ROWS);
    expect(report.warnings).toEqual([]);
    expect(shapeOf(decodeModel(bytes).graph!.input[0]!)).toEqual(['batch', PES_TARGET_ROWS]);
    const rng = createRng(11);
    const captions = Array.from({ length: 12 }, () => templateCaption(sampleAttributes(rng), rng));
    for (const c of captions) expect(tok.tokenCount(c)).toBeLessThan(77);
    const short = await runText(text, captions, 77);
    const long = await runText(bytes, captions, LONG_CONTEXT);
    captions.forEach((_, i) => {
      expect(cosine(short.embeds[i]!, long.embeds[i]!)).toBeGreaterThan(0.99);
      expect(fired(long.features[i]!)).toEqual(fired(short.features[i]!));
    });
    // The stretched table is really in use: beyond row 20 the embeddings are not bit-identical.
    expect(short.embeds.some((e, i) => e.some((v, k) => v !== long.embeds[i]![k]))).toBe(true);
  });
});

describe('toy CLIP image tower', () => {
  it('reads every rendered person’s colours, cap, bag and bag type from the JPEG files', async () => {
    const world = await makeWorld({ identities: 16, views: 3 });
    const images = world.truth.images;
    const batch = await preprocessBatch(
      images.map((i) => path.join(world.imageRoot, i.file)),
      IRRA_SPEC,
    );
    const { features } = await runVision(batch.pixels, images.length);
    const wrong: string[] = [];
    images.forEach((img, k) => {
      const a = img.attributes;
      const expected = [
        `hair:${a.hair.colour}`,
        `top:${a.top.colour}`,
        `bottom:${a.bottom.colour}`,
        `shoes:${a.shoes.colour}`,
      ];
      if (a.hat.colour) expected.push(`hat:${a.hat.colour}`);
      if (a.bag.colour) expected.push(`bag:${a.bag.colour}`, `bag-type:${a.bag.type}`);
      const got = fired(features[k]!);
      if (JSON.stringify(got) !== JSON.stringify(expected.sort()))
        wrong.push(`${img.file}: ${got.join(' ')} ≠ ${expected.join(' ')}`);
    });
    expect(wrong).toEqual([]);
  });
});
