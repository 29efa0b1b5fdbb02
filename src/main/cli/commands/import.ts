import { DATASET_FORMATS, type DatasetFormat, type Job } from '../../../shared/domain';
import { asJobId, type JobId } from '../../../shared/ids';
import { listJobIssues } from '../../db/repos/jobs';
import { AppError } from '../../errors';
import { getImportSummary, startImport } from '../../jobs/import';
import type { Workspace } from '../../workspace';
import { oneOf, stringOption, type CliIo, type Command } from '../command';
import { jobExitCode, printFirstIssues, requeueJob, runJobInForeground } from '../foreground-job';
import { withWorkspace } from '../workspace';

const SHOWN_ISSUES = 5;

function parseFormat(v: string | undefined): DatasetFormat | undefined {
  return oneOf('format', v, DATASET_FORMATS);
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
  printFirstIssues(io, job, issues);
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
    'Images: JPEG, PNG, WebP, BMP (by extension in a folder; GIF, TIFF and AVIF too when an annotation file\n' +
    'names them), regular files inside DIR only: links that lead out of it are reported, not imported.\n' +
    'The annotation file must be a regular file of at most 256 MB, UTF-8 (else read as Windows-1252, or UTF-16\n' +
    'by its byte-order mark). Plain bends are read and reported once per file (one caption given as a string,\n' +
    'numeric-string ids, Windows separators or ./ in paths, unknown fields); unclear records are skipped.\n' +
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
        if (!Number.isInteger(n) || n <= 0)
          throw new AppError('bad_request', `--resume takes a job id; got "${resume}".`);
        id = requeueJob(
          ws,
          asJobId(n),
          'import',
          'an import',
          `Job ${n} has already finished; nothing to resume.`,
        );
      } else if (folder !== undefined) {
        if (annotations !== undefined || images !== undefined) {
          throw new AppError(
            'bad_request',
            'Give either --folder, or --annotations with --images; not both.',
          );
        }
        id = (
          await startImport(ws, {
            imageRoot: folder,
            format: parseFormat(stringOption(values, 'format')),
            name: stringOption(values, 'name'),
          })
        ).job.id;
      } else if (annotations !== undefined) {
        if (images === undefined) {
          throw new AppError(
            'bad_request',
            '--annotations needs --images DIR: the folder its image paths are relative to.',
          );
        }
        id = (
          await startImport(ws, {
            imageRoot: images,
            annotationFile: annotations,
            format: parseFormat(stringOption(values, 'format')),
            name: stringOption(values, 'name'),
          })
        ).job.id;
      } else {
        throw new AppError(
          'bad_request',
          'Nothing to import: give --folder DIR, or --annotations FILE --images DIR.',
        );
      }

      const job = await runJobInForeground(ws, id, {
        io,
        progressLine,
        everyMs: 2000,
        ttyEveryMs: 100,
        showFinal: true,
        interruptMessage: `\nCancelling import #${id} after the current batch… (Ctrl-C again to quit at once; it stays resumable)`,
      });
      report(ws, job, io, values.json === true);
      return jobExitCode(job);
    }),
};
