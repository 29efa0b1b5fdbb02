import { rm } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { AppError } from '../../errors';
import { chosenVideoTools } from '../../media/video';
import { FOOTAGE_TRUTH_FILE, generateFootage } from '../../synth/footage';
import { isToyClipFolder, TOY_CLIP_DIR, writeToyClipFolder } from '../../synth/toy-clip';
import { TOY_DETECTOR_DIR, writeToyDetectorFolder } from '../../synth/toy-detector';
import { generateWorld } from '../../synth/world';
import { intOption, requiredOption, stringOption, type CliIo, type Command } from '../command';
import type { OptionValues } from '../command';

/** `ctgi synth --footage DIR`: the synthetic footage world, the toy detector and the toy CLIP. */
async function synthFootage(values: OptionValues, io: CliIo): Promise<number> {
  const outDir = path.resolve(requiredOption(values, 'footage'));
  if (existsSync(path.join(outDir, FOOTAGE_TRUTH_FILE)) && values.force !== true)
    throw new AppError(
      'conflict',
      `${outDir} already holds synthetic footage. Pass --force to replace it, or choose another folder.`,
    );
  const seedText = stringOption(values, 'seed') ?? '1';
  const seed = /^\d+$/.test(seedText) ? Number(seedText) : seedText;
  const size = stringOption(values, 'size') ?? '640x360';
  const m = /^(\d+)x(\d+)$/.exec(size);
  if (!m) throw new AppError('bad_request', `--size is WIDTHxHEIGHT, e.g. 1280x720; got "${size}".`);
  const tools = await chosenVideoTools();
  const started = Date.now();
  const videos = path.join(outDir, 'videos');
  const truth = await generateFootage({
    seed,
    outDir: videos,
    tools,
    cameras: intOption(values, 'cameras', 3),
    durationSeconds: intOption(values, 'seconds', 16),
    width: Number(m[1]),
    height: Number(m[2]),
    overwrite: values.force === true,
  });
  const detector = await writeToyDetectorFolder(path.join(outDir, TOY_DETECTOR_DIR));
  const clip =
    values['no-clip'] === true ? null : (await writeToyClipFolder(path.join(outDir, TOY_CLIP_DIR))).dir;
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          videos,
          truth: path.join(videos, FOOTAGE_TRUTH_FILE),
          pattern: truth.pattern,
          toyDetector: detector.dir,
          toyClip: clip,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(
    `Synthetic footage in ${videos} (seed ${String(seed)}, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  for (const c of truth.cameras) io.out(`  ${c.file}: ${c.walks.length} walks, starts ${c.startLocal}`);
  io.out(`pattern:       ${truth.pattern}`);
  io.out(`truth:         ${path.join(videos, FOOTAGE_TRUTH_FILE)}`);
  io.out(`toy detector:  ${detector.dir}  (ctgi detectors --register ${detector.dir})`);
  if (clip) io.out(`toy CLIP:      ${clip}  (ctgi models --register ${clip})`);
  return 0;
}

export const synthCommand: Command = {
  name: 'synth',
  summary: 'generate the synthetic world: rendered people with known attributes, as TBPS datasets',
  usage:
    'ctgi synth --footage DIR [--cameras N] [--seconds S] [--size 640x360] [--seed S] [--no-clip] [--force] [--json]\n' +
    'ctgi synth --out DIR [--identities N] [--views V] [--seed S] [--format jpg|png|mixed] [--caption-mistakes SHARE]\n' +
    '           [--no-clip] [--force] [--json]\n\n' +
    'Writes DIR/imgs/<person>/<view>.<ext>, DIR/data_captions.json (RSTPReid), DIR/reid_raw.json\n' +
    '(CUHK-PEDES) and DIR/attributes.json (ground truth), and DIR/toy-clip/, a toy CLIP model folder whose\n' +
    'similarity follows the attributes (register it with `ctgi models --register DIR/toy-clip`; --no-clip\n' +
    'skips it). The same options always give the same bytes.\n' +
    '--caption-mistakes 0.1 writes one caption in ten with a wrong colour (top, bottom or shoes), as\n' +
    'annotators sometimes do, listed under captionMistakes in attributes.json (the demo uses 0.1).\n' +
    'Defaults: 100 identities, 3 views, seed 1, jpg, no mistakes. --force replaces a world already in DIR.\n\n' +
    '--footage DIR writes synthetic CCTV footage instead: DIR/videos/<camera>/<camera>_<date>_<time>.mp4 (H.264,\n' +
    'the synthetic people walking past 3 cameras, 16 s each by default) with footage-truth.json (boxes, identities,\n' +
    'times), DIR/toy-detector/ (a YOLOv8-contract ONNX person detector for it) and DIR/toy-clip/.',
  options: {
    out: { type: 'string', short: 'o' },
    footage: { type: 'string' },
    cameras: { type: 'string' },
    seconds: { type: 'string' },
    size: { type: 'string' },
    identities: { type: 'string', short: 'n' },
    views: { type: 'string' },
    seed: { type: 'string' },
    format: { type: 'string' },
    force: { type: 'boolean' },
    'no-clip': { type: 'boolean' },
    'caption-mistakes': { type: 'string' },
  },
  async run(values, _positionals, io) {
    if (values.footage !== undefined) return synthFootage(values, io);
    const outDir = requiredOption(values, 'out');
    const format = stringOption(values, 'format') ?? 'jpg';
    if (format !== 'jpg' && format !== 'png' && format !== 'mixed') {
      throw new AppError('bad_request', `--format must be jpg, png or mixed, got "${format}".`);
    }
    const mistakesText = stringOption(values, 'caption-mistakes');
    const captionMistakes = mistakesText === undefined ? undefined : Number(mistakesText);
    if (captionMistakes !== undefined && !(captionMistakes >= 0 && captionMistakes <= 1)) {
      throw new AppError(
        'bad_request',
        `--caption-mistakes is a share from 0 to 1 (0.1 = one caption in ten), got "${mistakesText}".`,
      );
    }
    const seedText = stringOption(values, 'seed') ?? '1';
    // A numeric seed stays a number so `--seed 7` and generateWorld({seed: 7}) make the same world.
    const seed = /^\d+$/.test(seedText) ? Number(seedText) : seedText;
    // generateWorld only knows its own files; the toy CLIP folder beside them is ours to refuse or replace.
    const clipDir = path.join(outDir, TOY_CLIP_DIR);
    if (isToyClipFolder(clipDir)) {
      if (values.force !== true) {
        throw new AppError(
          'conflict',
          `${path.resolve(outDir)} already holds a synthetic world. Pass --force to replace it, or choose another --out.`,
        );
      }
      await rm(clipDir, { recursive: true, force: true });
    }
    let lastShown = 0;
    const summary = await generateWorld({
      outDir,
      identities: intOption(values, 'identities', 100),
      views: intOption(values, 'views', 3),
      seed,
      imageFormat: format,
      captionMistakes,
      overwrite: values.force === true,
      onProgress: (done, total) => {
        const now = Date.now();
        if (done === total || now - lastShown > 1000) {
          lastShown = now;
          io.err(`rendered ${done}/${total} images`);
        }
      },
    });
    const toyClip = values['no-clip'] === true ? null : (await writeToyClipFolder(clipDir)).dir;
    if (values.json) {
      io.out(JSON.stringify({ ...summary, toyClip }, null, 2));
      return 0;
    }
    const s = summary.splits;
    io.out(
      `Synthetic world in ${summary.outDir} (seed ${String(summary.seed)}, ${(summary.elapsedMs / 1000).toFixed(1)} s)`,
    );
    io.out(`${summary.identities} identities, ${summary.images} images under ${summary.imageRoot}`);
    io.out(
      `splits by identity: train ${s.train.identities} (${s.train.images} images), val ${s.val.identities} ` +
        `(${s.val.images}), test ${s.test.identities} (${s.test.images})`,
    );
    io.out(`RSTPReid:   ${summary.files.rstpreid}`);
    io.out(`CUHK-PEDES: ${summary.files.cuhkPedes}`);
    io.out(`truth:      ${summary.files.attributes}`);
    if (toyClip) io.out(`toy CLIP:   ${toyClip}`);
    return 0;
  },
};
