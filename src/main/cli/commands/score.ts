import { CAPTION_STATUSES, type CaptionStatus } from '#shared/library/types';
import type { Job } from '#shared/jobs/types';
import { asJobId, asModelId, type JobId } from '#shared/ids';
import { listJobIssues } from '../../db/repos/jobs';
import { AppError } from '../../errors';
import { startScore } from '../../jobs/score';
import { resolveModelRow } from '../../ml/models';
import { oneOf, requiredOption, stringOption, type Command } from '../command';
import { jobExitCode, printFirstIssues, requeueJob, runJobInForeground } from '../foreground-job';
import { withWorkspace } from '../workspace';
import { datasetOption } from './search';

export const scoreCommand: Command = {
  name: 'score',
  summary: 'compute the CLIP image–text score of every caption that has none yet (for the review desk)',
  usage:
    'ctgi score --model ID|NAME|FOLDER-NAME [--dataset ID] [--status pending,flagged] [--json]\n' +
    'ctgi score --resume JOB     continue a score job that was cancelled, failed or killed\n\n' +
    'Scores current captions whose image has a vector from the model (run `ctgi embed` first); captions\n' +
    'already scored are skipped, so running it again only scores what is new. The review queue filters and\n' +
    'sorts on these scores. Ctrl-C stops it; what was scored is kept and --resume continues.',
  options: {
    model: { type: 'string' },
    dataset: { type: 'string' },
    status: { type: 'string' },
    resume: { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const resume = stringOption(values, 'resume');
      let id: JobId;
      if (resume !== undefined) {
        if (!/^\d+$/.test(resume))
          throw new AppError('bad_request', `--resume takes a job id (see \`ctgi jobs\`); got "${resume}".`);
        id = requeueJob(
          ws,
          asJobId(Number(resume)),
          'score',
          'a score job',
          `Job ${resume} has already finished; run \`ctgi score\` again to score new captions.`,
        );
      } else {
        const model = resolveModelRow(ws.db, requiredOption(values, 'model'));
        const statusRaw = stringOption(values, 'status');
        const statuses = statusRaw
          ?.split(',')
          .map((s) => oneOf<CaptionStatus>('status', s.trim(), CAPTION_STATUSES)!);
        const started = startScore(ws, {
          modelId: asModelId(model.id),
          datasetId: datasetOption(values),
          statuses,
        });
        if (!values.json) {
          io.err(
            `Scoring ${started.toScore} caption${started.toScore === 1 ? '' : 's'} with "${model.name}"` +
              (started.withoutVector > 0
                ? ` (${started.withoutVector} more have no image vector: ctgi embed --model ${model.name})`
                : '') +
              '.',
          );
        }
        id = started.job.id;
      }
      const final = await runJobInForeground(ws, id, {
        io,
        quiet: values.json === true,
        everyMs: 1000,
        ttyEveryMs: 200,
        progressLine: (j: Job) => {
          const rate = j.rate ? `, ${j.rate.toFixed(0)} captions/s` : '';
          return `score #${j.id}: ${j.done}/${j.total ?? '?'}${rate}`;
        },
        interruptMessage: `\nStopping score #${id} after the current batch (Ctrl-C again to quit at once); continue with ctgi score --resume ${id}`,
      });
      const issues = listJobIssues(ws.db, id, 5);
      if (values.json) io.out(JSON.stringify({ job: final, firstIssues: issues }, null, 2));
      else {
        io.out(
          `Score #${final.id} ${final.status}: ${final.done}/${final.total ?? '?'} captions${final.message ? ` (${final.message})` : ''}.`,
        );
        if (final.error) io.out(`Error: ${final.error}`);
        printFirstIssues(io, final, issues);
        if (final.status === 'cancelled' || final.status === 'failed')
          io.out(`Continue where it stopped: ctgi score --resume ${final.id}`);
      }
      return jobExitCode(final);
    }),
};
