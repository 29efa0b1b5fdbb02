import { DATASET_FORMATS, type DatasetFormat, type Job } from '../../../shared/domain';
import { asJobId, type JobId } from '../../../shared/ids';
import { getJobRow, listJobIssues } from '../../db/repos/jobs';
import { AppError } from '../../errors';
import { getImportSummary, startImport } from '../../jobs/import';
import type { Workspace } from '../../workspace';
import { stringOption, type CliIo, type Command } from '../command';
import { withWorkspace } from '../workspace';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);
const SHOWN_ISSUES = 5;

function parseFormat(v: string | undefined): DatasetFormat | undefined {
  if (v === undefined) return undefined;
  if (!(DATASET_FORMATS as readonly string[]).includes(v)) {
    throw new AppError('bad_request', `--format must be one of ${DATASET_FORMATS.join(', ')}; got "${v}".`);
  }
  return v as DatasetFormat;
}

/**
 * Re-queues an import for this process. The runner refuses a job still running in a live process and
 * takes over one whose process died (SIGKILL, crash); either way the job continues from its cursor.
 */
function requeue(ws: Workspace, id: JobId): JobId {
  const row = getJobRow(ws.db, id);
  if (!row) throw new AppError('not_found', `Job ${id} does not exist. \`ctgi jobs\` lists them.`);
  if (row.kind !== 'import') throw new AppError('bad_request', `Job ${id} is a ${row.kind} job, not an import.`);
  if (row.status === 'done') throw new AppError('conflict', `Job ${id} has already finished; nothing to resume.`);
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
    check(ws.jobs.get(id)); // it may have finished before we subscribed
  });
}

function progressLine(j: Job): string {
  const pct = j.total ? ` (${Math.floor((100 * j.done) / j.total)}%)` : '';
  const rate = j.rate ? `, ${j.rate.toFixed(0)} images/s` : '';
  return `import #${j.id}: ${j.done}/${j.total ?? '?'}${pct}${rate}${j.message ? ` — ${j.message}` : ''}`;
}

function report(ws: Workspace, job: Job, io: CliIo, json: boolean): void {
  const summary = getImportSummary(ws.db, job.id);
  const issues = listJobIssues(ws.db, job.id, SHOWN_ISSUES);
  if (json) {
    io.out(JSON.stringify({ job, summary, issueCount: job.issueCount, firstIssues: issues }, null, 2));
    return;
  }
  const s = summary ?? { imported: 0, duplicates: 0, failed: 0, captions: 0 };
  io.out(
    `Import #${job.id} ${job.status}: ${s.imported} images imported, ${s.captions} captions, ` +
      `${s.duplicates} duplicates, ${s.failed} skipped.`,
  );
  if (job.error) io.out(`Error: ${job.error}`);
  if (job.issueCount > 0) {
    io.out(`${job.issueCount} issue${job.issueCount === 1 ? '' : 's'}:`);
    for (const i of issues) io.out(`  ${i.severity.padEnd(7)} ${i.item}: ${i.message}`);
    if (job.issueCount > issues.length) io.out(`  … all of them: ctgi jobs --issues ${job.id}`);
  }
  if (job.status === 'cancelled' || job.status === 'failed') {
    io.out(`The dataset is incomplete. Continue where it stopped: ctgi import --resume ${job.id}`);
  }
}

export const importCommand: Command = {
  name: 'import',
  summary: 'import a folder of images or a TBPS dataset (CUHK-PEDES, ICFG-PEDES, RSTPReid)',
  usage:
    'ctgi import --folder DIR [--name N] [--json]\n' +
    'ctgi import --annotations FILE --images DIR [--format F] [--name N] [--json]\n' +
    'ctgi import --resume JOB_ID      continue an import that was cancelled, failed or killed\n\n' +
    `--format: ${DATASET_FORMATS.join(', ')} (detected from the file when left out)\n` +
    'Ctrl-C cancels cleanly; what was imported stays and the import can be resumed.',
  options: {
    folder: { type: 'string' },
    annotations: { type: 'string' },
    images: { type: 'string' },
    format: { type: 'string' },
    name: { type: 'string' },
    resume: { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const folder = stringOption(values, 'folder');
      const annotations = stringOption(values, 'annotations');
      const images = stringOption(values, 'images');
      const resume = stringOption(values, 'resume');
      let id: JobId;
      if (resume !== undefined) {
        const n = Number(resume);
        if (!Number.isInteger(n) || n <= 0) throw new AppError('bad_request', `--resume takes a job id; got "${resume}".`);
        id = requeue(ws, asJobId(n));
      } else if (folder !== undefined) {
        if (annotations !== undefined || images !== undefined) {
          throw new AppError('bad_request', 'Give either --folder, or --annotations with --images; not both.');
        }
        id = startImport(ws, { imageRoot: folder, format: parseFormat(stringOption(values, 'format')), name: stringOption(values, 'name') }).job.id;
      } else if (annotations !== undefined) {
        if (images === undefined) {
          throw new AppError('bad_request', '--annotations needs --images DIR: the folder its image paths are relative to.');
        }
        id = startImport(ws, {
          imageRoot: images,
          annotationFile: annotations,
          format: parseFormat(stringOption(values, 'format')),
          name: stringOption(values, 'name'),
        }).job.id;
      } else {
        throw new AppError('bad_request', 'Nothing to import: give --folder DIR, or --annotations FILE --images DIR.');
      }

      const tty = process.stderr.isTTY === true;
      let lastLine = 0;
      const onProgress = (j: Job): void => {
        const now = Date.now();
        if (j.status === 'running' && now - lastLine < (tty ? 100 : 2000)) return;
        lastLine = now;
        if (tty) process.stderr.write(`\r\x1b[K${progressLine(j)}`);
        else io.err(progressLine(j));
      };
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts++;
        if (interrupts === 1) {
          io.err(`\nCancelling import #${id} after the current batch… (Ctrl-C again to quit at once; it stays resumable)`);
          void ws.jobs.cancel(id);
        } else process.exit(130);
      };
      process.on('SIGINT', onSigint);
      let job: Job;
      try {
        job = await waitFor(ws, id, onProgress);
      } finally {
        process.off('SIGINT', onSigint);
        if (tty) process.stderr.write('\n');
      }
      report(ws, job, io, values.json === true);
      return job.status === 'done' ? 0 : job.status === 'cancelled' ? 130 : 1;
    }),
};
