import { AppError } from '../../errors';
import { generateWorld } from '../../synth/world';
import { intOption, requiredOption, stringOption, type Command } from '../command';

export const synthCommand: Command = {
  name: 'synth',
  summary: 'generate the synthetic world: rendered people with known attributes, as TBPS datasets',
  usage:
    'ctgi synth --out DIR [--identities N] [--views V] [--seed S] [--format jpg|png|mixed] [--force] [--json]\n\n' +
    'Writes DIR/imgs/<person>/<view>.<ext>, DIR/data_captions.json (RSTPReid), DIR/reid_raw.json\n' +
    '(CUHK-PEDES) and DIR/attributes.json (ground truth). The same options always give the same bytes.\n' +
    'Defaults: 100 identities, 3 views, seed 1, jpg. --force replaces a world already in DIR.',
  options: {
    out: { type: 'string', short: 'o' },
    identities: { type: 'string', short: 'n' },
    views: { type: 'string' },
    seed: { type: 'string' },
    format: { type: 'string' },
    force: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const outDir = requiredOption(values, 'out');
    const format = stringOption(values, 'format') ?? 'jpg';
    if (format !== 'jpg' && format !== 'png' && format !== 'mixed') {
      throw new AppError('bad_request', `--format must be jpg, png or mixed, got "${format}".`);
    }
    const seedText = stringOption(values, 'seed') ?? '1';
    // A numeric seed stays a number so `--seed 7` and generateWorld({seed: 7}) make the same world.
    const seed = /^\d+$/.test(seedText) ? Number(seedText) : seedText;
    let lastShown = 0;
    const summary = await generateWorld({
      outDir,
      identities: intOption(values, 'identities', 100),
      views: intOption(values, 'views', 3),
      seed,
      imageFormat: format,
      overwrite: values.force === true,
      onProgress: (done, total) => {
        const now = Date.now();
        if (done === total || now - lastShown > 1000) {
          lastShown = now;
          io.err(`rendered ${done}/${total} images`);
        }
      },
    });
    if (values.json) {
      io.out(JSON.stringify(summary, null, 2));
      return 0;
    }
    const s = summary.splits;
    io.out(`Synthetic world in ${summary.outDir} (seed ${String(summary.seed)}, ${(summary.elapsedMs / 1000).toFixed(1)} s)`);
    io.out(`${summary.identities} identities, ${summary.images} images under ${summary.imageRoot}`);
    io.out(
      `splits by identity: train ${s.train.identities} (${s.train.images} images), val ${s.val.identities} ` +
        `(${s.val.images}), test ${s.test.identities} (${s.test.images})`,
    );
    io.out(`RSTPReid:   ${summary.files.rstpreid}`);
    io.out(`CUHK-PEDES: ${summary.files.cuhkPedes}`);
    io.out(`truth:      ${summary.files.attributes}`);
    return 0;
  },
};
