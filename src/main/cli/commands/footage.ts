import type { Job } from '#shared/jobs/types';
import { listJobIssues } from '../../db/repos/jobs';
import { getFootageFolderRow, toFootageFolder } from '../../db/repos/footage';
import { AppError } from '../../errors';
import { startFootage } from '../../jobs/footage';
import { requiredOption, stringOption, type Command } from '../command';
import { JOB_EXIT_CODES, jobExitCode, printFirstIssues, runJobInForeground } from '../foreground-job';
import { withWorkspace } from '../workspace';

const number = (
  text: string | undefined,
  name: string,
  ok: (n: number) => boolean,
  want: string,
): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || !ok(n))
    throw new AppError('bad_request', `--${name} must be ${want}; got "${text}".`);
  return n;
};

function cropsPerTrack(text: string | undefined): number | 'all' {
  if (text === undefined) return 3;
  if (text === 'all') return 'all';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new AppError('bad_request', `--crops-per-track is 1–100 or all; got "${text}".`);
  return n;
}

export const footageCommand: Command = {
  name: 'footage',
  summary: 'process a folder of recordings: people detected, tracked and kept as crops with camera and time',
  usage:
    'ctgi footage --folder DIR --detector ID|NAME [--camera-pattern P] [--fps 2] [--utc-offset MINUTES]\n' +
    '             [--crops-per-track N|all] [--checkpoint SECONDS] [--json]\n\n' +
    'Each sub-folder of DIR is a camera, unless --camera-pattern reads the camera (and the start time) from\n' +
    'file names, e.g. {camera}_{date:YYYYMMDD}_{time:HHmmss} for cam03_20261204_081500.mp4 (fields: {camera},\n' +
    "{date:…}, {time:…}, {datetime:…}, {epoch}, {any} or *). A recording's start comes from its name, else\n" +
    "the container's creation time. --utc-offset says the cameras' clock (default: this computer's zone).\n" +
    'Frames are sampled at --fps (default 2) and run through the registered detector (ctgi detectors);\n' +
    'each track keeps its best crops (--crops-per-track, default 3, or all: every sampled one) as images of\n' +
    'the dataset "footage: <folder name>".\n' +
    'Running it again on the same folder picks up new recordings; an interrupted run (Ctrl-C, a crash) is\n' +
    'resumed where it stopped, losing at most --checkpoint seconds of video (default 10).\n\n' +
    JOB_EXIT_CODES,
  options: {
    folder: { type: 'string' },
    detector: { type: 'string' },
    'camera-pattern': { type: 'string' },
    fps: { type: 'string' },
    'utc-offset': { type: 'string' },
    checkpoint: { type: 'string' },
    'crops-per-track': { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const started = await startFootage(ws, {
        folder: requiredOption(values, 'folder'),
        detector: requiredOption(values, 'detector'),
        ...(stringOption(values, 'camera-pattern') !== undefined
          ? { cameraPattern: stringOption(values, 'camera-pattern')! }
          : {}),
        fps: number(stringOption(values, 'fps'), 'fps', (n) => n > 0 && n <= 30, 'a rate from 0 to 30') ?? 2,
        cropsPerTrack: cropsPerTrack(stringOption(values, 'crops-per-track')),
        checkpointSeconds:
          number(
            stringOption(values, 'checkpoint'),
            'checkpoint',
            (n) => n >= 1 && n <= 3600,
            '1–3600 seconds',
          ) ?? 10,
        ...(stringOption(values, 'utc-offset') !== undefined
          ? {
              utcOffsetMinutes: number(
                stringOption(values, 'utc-offset'),
                'utc-offset',
                (n) => Number.isInteger(n) && Math.abs(n) <= 14 * 60,
                'whole minutes east of UTC (60 for UTC+1)',
              ),
            }
          : {}),
      });
      if (started.resumed) io.err(`Resuming footage job #${started.job.id} of this folder where it stopped.`);
      const final = await runJobInForeground(ws, started.job.id, {
        io,
        quiet: values.json === true,
        everyMs: 2000,
        ttyEveryMs: 200,
        showFinal: true,
        onInterrupt: 'pause',
        interruptMessage: `\nPausing footage job #${started.job.id}… (ctgi jobs --resume ${started.job.id}, or this command again, continues it)`,
        progressLine: (j: Job) =>
          `footage #${j.id}: ${j.done}/${j.total ?? '?'} s${j.rate ? ` (${j.rate.toFixed(1)}× real time)` : ''}${j.message ? ` — ${j.message}` : ''}`,
      });
      const folder = toFootageFolder(ws.db, getFootageFolderRow(ws.db, started.folderId)!);
      const issues = listJobIssues(ws.db, final.id, 5);
      if (values.json) io.out(JSON.stringify({ job: final, folder, firstIssues: issues }, null, 2));
      else {
        io.out(`Footage #${final.id} ${final.status}: ${folder.root} (crops in dataset ${folder.datasetId})`);
        for (const c of folder.cameras)
          io.out(
            `  ${c.name}: ${c.videos} recording(s), ${c.processedSeconds.toFixed(0)}/${c.seconds.toFixed(0)} s processed, ${c.tracks} tracks, ${c.crops} crops`,
          );
        if (final.error) io.out(`Error: ${final.error}`);
        printFirstIssues(io, final, issues);
      }
      return jobExitCode(final);
    }),
};
