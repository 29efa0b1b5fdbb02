// `npm run bench:embed`: image embedding throughput of a full-size CLIP ViT-B/16 image tower at 384×128
// (random weights, exported once by tools/export_onnx.py and kept in bench-results/), CPU, batch 32:
//   (i)   bare ONNX Runtime: InferenceSession.run on pre-made tensors, in this thread;
//   (ii)  our pipeline: JPEG/PNG synthetic crops → decode → resize/normalise → ORT, through encoder.ts;
//   (iii) PyTorch on the same weights (torch.inference_mode, threads = cores), via export_onnx.py --time-torch.
// Goals (issue 3): ours ≥ PyTorch, pipeline ≥ 90 % of bare. Needs a Python with torch + onnx.
//   --batches N   timed batches per measurement (default 3)     --batch N   images per run (default 32)
//   --python P    the Python to use (default: $CTGI_PYTHON, python3, /usr/bin/python3)
//   --provider cpu|cuda|webgpu|dml|coreml   ONNX Runtime execution provider for (i) and (ii) (default cpu);
//                 CUDA needs ORT's CUDA libraries (docs/gpu.md). The provider that really ran is printed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ClipEncoder, PROVIDER_CHOICES, providerLists, type ProviderChoice } from '../src/main/ml/encoder';
import { decodeImageSource } from '../src/main/media/image';
import { IRRA_SPEC, preprocessBatch, transformRgb, writeNormalised } from '../src/main/ml/preprocess';
import { generateWorld, WORLD_FILES, type GroundTruth } from '../src/main/synth/world';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'tools', 'export_onnx.py');
const SEED = 0;
const [H, W] = IRRA_SPEC.imageSize;

const { values } = parseArgs({
  options: {
    batches: { type: 'string' },
    batch: { type: 'string' },
    python: { type: 'string' },
    provider: { type: 'string' },
  },
});
const provider = (values.provider ?? 'cpu') as ProviderChoice;
if (!(PROVIDER_CHOICES as readonly string[]).includes(provider))
  throw new Error(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}; got ${provider}`);
const batches = Number(values.batches ?? 3);
const batch = Number(values.batch ?? 32);

function findPython(): string {
  for (const py of [values.python, process.env.CTGI_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => !!p,
  )) {
    if (spawnSync(py, ['-c', 'import torch, onnx'], { timeout: 60_000 }).status === 0) return py;
  }
  throw new Error(
    'No Python with torch and onnx found. On Debian: apt-get install python3-torch python3-onnx python3-numpy ' +
      '(or point --python / $CTGI_PYTHON at one).',
  );
}

const rate = (images: number, ms: number): number => Number(((images * 1000) / ms).toFixed(2));

async function main(): Promise<void> {
  const python = findPython();
  const cache = resolve(ROOT, 'bench-results');
  const modelDir = join(cache, `embed-vitb16-384x128-seed${SEED}`);
  const visionPath = join(modelDir, 'vision_model.onnx');
  if (!existsSync(visionPath)) {
    console.log(`exporting a random ViT-B/16 image tower (384×128, seed ${SEED}) to ${modelDir} …`);
    execFileSync(
      python,
      [
        SCRIPT,
        '--random-init',
        '--seed',
        String(SEED),
        '--image-size',
        String(H),
        String(W),
        '--towers',
        'vision',
        '--out',
        modelDir,
      ],
      { stdio: 'inherit' },
    );
  }
  const worldDir = join(cache, 'embed-world');
  if (!existsSync(join(worldDir, WORLD_FILES.attributes))) {
    await generateWorld({
      identities: 64,
      views: 4,
      seed: 1,
      imageFormat: 'mixed',
      outDir: worldDir,
      overwrite: true,
    });
  }
  const truth = JSON.parse(readFileSync(join(worldDir, WORLD_FILES.attributes), 'utf8')) as GroundTruth;
  const all = truth.images.map((i) => join(worldDir, truth.imageRoot, i.file));
  const n = batch * batches;
  if (all.length < n + batch) throw new Error(`the world has ${all.length} images; need ${n + batch}`);
  const warmPaths = all.slice(0, batch);
  const paths = all.slice(batch, batch + n);

  // Preprocessing alone, on this thread: what the pipeline adds on top of inference, per image.
  const pre0 = performance.now();
  const { pixels } = await preprocessBatch(paths, IRRA_SPEC);
  const preprocessMs = (performance.now() - pre0) / n;
  let decodeMs = 0;
  let transformMs = 0;
  for (const p of paths.slice(0, batch)) {
    const t0 = performance.now();
    const img = await decodeImageSource(p);
    const t1 = performance.now();
    writeNormalised(transformRgb(img, IRRA_SPEC).data, IRRA_SPEC, new Float32Array(3 * H * W), 0);
    decodeMs += t1 - t0;
    transformMs += performance.now() - t1;
  }

  // (i) bare ORT on pre-made tensors, same session options as the worker (the chosen provider, defaults).
  const session = await ort.InferenceSession.create(visionPath, {
    executionProviders: providerLists(provider)[0]!,
    logSeverityLevel: 3,
  });
  const per = 3 * H * W;
  const tensorOf = (k: number): ort.Tensor =>
    new ort.Tensor('float32', pixels.subarray(k * batch * per, (k + 1) * batch * per), [batch, 3, H, W]);
  await session.run({ pixel_values: tensorOf(0) }); // warm-up
  const b0 = performance.now();
  for (let k = 0; k < batches; k++) await session.run({ pixel_values: tensorOf(k) });
  const bareMs = performance.now() - b0;
  await session.release();
  console.log(`bare ORT: ${rate(n, bareMs)} images/s; preprocessing ${preprocessMs.toFixed(1)} ms/image`);

  // (ii) the pipeline: files in, unit vectors out, through the encoder worker.
  const enc = await ClipEncoder.open({
    visionPath,
    preprocess: IRRA_SPEC,
    batchSize: batch,
    providers: provider,
  });
  console.log(
    `pipeline provider: ${enc.provider}${enc.providerFailures.length ? ` (failed first: ${enc.providerFailures.join('; ')})` : ''}`,
  );
  enc.bind({ vision: { input: 'pixel_values', output: 'image_embeds' } });
  let pipelineMs = 0;
  try {
    await enc.embedImages(warmPaths);
    const p0 = performance.now();
    const r = await enc.embedImages(paths);
    pipelineMs = performance.now() - p0;
    const failed = r.errors.filter((e) => e !== null).length;
    if (failed) throw new Error(`${failed} images failed in the pipeline: ${r.errors.find((e) => e)}`);
  } finally {
    await enc.close();
  }
  console.log(
    `pipeline: ${rate(n, pipelineMs)} images/s (${(rate(n, pipelineMs) / rate(n, bareMs)).toFixed(3)} of bare)`,
  );

  // (iii) PyTorch, same seed → same weights, same batch; one warm-up run inside.
  const out = execFileSync(
    python,
    [
      SCRIPT,
      '--random-init',
      '--seed',
      String(SEED),
      '--image-size',
      String(H),
      String(W),
      '--time-torch',
      '--batch',
      String(batch),
      '--iters',
      String(batches),
      '--threads',
      String(cpus().length),
    ],
    { encoding: 'utf8' },
  );
  const torch = JSON.parse(out.trim().split('\n').at(-1)!) as {
    images_per_s: number;
    torch: string;
    threads: number;
  };

  const bare = rate(n, bareMs);
  const pipeline = rate(n, pipelineMs);
  const result = {
    date: new Date().toISOString(),
    model: 'CLIP ViT-B/16 image tower, 384×128, random weights (seed 0), float32',
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    loadAverage: Number(loadavg()[0]?.toFixed(1) ?? 0),
    batch,
    images: n,
    imagesPerSecond: { bareOrt: bare, pipeline, pytorch: Number(torch.images_per_s.toFixed(2)) },
    ratios: {
      pipelineOverBare: Number((pipeline / bare).toFixed(3)),
      oursOverPytorch: Number((pipeline / torch.images_per_s).toFixed(3)),
      bareOverPytorch: Number((bare / torch.images_per_s).toFixed(3)),
    },
    preprocessMsPerImage: {
      batchOnMainThread: Number(preprocessMs.toFixed(2)),
      decode: Number((decodeMs / batch).toFixed(2)),
      resizeNormalise: Number((transformMs / batch).toFixed(2)),
    },
    versions: {
      onnxruntimeNode: ort.env.versions.node ?? ort.env.versions.common,
      torch: torch.torch,
      torchThreads: torch.threads,
    },
  };
  console.table({
    'bare ORT (pre-made tensors)': { 'images/s': bare },
    'pipeline (files → encoder.ts)': { 'images/s': pipeline },
    [`PyTorch ${torch.torch}`]: { 'images/s': result.imagesPerSecond.pytorch },
  });
  console.log(
    `pipeline/bare = ${result.ratios.pipelineOverBare} (goal ≥ 0.9), ours/PyTorch = ${result.ratios.oursOverPytorch} (goal ≥ 1), ` +
      `bare/PyTorch = ${result.ratios.bareOverPytorch}; preprocessing ${result.preprocessMsPerImage.batchOnMainThread} ms/image ` +
      `(decode ${result.preprocessMsPerImage.decode}, resize+normalise ${result.preprocessMsPerImage.resizeNormalise}); load average ${result.loadAverage}`,
  );
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, 'embed.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
