// tools/export_onnx.py against our own loader and encoder: a randomly initialised ViT-B/16 (2 layers
// per tower, for speed; full width, full vocabulary) exported at 384×128 must embed the same synthetic
// crops and captions in ONNX Runtime (through encoder.ts) as in PyTorch, to cosine ≥ 0.9999.
// CTGI_EXPORT_LAYERS=12 runs the same checks on the full-depth model (minutes, ~600 MB of ONNX).
// Needs a Python with torch and onnx (Debian: apt-get install python3-torch python3-onnx); without one
// the suite is skipped and its title says why.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipEncoder } from '../../src/main/ml/encoder';
import { loadModelFolder, preprocessSpecOf, type ModelFolder } from '../../src/main/ml/models';
import { pesModel } from '../../src/main/ml/pes';
import { preprocessBatch } from '../../src/main/ml/preprocess';
import { clipTokenizer, EOT_TOKEN } from '../../src/main/ml/tokenizer';
import { makeWorld } from '../fixtures/world';
import { cosine } from '../../src/main/ml/vector-index';

const SCRIPT = fileURLToPath(new URL('../../tools/export_onnx.py', import.meta.url));

/** The first Python that imports torch and onnx: $CTGI_PYTHON, python3, then Debian's own. */
function findPython(): { python: string | null; reason: string } {
  const tried: string[] = [];
  for (const py of [process.env.CTGI_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    const r = spawnSync(py, ['-c', 'import torch, onnx'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python: py, reason: '' };
    tried.push(
      `${py}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`)}`,
    );
  }
  return { python: null, reason: `no Python with torch and onnx (${tried.join('; ')})` };
}

const { python, reason } = findPython();
const LAYERS = process.env.CTGI_EXPORT_LAYERS ?? '2';
const SLOW = 600_000;

/** NumPy .npy (format 1.0) of a C-order array. */
function npy(file: string, data: Float32Array | Int32Array, shape: number[]): void {
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  writeFileSync(
    file,
    Buffer.concat([
      pre,
      Buffer.from(header, 'latin1'),
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    ]),
  );
}

function exportModel(args: string[]): string {
  return execFileSync(python!, [SCRIPT, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: SLOW,
  });
}

interface Reference {
  image_embeds?: number[][];
  text_embeds?: number[][];
}

const CAPTIONS = [
  'a woman in a red coat and black trousers carrying a white handbag',
  'The man wears a blue shirt, grey shorts and white sneakers; he has short black hair.',
  'a person walking',
];
// About 200 tokens: longer than stock CLIP's 77, shorter than PES's 248.
const LONG_CAPTION = Array.from(
  { length: 9 },
  (_, i) =>
    `in view ${i + 1} the pedestrian wears a dark green jacket over a striped shirt, blue jeans and brown boots,`,
).join(' ');

async function encoderFor(f: ModelFolder): Promise<ClipEncoder> {
  const enc = await ClipEncoder.open({
    visionPath: f.visionPath,
    textPath: f.textPath,
    preprocess: preprocessSpecOf(f.manifest),
    providers: 'cpu',
    batchSize: 4,
  });
  enc.bind({ vision: f.vision, text: f.text });
  return enc;
}

const rows = (ids: Int32Array[], seq: number): Int32Array => {
  const out = new Int32Array(ids.length * seq);
  ids.forEach((r, i) => out.set(r, i * seq));
  return out;
};

describe.skipIf(!python)(`tools/export_onnx.py${python ? '' : ` — skipped: ${reason}`}`, () => {
  let dir = '';
  let paths: string[] = [];
  const tok = clipTokenizer();
  const ids77 = rows(
    CAPTIONS.map((c) => tok.encode(c, { context: 77 })),
    77,
  );
  const longIds = tok.encode(LONG_CAPTION, { context: 248 });
  let folder: ModelFolder;
  let ref: Reference;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ctgi-export-'));
    const world = await makeWorld({ identities: 3, views: 2, format: 'mixed' });
    paths = world.truth.images.map((i) => path.join(world.imageRoot, i.file));
    // PyTorch gets exactly the tensors our preprocessing makes, so only the towers are compared.
    const batch = await preprocessBatch(paths, {
      imageSize: [384, 128],
      resize: 'irra',
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
    });
    expect(batch.errors.every((e) => e === null)).toBe(true);
    npy(path.join(dir, 'pixels.npy'), batch.pixels, [paths.length, 3, 384, 128]);
    npy(path.join(dir, 'ids.npy'), ids77, [CAPTIONS.length, 77]);
    exportModel([
      '--random-init',
      '--layers',
      LAYERS,
      '--seed',
      '7',
      '--image-size',
      '384',
      '128',
      '--name',
      'random-vitb16',
      '--out',
      path.join(dir, 'm77'),
      '--save-checkpoint',
      path.join(dir, 'irra.pth'),
      '--checkpoint-layout',
      'irra',
      '--reference-pixels',
      path.join(dir, 'pixels.npy'),
      '--reference-ids',
      path.join(dir, 'ids.npy'),
      '--reference-out',
      path.join(dir, 'ref.json'),
    ]);
    ref = JSON.parse(readFileSync(path.join(dir, 'ref.json'), 'utf8')) as Reference;
    folder = await loadModelFolder(path.join(dir, 'm77'));
  }, SLOW);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a folder the loader accepts as it is: names, sizes, manifest', () => {
    expect(folder.manifest).toMatchObject({
      name: 'random-vitb16',
      imageSize: [384, 128],
      resize: 'irra',
      contextLength: 77,
      embeddingDim: 512,
    });
    expect(folder.vision).toEqual({ input: 'pixel_values', output: 'image_embeds' });
    expect(folder.text).toEqual({
      input: 'input_ids',
      idsType: 'int64',
      attentionMask: null,
      output: 'text_embeds',
    });
    // Only the remark about the bundled vocabulary: no renamed outputs, no fixed batch size.
    expect(folder.notes).toHaveLength(1);
    expect(folder.notes[0]).toMatch(/bundled/);
  });

  it('embeds synthetic crops (JPEG and PNG) and captions as PyTorch does', { timeout: SLOW }, async () => {
    const enc = await encoderFor(folder);
    try {
      const images = await enc.embedImages(paths);
      expect(images.errors.every((e) => e === null)).toBe(true);
      const texts = await enc.embedTokens(ids77, CAPTIONS.length, 77);
      expect(ref.image_embeds).toHaveLength(paths.length);
      expect(ref.text_embeds).toHaveLength(CAPTIONS.length);
      const imageCos = images.vectors.map((v, i) => cosine(v!, ref.image_embeds![i]!));
      const textCos = texts.map((v, i) => cosine(v, ref.text_embeds![i]!));
      for (const c of [...imageCos, ...textCos]) expect(c).toBeGreaterThanOrEqual(0.9999);
      if (process.env.CTGI_EXPORT_LAYERS)
        console.info(
          `${LAYERS} layers: min cosine images ${Math.min(...imageCos)}, texts ${Math.min(...textCos)}`,
        );
      // Control: the comparison can fail — different images and captions do not agree this well.
      expect(cosine(images.vectors[0]!, ref.image_embeds![1]!)).toBeLessThan(0.999);
      expect(cosine(texts[0]!, ref.text_embeds![2]!)).toBeLessThan(0.999);
    } finally {
      await enc.close();
    }
  });

  it(
    'reads an IRRA/RDE checkpoint (base_model.* keys) and with --pes embeds a ~200-token caption as PyTorch does',
    { timeout: SLOW },
    async () => {
      const real = longIds.indexOf(EOT_TOKEN) + 1;
      expect(real).toBeGreaterThan(150);
      expect(real).toBeLessThan(248);
      npy(path.join(dir, 'long.npy'), longIds, [1, 248]);
      const out = exportModel([
        '--checkpoint',
        path.join(dir, 'irra.pth'),
        '--pes',
        '--out',
        path.join(dir, 'm248'),
        '--reference-ids',
        path.join(dir, 'long.npy'),
        '--reference-out',
        path.join(dir, 'ref248.json'),
      ]);
      expect(out).toMatch(/irra layout/);
      expect(out).toMatch(/stretched 77 -> 248/);
      const long = await loadModelFolder(path.join(dir, 'm248'));
      expect(long.manifest).toMatchObject({ imageSize: [384, 128], resize: 'irra', contextLength: 248 });
      const torchLong = (JSON.parse(readFileSync(path.join(dir, 'ref248.json'), 'utf8')) as Reference)
        .text_embeds![0]!;
      const enc = await encoderFor(long);
      try {
        const [ours] = await enc.embedTokens(longIds, 1, 248);
        expect(cosine(ours!, torchLong)).toBeGreaterThanOrEqual(0.9999);
        // The same weights through the IRRA layout: the image tower is the one exported above.
        const again = await enc.embedImages(paths.slice(0, 2));
        again.vectors.forEach((v, i) =>
          expect(cosine(v!, ref.image_embeds![i]!)).toBeGreaterThanOrEqual(0.9999),
        );
      } finally {
        await enc.close();
      }

      // Our own PES (pes.ts, on the 77-token ONNX graph) and the exporter's (on the torch table) agree.
      const stretched = pesModel(readFileSync(folder.textPath)).bytes;
      writeFileSync(path.join(dir, 'm77', 'text_model.onnx'), stretched);
      writeFileSync(
        path.join(dir, 'm77', 'ctgi-model.json'),
        JSON.stringify({ ...folder.manifest, contextLength: 248 }),
      );
      const viaTs = await loadModelFolder(path.join(dir, 'm77'));
      const enc2 = await encoderFor(viaTs);
      try {
        const [ours] = await enc2.embedTokens(longIds, 1, 248);
        expect(cosine(ours!, torchLong)).toBeGreaterThanOrEqual(0.9999);
      } finally {
        await enc2.close();
      }
    },
  );

  it('names the missing keys of an incomplete checkpoint', { timeout: SLOW }, () => {
    const broken = path.join(dir, 'broken.pth');
    execFileSync(python!, [
      '-c',
      'import sys, torch; d = torch.load(sys.argv[1]); m = d["model"]; ' +
        '[m.pop("base_model." + k) for k in ["visual.ln_post.weight", "transformer.resblocks.1.mlp.c_fc.weight"]]; torch.save(d, sys.argv[2])',
      path.join(dir, 'irra.pth'),
      broken,
    ]);
    const r = spawnSync(python!, [SCRIPT, '--checkpoint', broken, '--out', path.join(dir, 'never')], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /2 key\(s\) missing: visual\.ln_post\.weight, transformer\.resblocks\.1\.mlp\.c_fc\.weight/,
    );
    expect(r.stderr).not.toMatch(/Traceback/);
  });
});
