import {
  DATASET_FORMATS,
  LAYOUT_CHOICES,
  type DatasetFormat,
  type LayoutDetection,
} from '#shared/library/types';
import type { Job } from '#shared/jobs/types';
import { asJobId, type JobId } from '#shared/ids';
import { listJobIssues } from '../../db/repos/jobs';
import { AppError } from '../../errors';
import { detectImportLayout, getImportSummary, startImport } from '../../jobs/import';
import type { Workspace } from '../../workspace';
import { oneOf, stringOption, type CliIo, type Command } from '../command';
import { jobExitCode, printFirstIssues, requeueJob, runJobInForeground } from '../foreground-job';
import { withWorkspace } from '../workspace';

const SHOWN_ISSUES = 5;

function parseFormat(v: string | undefined): DatasetFormat | undefined {
  return oneOf('format', v, DATASET_FORMATS);
}

/** The detection as the import dialog shows it: layout, why, and what it holds. */
export function formatDetection(d: LayoutDetection): string[] {
  const lines = [
    d.layout === null
      ? 'Layout: plain folder of images'
      : `Layout: ${d.layout}${d.detected === d.layout ? ' (detected)' : ''}`,
    ...d.evidence.map((e) => `  ${e}`),
  ];
  const p = d.preview;
  if (p) {
    const atLeast = p.complete ? '' : 'at least ';
    lines.push(
      `  ${atLeast}${p.images.toLocaleString('en-US')} images: train ${p.byRole.train}, query ${p.byRole.query}, ` +
        `gallery ${p.byRole.gallery}${p.byRole.none ? `, no role ${p.byRole.none}` : ''}` +
        (p.bySplit.val ? ` (val ${p.bySplit.val})` : ''),
      `  ${p.persons} persons (train ${p.personsByRole.train}, query ${p.personsByRole.query}, gallery ${p.personsByRole.gallery}), ` +
        `${p.cameras.length} cameras${p.cameras.length ? ` (${p.cameras.slice(0, 12).join(' ')}${p.cameras.length > 12 ? ' …' : ''})` : ''}, ` +
        `${p.junk} junk, ${p.distractors} distractors${p.sourceGroups ? `, ${p.sourceGroups} source groups` : ''}`,
    );
    if (p.skipped) lines.push(`  ${p.skipped} image files outside the layout's folders will not be imported`);
    if (!p.complete) lines.push('  (counted up to a cap; the import counts them all)');
  }
  return lines;
}

function progressLine(j: Job): string {
  const pct = j.total ? ` (${Math.floor((100 * j.done) / j.total)}%)` : '';
  const rate = j.rate ? `, ${j.rate.toFixed(0)} images/s` : '';
  return `import #${j.id}: ${j.done}/${j.total ?? '?'}${pct}${rate}${j.message ? ` — ${j.message}` : ''}`;
}

function report(
  ws: Workspace,
  job: Job,
  io: CliIo,
  json: boolean,
  detection: LayoutDetection | undefined,
): void {
  const summary = getImportSummary(ws.db, job.id);
  const issues = listJobIssues(ws.db, job.id, SHOWN_ISSUES);
  if (json) {
    io.out(
      JSON.stringify(
        {
          job,
          summary,
          issueCount: job.issueCount,
          firstIssues: issues,
          ...(detection ? { detection } : {}),
        },
        null,
        2,
      ),
    );
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
  summary:
    'import a folder of images, a person re-ID dataset as it comes (Market-1501, DukeMTMC-reID, MSMT17, CUHK03, LUPerson) or a TBPS dataset (CUHK-PEDES, ICFG-PEDES, RSTPReid)',
  usage:
    'ctgi import --folder DIR [--layout auto|market|duke|msmt17|cuhk03|luperson|plain] [--name N] [--json]\n' +
    'ctgi import --annotations FILE --images DIR [--format F] [--name N] [--json]\n' +
    'ctgi import --resume JOB_ID      continue an import that was cancelled, failed or killed\n\n' +
    `--format: ${DATASET_FORMATS.join(', ')} (detected from the file when left out)\n` +
    'Images: JPEG, PNG, WebP, BMP (by extension in a folder; GIF, TIFF and AVIF too when an annotation file\n' +
    'names them), regular files inside DIR only: links that lead out of it are reported, not imported.\n' +
    'The annotation file must be a regular file of at most 256 MB, UTF-8 (else read as Windows-1252, or UTF-16\n' +
    'by its byte-order mark). Plain bends are read and reported once per file (one caption given as a string,\n' +
    'numeric-string ids, Windows separators or ./ in paths, unknown fields); unclear records are skipped.\n' +
    'Ctrl-C cancels cleanly; what was imported stays and the import can be resumed.\n\n' +
    '--layout (folders only; default auto): person re-ID datasets as they come. auto recognises Market-1501 and\n' +
    'DukeMTMC-reID (bounding_box_train/, bounding_box_test/, query/), MSMT17 (list_*.txt), CUHK03-NP (detected/,\n' +
    'labeled/) and LUPerson-style trees (folders of crops per video); the detection and what it holds are printed\n' +
    'before the import starts. Person -1 is imported as junk and 0000 as a distractor: no identity, left out of\n' +
    'evaluation and export. plain imports the folder as images only. Layout imports stream the folder (memory\n' +
    'flat in the number of files) and resume after the last file written.',
  options: {
    folder: { type: 'string' },
    annotations: { type: 'string' },
    images: { type: 'string' },
    format: { type: 'string' },
    name: { type: 'string' },
    layout: { type: 'string' },
    resume: { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const folder = stringOption(values, 'folder');
      const annotations = stringOption(values, 'annotations');
      const images = stringOption(values, 'images');
      const resume = stringOption(values, 'resume');
      let id: JobId;
      let detection: LayoutDetection | undefined;
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
        const choice = oneOf('layout', stringOption(values, 'layout'), LAYOUT_CHOICES) ?? 'auto';
        detection = await detectImportLayout({ folder, layout: choice });
        if (values.json !== true) for (const line of formatDetection(detection)) io.out(line);
        id = (
          await startImport(ws, {
            imageRoot: folder,
            format: parseFormat(stringOption(values, 'format')),
            name: stringOption(values, 'name'),
            // What was shown is what is imported: the detection is not run a second time.
            layout: detection.layout ?? 'plain',
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
      report(ws, job, io, values.json === true, detection);
      return jobExitCode(job);
    }),
};
