import { SPLITS, type Job, type Split } from '../../../shared/domain';
import { asDatasetId, asImageId, asJobId, type JobId } from '../../../shared/ids';
import { getJobRow, listJobIssues } from '../../db/repos/jobs';
import { countJobRuns, listFailedImagesOfJob } from '../../db/repos/mtg';
import { AppError } from '../../errors';
import { mtgParams, startMtg } from '../../jobs/mtg';
import type { Workspace } from '../../workspace';
import { intOption, stringOption, type CliIo, type Command } from '../command';
import { withWorkspace } from '../workspace';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

function positiveId(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new AppError('bad_request', `--${flag} takes an id; got "${v}".`);
  return n;
}

function mtgJobRow(ws: Workspace, id: JobId): NonNullable<ReturnType<typeof getJobRow>> {
  const row = getJobRow(ws.db, id);
  if (!row) throw new AppError('not_found', `Job ${id} does not exist. \`ctgi jobs\` lists them.`);
  if (row.kind !== 'mtg') throw new AppError('bad_request', `Job ${id} is a ${row.kind} job, not MTG.`);
  return row;
}

/** Resumes from what the job stored; the runner refuses a job still running in a live process. */
function requeue(ws: Workspace, id: JobId): JobId {
  const row = mtgJobRow(ws, id);
  if (row.status === 'done') throw new AppError('conflict', `Job ${id} has already finished. To redo its failed images: ctgi mtg --retry-failed ${id}`);
  ws.jobs.resume(id);
  return id;
}

function waitFor(ws: Workspace, id: JobId, onProgress: (j: Job) => void): Promise<Job> {
  return new Promise((resolve) => {
    const check = (j: Job): void => {
      if (j.id !== id) return;
      onProgress(j);
      if (TERMINAL.has(j.status)) {
        off();
        resolve(j);
      }
    };
    const off = ws.bus.on('jobs:progress', check);
    check(ws.jobs.get(id));
  });
}

function report(ws: Workspace, job: Job, io: CliIo, json: boolean): void {
  const runs = countJobRuns(ws.db, job.id);
  const issues = listJobIssues(ws.db, job.id, 5);
  if (json) {
    io.out(JSON.stringify({ job, runs, firstIssues: issues }, null, 2));
    return;
  }
  io.out(`MTG #${job.id} ${job.status}: ${runs.done} captions (pending review), ${runs.failed} failed; ${runs.calls} model calls (${runs.cachedCalls} from cache), ${runs.tokens} tokens.`);
  if (job.error) io.out(`Error: ${job.error}`);
  for (const i of issues) io.out(`  ${i.severity} ${i.item}: ${i.message}`);
  if (job.issueCount > issues.length) io.out(`  … all ${job.issueCount}: ctgi jobs --issues ${job.id}`);
  if (job.status === 'cancelled' || job.status === 'failed') io.out(`Continue where it stopped: ctgi mtg --resume ${job.id}`);
  else if (runs.failed > 0) io.out(`Try the failed images again: ctgi mtg --retry-failed ${job.id}`);
}

export const mtgCommand: Command = {
  name: 'mtg',
  summary: 'caption images by multi-turn questions to an MLLM and a reconstructor (captions land as pending)',
  usage:
    'ctgi mtg --vqa ENDPOINT [--reconstructor ENDPOINT] [--dataset ID] [--split train|val|test] [--images 1,2,3]\n' +
    '         [--rounds 6] [--concurrency N] [--prompt-set ID] [--redo] [--json]\n' +
    'ctgi mtg --resume JOB          continue a job that was cancelled, failed or killed (nothing is paid twice)\n' +
    'ctgi mtg --retry-failed JOB    a new job over the images that failed in JOB\n\n' +
    'Endpoints are saved with `ctgi endpoints --save`. By default images that already have an MTG caption are skipped.\n' +
    'Ctrl-C pauses: the job is cancelled with its progress kept, and --resume continues it.',
  options: {
    vqa: { type: 'string' },
    reconstructor: { type: 'string' },
    dataset: { type: 'string' },
    split: { type: 'string' },
    images: { type: 'string' },
    rounds: { type: 'string' },
    concurrency: { type: 'string' },
    'prompt-set': { type: 'string' },
    redo: { type: 'boolean' },
    resume: { type: 'string' },
    'retry-failed': { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const resume = stringOption(values, 'resume');
      const retry = stringOption(values, 'retry-failed');
      let id: JobId;
      if (resume !== undefined) {
        id = requeue(ws, asJobId(positiveId(resume, 'resume')));
      } else if (retry !== undefined) {
        const old = mtgJobRow(ws, asJobId(positiveId(retry, 'retry-failed')));
        const failed = listFailedImagesOfJob(ws.db, old.id as JobId);
        if (failed.length === 0) throw new AppError('bad_request', `Job ${old.id} has no failed images left to retry.`);
        const p = mtgParams.parse(JSON.parse(old.params));
        id = startMtg(ws, {
          imageIds: failed,
          vqaEndpoint: stringOption(values, 'vqa') ?? p.vqaEndpoint,
          reconstructorEndpoint: stringOption(values, 'reconstructor') ?? p.reconstructorEndpoint,
          rounds: p.rounds,
          concurrency: p.concurrency,
          promptSetId: p.promptSetId,
          redo: false,
        }).job.id;
      } else {
        const vqa = stringOption(values, 'vqa');
        if (vqa === undefined) throw new AppError('bad_request', '--vqa ENDPOINT is required (see `ctgi endpoints`).');
        const split = stringOption(values, 'split');
        if (split !== undefined && !(SPLITS as readonly string[]).includes(split)) {
          throw new AppError('bad_request', `--split must be one of ${SPLITS.join(', ')}; got "${split}".`);
        }
        const ds = stringOption(values, 'dataset');
        const imgs = stringOption(values, 'images');
        const ps = stringOption(values, 'prompt-set');
        const conc = stringOption(values, 'concurrency');
        id = startMtg(ws, {
          datasetId: ds === undefined ? undefined : asDatasetId(positiveId(ds, 'dataset')),
          split: split as Split | undefined,
          imageIds: imgs === undefined ? undefined : imgs.split(',').map((s) => asImageId(positiveId(s.trim(), 'images'))),
          vqaEndpoint: vqa,
          reconstructorEndpoint: stringOption(values, 'reconstructor') ?? vqa,
          rounds: intOption(values, 'rounds', 6),
          concurrency: conc === undefined ? undefined : positiveId(conc, 'concurrency'),
          promptSetId: ps === undefined ? undefined : positiveId(ps, 'prompt-set'),
          redo: values.redo === true,
        }).job.id;
      }

      let last = 0;
      const onProgress = (j: Job): void => {
        if (values.json || j.status !== 'running' || Date.now() - last < 2000) return;
        last = Date.now();
        io.err(`mtg #${j.id}: ${j.done}/${j.total ?? '?'} images${j.message ? ` — ${j.message}` : ''}`);
      };
      let interrupts = 0;
      const onSigint = (): void => {
        if (++interrupts > 1) process.exit(130);
        io.err(`\nPausing MTG #${id}: images in flight are dropped (their answers stay cached); resume with ctgi mtg --resume ${id}`);
        void ws.jobs.cancel(id);
      };
      process.on('SIGINT', onSigint);
      let job: Job;
      try {
        job = await waitFor(ws, id, onProgress);
      } finally {
        process.off('SIGINT', onSigint);
      }
      report(ws, job, io, values.json === true);
      return job.status === 'done' ? 0 : job.status === 'cancelled' ? 130 : 1;
    }),
};
