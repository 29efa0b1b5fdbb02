import { SPLITS, type Split } from '#shared/library/types';
import type { Job } from '#shared/jobs/types';
import { asDatasetId, asImageId, asJobId, type JobId } from '#shared/ids';
import { listJobIssues, getJobRow, updateJobParams } from '../../db/repos/jobs';
import { countJobRuns, listFailedImagesOfJob } from '../../db/repos/mtg';
import { AppError } from '../../errors';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { estimateMtg, importBatchOutput, mtgParams, setMtgBudget, startMtg } from '../../jobs/mtg';
import { formatUsd, jobUsage } from '../../llm/cost';
import { DEFAULT_RETRY } from '../../llm/retry';
import type { Workspace } from '../../workspace';
import { intOption, stringOption, type CliIo, type Command } from '../command';
import {
  JOB_EXIT_CODES,
  jobExitCode,
  printFirstIssues,
  requeueJob,
  requireJob,
  runJobInForeground,
} from '../foreground-job';
import { withWorkspace } from '../workspace';

function positiveId(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new AppError('bad_request', `--${flag} takes an id; got "${v}".`);
  return n;
}

function report(ws: Workspace, job: Job, io: CliIo, json: boolean): void {
  const runs = countJobRuns(ws.db, job.id);
  const issues = listJobIssues(ws.db, job.id, 5);
  if (json) {
    io.out(JSON.stringify({ job, runs, usage: jobUsage(ws.db, job.id), firstIssues: issues }, null, 2));
    return;
  }
  const spent = jobUsage(ws.db, job.id);
  io.out(
    `MTG #${job.id} ${job.status}: ${runs.done} captions (pending review), ${runs.failed} failed; ${runs.calls} model calls (${runs.cachedCalls} from cache), ${runs.tokens} tokens; ` +
      `paid ${spent.promptTokens} + ${spent.completionTokens} tokens, ${formatUsd(spent.costUsd)}.`,
  );
  if (job.status === 'paused' && job.message?.startsWith('Paused: the budget')) io.out(job.message);
  if (job.error) io.out(`Error: ${job.error}`);
  printFirstIssues(io, job, issues);
  if (job.status === 'paused' || job.status === 'cancelled' || job.status === 'failed')
    io.out(`Continue where it stopped: ctgi mtg --resume ${job.id}`);
  else if (runs.failed > 0) io.out(`Try the failed images again: ctgi mtg --retry-failed ${job.id}`);
}

export const mtgCommand: Command = {
  name: 'mtg',
  summary: 'caption images by multi-turn questions to an MLLM and a reconstructor (captions land as pending)',
  usage:
    'ctgi mtg --vqa ENDPOINT [--reconstructor ENDPOINT] [--dataset ID] [--split train|val|test] [--images 1,2,3]\n' +
    '         [--rounds 6] [--concurrency N] [--prompt-set ID] [--redo] [--verify] [--budget USD] [--json]\n' +
    'ctgi mtg ... --batch [--batch-poll-ms 5000]\n' +
    "                               through the endpoint's Batch API (/v1/files, /v1/batches) at its batch price,\n" +
    "                               round by round (all images' round k in one batch); a restarted job polls the\n" +
    '                               batches it submitted, never submits them twice\n' +
    'ctgi mtg ... --batch-export FILE\n' +
    "                               offline, for vLLM's batch runner: writes round 0's requests to FILE (OpenAI\n" +
    '                               batch JSONL) and stops; run them, then\n' +
    'ctgi mtg --resume JOB --batch-import OUT [--batch-export NEXT]\n' +
    '                               records the answers in OUT and goes on: writes the next round to NEXT, or,\n' +
    '                               after the last round, writes the captions\n' +
    'ctgi mtg --estimate [selection and endpoints as above] [--sample 3]\n' +
    '                               run a few images first and say what the whole selection will cost\n' +
    'ctgi mtg --resume JOB [--budget USD]   continue a job that was paused (by Ctrl-C or its budget),\n' +
    '                               cancelled, failed or killed; --budget sets a new budget first\n' +
    'ctgi mtg --retry-failed JOB    a new job over the images that failed in JOB\n\n' +
    'Endpoints are saved with `ctgi endpoints --save`. By default images that already have an MTG caption are skipped.\n' +
    'A job covers the images it selects when it starts: images imported later are left to the next job.\n' +
    '--verify checks each kept answer with a second yes/no question and drops what the model then denies\n' +
    '(more calls; fewer wrong details under a noisy model, at some cost in recall).\n' +
    `A malformed or empty answer is asked again, like a server error (up to ${DEFAULT_RETRY.retries} retries, each logged).\n` +
    'Ctrl-C pauses: the job stops with its progress kept, and --resume continues it.\n' +
    'What a resume pays: every answer received is stored the moment it arrives and is not paid for again;\n' +
    "calls in flight when the process stopped (killed, crashed or paused: at most the endpoints' concurrency)\n" +
    'were sent and not answered, or answered and not stored, so they are asked, and may be paid for, again.\n\n' +
    JOB_EXIT_CODES,
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
    verify: { type: 'boolean' },
    resume: { type: 'string' },
    'retry-failed': { type: 'string' },
    budget: { type: 'string' },
    estimate: { type: 'boolean' },
    batch: { type: 'boolean' },
    'batch-poll-ms': { type: 'string' },
    'batch-export': { type: 'string' },
    'batch-import': { type: 'string' },
    sample: { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const resume = stringOption(values, 'resume');
      const retry = stringOption(values, 'retry-failed');
      const budgetText = stringOption(values, 'budget');
      const budget = budgetText === undefined ? undefined : Number(budgetText);
      if (budget !== undefined && !(budget > 0))
        throw new AppError(
          'bad_request',
          `--budget takes an amount in USD above 0, e.g. 25; got "${budgetText}".`,
        );
      let id: JobId;
      if (values.estimate === true) {
        const vqa = stringOption(values, 'vqa');
        if (vqa === undefined)
          throw new AppError('bad_request', '--vqa ENDPOINT is required (see `ctgi endpoints`).');
        const ds = stringOption(values, 'dataset');
        const imgs = stringOption(values, 'images');
        const e = await estimateMtg(ws, {
          datasetId: ds === undefined ? undefined : asDatasetId(positiveId(ds, 'dataset')),
          split: stringOption(values, 'split') as Split | undefined,
          imageIds:
            imgs === undefined
              ? undefined
              : imgs.split(',').map((s) => asImageId(positiveId(s.trim(), 'images'))),
          vqaEndpoint: vqa,
          reconstructorEndpoint: stringOption(values, 'reconstructor') ?? vqa,
          rounds: intOption(values, 'rounds', 6),
          redo: values.redo === true,
          verify: values.verify === true,
          sample: intOption(values, 'sample', 3),
        });
        if (values.json === true) io.out(JSON.stringify(e, null, 2));
        else {
          io.out(
            `Estimate for ${e.images} images (from ${e.sampleImages} run now, their answers kept for the job): ` +
              `${e.callsPerImage.toFixed(1)} calls and ${e.promptTokensPerImage} + ${e.completionTokensPerImage} tokens per image.`,
          );
          io.out(
            `In all: ${e.promptTokens} prompt + ${e.completionTokens} completion tokens, ${formatUsd(e.costUsd)}` +
              (e.batchCostUsd !== null && e.costUsd !== null
                ? ` (${formatUsd(e.batchCostUsd)} through the Batch API).`
                : '.'),
          );
        }
        return 0;
      }
      const exportTo = stringOption(values, 'batch-export');
      const importFrom = stringOption(values, 'batch-import');
      if (importFrom !== undefined && resume === undefined)
        throw new AppError(
          'bad_request',
          '--batch-import OUT goes with --resume JOB (the job whose round OUT answers).',
        );
      if (resume !== undefined) {
        const n = positiveId(resume, 'resume');
        if (budget !== undefined) setMtgBudget(ws, { jobId: asJobId(n), budgetUsd: budget });
        if (importFrom !== undefined) {
          const r = await importBatchOutput(ws, asJobId(n), readFileSync(importFrom, 'utf8'), importFrom);
          io.err(
            `Imported ${importFrom}: ${r.answered} answers recorded, ${r.failed} failed lines (asked again next round)` +
              `${r.unknown ? `, ${r.unknown} lines not from CTGI (custom_id unknown) skipped` : ''}.`,
          );
        }
        if (exportTo !== undefined) {
          const row = getJobRow(ws.db, asJobId(n));
          if (row) {
            const p = mtgParams.parse(JSON.parse(row.params));
            updateJobParams(ws.db, asJobId(n), { ...p, mode: 'offline', exportFile: resolve(exportTo) });
          }
        }
        id = requeueJob(
          ws,
          asJobId(n),
          'mtg',
          'MTG',
          `Job ${n} has already finished. To redo its failed images: ctgi mtg --retry-failed ${n}`,
        );
      } else if (retry !== undefined) {
        const old = requireJob(ws, asJobId(positiveId(retry, 'retry-failed')), 'mtg', 'MTG');
        const failed = listFailedImagesOfJob(ws.db, old.id as JobId);
        if (failed.length === 0)
          throw new AppError('bad_request', `Job ${old.id} has no failed images left to retry.`);
        const p = mtgParams.parse(JSON.parse(old.params));
        id = startMtg(ws, {
          imageIds: failed,
          vqaEndpoint: stringOption(values, 'vqa') ?? p.vqaEndpoint,
          reconstructorEndpoint: stringOption(values, 'reconstructor') ?? p.reconstructorEndpoint,
          rounds: p.rounds,
          concurrency: p.concurrency,
          promptSetId: p.promptSetId,
          redo: false,
          verify: values.verify === true || p.verify,
        }).job.id;
      } else {
        const vqa = stringOption(values, 'vqa');
        if (vqa === undefined)
          throw new AppError('bad_request', '--vqa ENDPOINT is required (see `ctgi endpoints`).');
        const split = stringOption(values, 'split');
        if (split !== undefined && !(SPLITS as readonly string[]).includes(split)) {
          throw new AppError('bad_request', `--split must be one of ${SPLITS.join(', ')}; got "${split}".`);
        }
        const ds = stringOption(values, 'dataset');
        const imgs = stringOption(values, 'images');
        const ps = stringOption(values, 'prompt-set');
        const conc = stringOption(values, 'concurrency');
        id = startMtg(
          ws,
          {
            datasetId: ds === undefined ? undefined : asDatasetId(positiveId(ds, 'dataset')),
            split: split as Split | undefined,
            imageIds:
              imgs === undefined
                ? undefined
                : imgs.split(',').map((s) => asImageId(positiveId(s.trim(), 'images'))),
            vqaEndpoint: vqa,
            reconstructorEndpoint: stringOption(values, 'reconstructor') ?? vqa,
            rounds: intOption(values, 'rounds', 6),
            concurrency: conc === undefined ? undefined : positiveId(conc, 'concurrency'),
            promptSetId: ps === undefined ? undefined : positiveId(ps, 'prompt-set'),
            redo: values.redo === true,
            verify: values.verify === true,
            budgetUsd: budget,
            mode: values.batch === true ? 'batch' : 'sync',
            batchPollMs:
              stringOption(values, 'batch-poll-ms') === undefined
                ? undefined
                : intOption(values, 'batch-poll-ms', 5000),
          },
          { exportFile: exportTo === undefined ? undefined : resolve(exportTo) },
        ).job.id;
      }

      const job = await runJobInForeground(ws, id, {
        io,
        quiet: values.json === true,
        everyMs: 2000,
        progressLine: (j: Job) =>
          `mtg #${j.id}: ${j.done}/${j.total ?? '?'} images${j.message ? ` — ${j.message}` : ''}`,
        interruptMessage: `\nPausing MTG #${id}: images in flight are dropped (answers already received stay cached); resume with ctgi mtg --resume ${id}`,
        onInterrupt: 'pause',
      });
      report(ws, job, io, values.json === true);
      // An offline round written out is where the job is meant to stop: not an interruption.
      if (job.status === 'paused' && exportTo !== undefined && job.message?.startsWith('Round ')) {
        if (values.json !== true) io.out(job.message);
        return 0;
      }
      return jobExitCode(job);
    }),
};
