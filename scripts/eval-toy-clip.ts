// `npm run eval:toy-clip`: retrieval figures of the toy CLIP on a synthetic world (synthetic figures).
// Full captions name every colour of a person and should find them; one-attribute queries ("a person in
// a red shirt") are shared by many people and should not. Runs the real pipeline: model-folder
// validation, preprocessing + ONNX Runtime in the encoder worker, the CLIP tokenizer, the IRRA metrics.
//   --identities N --views V --seed S   the world (default 200 × 4, seed 1; its test split is the gallery)
//   --world DIR                         use (or keep) the world in DIR instead of a temporary one
//   --model DIR                         evaluate another model folder instead of a freshly written toy CLIP
//   --split train|val|test              default test
//   --json                              print the figures as JSON
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SPLITS, type Split } from '#shared/library/types';
import { evaluateRetrieval, formatEvaluation } from '../src/main/synth/toy-clip/evaluate';
import { TOY_CLIP_DIR, writeToyClipFolder } from '../src/main/synth/toy-clip';
import { generateWorld, WORLD_FILES } from '../src/main/synth/world';

const { values } = parseArgs({
  options: {
    identities: { type: 'string', default: '200' },
    views: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    world: { type: 'string' },
    model: { type: 'string' },
    split: { type: 'string', default: 'test' },
    json: { type: 'boolean', default: false },
  },
});

const split = values.split as Split;
if (!SPLITS.includes(split))
  throw new Error(`--split must be one of ${SPLITS.join(', ')}, got "${values.split}".`);

const scratch = mkdtempSync(join(tmpdir(), 'ctgi-eval-toy-clip-'));
try {
  const worldDir = values.world ? resolve(values.world) : join(scratch, 'world');
  if (!existsSync(join(worldDir, WORLD_FILES.attributes))) {
    const seed = /^\d+$/.test(values.seed) ? Number(values.seed) : values.seed;
    process.stderr.write(
      `generating ${values.identities} × ${values.views} synthetic people in ${worldDir}…\n`,
    );
    await generateWorld({
      outDir: worldDir,
      identities: Number(values.identities),
      views: Number(values.views),
      seed,
    });
  }
  const modelDir = values.model
    ? resolve(values.model)
    : (await writeToyClipFolder(join(scratch, TOY_CLIP_DIR))).dir;
  const started = performance.now();
  const evaluation = await evaluateRetrieval({ worldDir, modelDir, split });
  const seconds = (performance.now() - started) / 1000;
  if (values.json) process.stdout.write(`${JSON.stringify({ ...evaluation, seconds }, null, 2)}\n`);
  else
    process.stdout.write(
      `${formatEvaluation(evaluation)}\n(${seconds.toFixed(1)} s to validate, embed and score)\n`,
    );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
