import { resolve } from 'node:path';
import { CAPTION_SOURCES, type CaptionSource } from '#shared/library/types';
import {
  EXPORT_FORMATS,
  EXPORT_IMAGE_MODES,
  type ExportFormat,
  type ExportImageMode,
} from '#shared/review/types';
import type { Job } from '#shared/jobs/types';
import { AppError } from '../../errors';
import { startExport, type ExportState } from '../../jobs/export';
import { getJobRow, listJobIssues } from '../../db/repos/jobs';
import { oneOf, requiredOption, stringOption, type Command } from '../command';
import { jobExitCode, printFirstIssues, runJobInForeground } from '../foreground-job';
import { withWorkspace } from '../workspace';
import { datasetOption } from './search';

/** `--split 0.8,0.1,0.1` → train/val/test ratios. */
function parseRatios(v: string | undefined): { train: number; val: number; test: number } | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map(Number);
  if (
    parts.length !== 3 ||
    parts.some((n) => !Number.isFinite(n) || n < 0) ||
    parts.reduce((a, b) => a + b, 0) <= 0
  ) {
    throw new AppError(
      'bad_request',
      `--split takes three shares train,val,test (e.g. 0.8,0.1,0.1); got "${v}".`,
    );
  }
  return { train: parts[0]!, val: parts[1]!, test: parts[2]! };
}

export const exportCommand: Command = {
  name: 'export',
  summary:
    'write accepted captions as a dataset IRRA/RDE trainers read (CUHK-PEDES, ICFG-PEDES, RSTPReid, JSONL)',
  usage:
    'ctgi export --out DIR --format cuhk-pedes|icfg-pedes|rstpreid|jsonl [--dataset ID]\n' +
    '            [--images copy|hardlink|reference] [--sources mtg,edited,human] [--split 0.8,0.1,0.1] [--seed N]\n' +
    '            [--overwrite] [--json]\n\n' +
    'Writes DIR/<annotation file> and DIR/imgs/ (DIR relative to the current folder; missing folders above it\n' +
    'are made). Images without a split get one by identity (ratios, seed).\n' +
    'Everything is written beside DIR first and moved into place at the end: a failed export leaves nothing.\n' +
    'Every export writes DIR/.ctgi-export.json; --overwrite replaces only a folder that holds it (one this app\n' +
    'exported), never any other non-empty folder.',
  options: {
    out: { type: 'string', short: 'o' },
    format: { type: 'string', short: 'f' },
    dataset: { type: 'string' },
    images: { type: 'string' },
    sources: { type: 'string' },
    split: { type: 'string' },
    seed: { type: 'string' },
    overwrite: { type: 'boolean' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const format = oneOf<ExportFormat>('format', requiredOption(values, 'format'), EXPORT_FORMATS)!;
      const images = oneOf<ExportImageMode>('images', stringOption(values, 'images'), EXPORT_IMAGE_MODES);
      const sourcesRaw = stringOption(values, 'sources');
      const sources = sourcesRaw
        ?.split(',')
        .map((s) => oneOf<CaptionSource>('sources', s.trim(), CAPTION_SOURCES)!);
      const seedRaw = stringOption(values, 'seed');
      if (seedRaw !== undefined && !/^-?\d+$/.test(seedRaw))
        throw new AppError('bad_request', `--seed must be a whole number; got "${seedRaw}".`);
      const started = Date.now();
      const { job, outDir, captions } = startExport(ws, {
        // Relative to the shell's folder, as on any command line (the service alone would place it in the
        // workspace's folder, which is what a relative path typed in the app means).
        outDir: resolve(requiredOption(values, 'out')),
        format,
        datasetId: datasetOption(values),
        images: images ?? 'copy',
        sources,
        splitRatios: parseRatios(stringOption(values, 'split')) ?? { train: 0.8, val: 0.1, test: 0.1 },
        seed: seedRaw === undefined ? 1 : Number(seedRaw),
        overwrite: values.overwrite === true,
      });
      const final = await runJobInForeground(ws, job.id, {
        io,
        quiet: values.json === true,
        everyMs: 1000,
        progressLine: (j: Job) =>
          `export #${j.id}: ${j.done}/${j.total ?? '?'}${j.message ? ` — ${j.message}` : ''}`,
      });
      const row = getJobRow(ws.db, job.id);
      const state = row?.state ? (JSON.parse(row.state) as Partial<ExportState>) : {};
      const issues = listJobIssues(ws.db, job.id, 5);
      if (values.json)
        io.out(
          JSON.stringify(
            {
              job: final,
              outDir,
              file: state.file ?? null,
              captions,
              bytes: state.bytes ?? null,
              ms: Date.now() - started,
              issues,
            },
            null,
            2,
          ),
        );
      else {
        io.out(
          final.status === 'done' ? `Exported ${final.message}.` : `Export #${final.id} ${final.status}.`,
        );
        if (final.error) io.out(`Error: ${final.error}`);
        printFirstIssues(io, final, issues);
      }
      return jobExitCode(final);
    }),
};
