import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { AppError } from '../../errors';
import { pesModel } from '../../ml/pes';
import { requiredOption, type Command } from '../command';

export const pesCommand: Command = {
  name: 'pes',
  summary: 'stretch a CLIP text encoder ONNX from 77 to 248 tokens (Long-CLIP PES)',
  usage:
    'ctgi pes --in text_model.onnx --out text_model_248.onnx [--force] [--json]\n' +
    '  rewrites the positional table and everything else that fixes the context at 77, and says what changed.',
  options: { in: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
  run: async (values, _positionals, io) => {
    const input = requiredOption(values, 'in');
    const output = requiredOption(values, 'out');
    if (!existsSync(input)) throw new AppError('not_found', `${input} does not exist.`);
    if (existsSync(output) && !values.force) {
      throw new AppError('conflict', `${output} exists already; pass --force to overwrite it.`);
    }
    const { bytes, report } = pesModel(readFileSync(input));
    writeFileSync(output, bytes);
    if (values.json) {
      io.out(JSON.stringify({ in: input, out: output, bytes: bytes.length, ...report }, null, 2));
      return 0;
    }
    io.out(
      `Wrote ${output} (${(bytes.length / 1e6).toFixed(1)} MB): context ${report.contextBefore} → ${report.contextAfter}.`,
    );
    for (const c of report.changes) io.out(`  changed: ${c}`);
    for (const w of report.warnings) io.out(`  check:   ${w}`);
    io.out('Tokenize with --context 248 for this model.');
    return 0;
  },
};
