import type { Job } from '#shared/jobs/types';
import { listJobIssues } from '../../db/repos/jobs';
import { startEmbed } from '../../jobs/embed';
import { resolveModelRow } from '../../ml/models';
import { requiredOption, type Command } from '../command';
import { JOB_EXIT_CODES, jobExitCode, printFirstIssues, runJobInForeground } from '../foreground-job';
import { withWorkspace } from '../workspace';
import { datasetOption } from './search';

export const embedCommand: Command = {
  name: 'embed',
  summary: 'embed images with a CLIP model (only those without a vector from it yet)',
  usage:
    'ctgi embed --model ID|NAME|FOLDER-NAME [--dataset ID] [--json]\n\n' +
    'Runs in this process; Ctrl-C stops it and `ctgi jobs --resume ID` continues where it stopped.\n' +
    'It covers the images without a vector when it starts; images imported later wait for the next run.\n' +
    'CTGI_ORT_PROVIDER=cpu|webgpu|cuda forces an ONNX Runtime provider (default: try WebGPU, CUDA, CPU).\n\n' +
    JOB_EXIT_CODES,
  options: { model: { type: 'string' }, dataset: { type: 'string' } },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const model = resolveModelRow(ws.db, requiredOption(values, 'model'));
      const { job } = startEmbed(ws, { modelId: model.id as never, datasetId: datasetOption(values) });
      const final = await runJobInForeground(ws, job.id, {
        io,
        quiet: values.json === true,
        everyMs: 1000,
        progressLine: (j: Job) => {
          const rate = j.rate ? `, ${j.rate.toFixed(1)} images/s` : '';
          return `embed #${j.id}: ${j.done}/${j.total ?? '?'}${rate}${j.message ? ` — ${j.message}` : ''}`;
        },
      });
      const issues = listJobIssues(ws.db, job.id, 5);
      if (values.json) io.out(JSON.stringify({ job: final, firstIssues: issues }, null, 2));
      else {
        io.out(
          `Embed #${final.id} ${final.status}: ${final.done}/${final.total ?? '?'} images with model "${model.name}"${final.message ? ` (${final.message})` : ''}.`,
        );
        if (final.error) io.out(`Error: ${final.error}`);
        printFirstIssues(io, final, issues);
      }
      return jobExitCode(final);
    }),
};
