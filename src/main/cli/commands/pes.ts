import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { AppError } from '../../errors';
import { registerModel } from '../../ml/models';
import { pesModel, type PesReport } from '../../ml/pes';
import { stretchModelFolder } from '../../ml/pes-folder';
import { requiredOption, stringOption, type CliIo, type Command } from '../command';
import { withWorkspace } from '../workspace';

function printChanges(io: CliIo, report: PesReport): void {
  for (const c of report.changes) io.out(`  changed: ${c}`);
  for (const w of report.warnings) io.out(`  check:   ${w}`);
}

export const pesCommand: Command = {
  name: 'pes',
  summary: 'stretch a CLIP text encoder ONNX from 77 to 248 tokens (Long-CLIP PES)',
  usage:
    'ctgi pes --in text_model.onnx --out text_model_248.onnx [--force] [--json]\n' +
    '  rewrites the positional table and everything else that fixes the context at 77, and says what changed.\n' +
    'ctgi pes --in MODEL_DIR --out MODEL_DIR_248 [--register [--name N] --workspace FILE] [--force] [--json]\n' +
    '  makes a whole 248-token model folder (manifest updated) and optionally registers it.',
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    register: { type: 'boolean' },
    name: { type: 'string' },
  },
  run: async (values, _positionals, io) => {
    const input = requiredOption(values, 'in');
    const output = requiredOption(values, 'out');
    if (!existsSync(input)) throw new AppError('not_found', `${input} does not exist.`);
    if (statSync(input).isDirectory()) {
      const { folder, report } = await stretchModelFolder(input, output, values.force === true);
      const registered = values.register
        ? await withWorkspace(values, (ws) => registerModel(ws.db, folder.dir, stringOption(values, 'name')))
        : null;
      if (values.json) {
        io.out(JSON.stringify({ in: input, out: folder.dir, registered, ...report }, null, 2));
        return 0;
      }
      io.out(
        `Wrote ${folder.dir}: "${folder.manifest.name}", context ${report.contextBefore} → ${report.contextAfter}.`,
      );
      printChanges(io, report);
      io.out(
        registered
          ? `Registered as model #${registered.id} "${registered.name}".`
          : `Register it: ctgi models --register ${folder.dir}`,
      );
      return 0;
    }
    if (values.register)
      throw new AppError('bad_request', '--register needs a model folder as --in, not a single .onnx file.');
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
    printChanges(io, report);
    io.out('Tokenize with --context 248 for this model.');
    return 0;
  },
};
