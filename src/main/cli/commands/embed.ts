import type { Job } from '../../../shared/domain';
import { asDatasetId } from '../../../shared/ids';
import { listJobIssues } from '../../db/repos/jobs';
import { AppError } from '../../errors';
import { startEmbed } from '../../jobs/embed';
import { resolveModelRow } from '../../ml/models';
import { requiredOption, stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

export const embedCommand: Command = {
  name: 'embed',
  summary: 'embed images with a CLIP model (only those without a vector from it yet)',
  usage:
    'ctgi embed --model ID|NAME [--dataset ID] [--json]\n\n' +
    'Runs in this process; Ctrl-C stops it and `ctgi jobs --resume ID` continues where it stopped.\n' +
    'CTGI_ORT_PROVIDER=cpu|webgpu|cuda forces an ONNX Runtime provider (default: try WebGPU, CUDA, CPU).',
  options: { model: { type: 'string' }, dataset: { type: 'string' } },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const model = resolveModelRow(ws.db, requiredOption(values, 'model'));
      const ds = stringOption(values, 'dataset');
      if (ds !== undefined && !/^\d+$/.test(ds)) throw new AppError('bad_request', `--dataset takes a dataset id; got "${ds}".`);
      const { job } = startEmbed(ws, { modelId: model.id as never, datasetId: ds === undefined ? undefined : asDatasetId(Number(ds)) });
      const onSigint = (): void => void ws.jobs.cancel(job.id);
      process.once('SIGINT', onSigint);
      let last = 0;
      const off = ws.bus.on('jobs:progress', (j: Job) => {
        if (j.id !== job.id || values.json || Date.now() - last < 1000 || TERMINAL.has(j.status)) return;
        last = Date.now();
        const rate = j.rate ? `, ${j.rate.toFixed(1)} images/s` : '';
        io.err(`embed #${j.id}: ${j.done}/${j.total ?? '?'}${rate}${j.message ? ` — ${j.message}` : ''}`);
      });
      try {
        await ws.jobs.idle();
      } finally {
        off();
        process.off('SIGINT', onSigint);
      }
      const final = ws.jobs.get(job.id);
      const issues = listJobIssues(ws.db, job.id, 5);
      if (values.json) io.out(JSON.stringify({ job: final, firstIssues: issues }, null, 2));
      else {
        io.out(`Embed #${final.id} ${final.status}: ${final.done}/${final.total ?? '?'} images with model "${model.name}"${final.message ? ` (${final.message})` : ''}.`);
        if (final.error) io.out(`Error: ${final.error}`);
        for (const i of issues) io.out(`  ${i.severity} ${i.item}: ${i.message}`);
        if (final.issueCount > issues.length) io.out(`  … all ${final.issueCount}: ctgi jobs --issues ${final.id}`);
      }
      return final.status === 'done' ? 0 : 1;
    }),
};
