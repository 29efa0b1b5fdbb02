import { listJobIssues, listJobRows } from '../../db/repos/jobs';
import type { Job } from '#shared/jobs/types';
import { asJobId } from '#shared/ids';
import { intOption, stringOption, type Command } from '../command';
import { jobExitCode, JOB_EXIT_CODES } from '../foreground-job';
import { withWorkspace } from '../workspace';

export function formatJob(j: Job): string {
  const progress = j.total ? `${j.done}/${j.total}` : `${j.done}`;
  const tail = j.error ? ` — ${j.error}` : j.message ? ` — ${j.message}` : '';
  return (
    `#${j.id} ${j.kind.padEnd(8)} ${j.status.padEnd(18)} ${progress.padStart(13)}  ${j.title}${tail}` +
    (j.issueCount ? ` (${j.issueCount} issues)` : '')
  );
}

export const jobsCommand: Command = {
  name: 'jobs',
  summary: "list jobs, show one job's issues, pause, cancel or resume",
  usage:
    'ctgi jobs [--limit N] [--json]\nctgi jobs --issues ID      per-item problems of one job\n' +
    'ctgi jobs --pause ID       stop a job so that --resume continues it where it stopped\n' +
    'ctgi jobs --cancel ID      stop a job (a paused one too) for good\n' +
    'ctgi jobs --resume ID      continue a paused, cancelled, failed or killed job, here, to its end\n\n' +
    'Statuses: queued, running, paused, done, done-with-failures (some items failed: see --issues), failed, cancelled.\n' +
    'A job is held by one process at a time; one whose process died on this machine can be resumed at once.\n' +
    "With --resume the exit status is the job's. " +
    JOB_EXIT_CODES,
  options: {
    limit: { type: 'string' },
    issues: { type: 'string' },
    pause: { type: 'string' },
    cancel: { type: 'string' },
    resume: { type: 'string' },
  },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const issuesOf = stringOption(values, 'issues');
      if (issuesOf !== undefined) {
        const issues = listJobIssues(ws.db, asJobId(Number(issuesOf)), intOption(values, 'limit', 1000));
        if (values.json) io.out(JSON.stringify(issues, null, 2));
        else for (const i of issues) io.out(`${i.severity.padEnd(7)} ${i.item}: ${i.message}`);
        return 0;
      }
      const pause = stringOption(values, 'pause');
      const cancel = stringOption(values, 'cancel');
      const resume = stringOption(values, 'resume');
      if (pause !== undefined || cancel !== undefined || resume !== undefined) {
        const job =
          pause !== undefined
            ? await ws.jobs.pause(asJobId(Number(pause)))
            : cancel !== undefined
              ? await ws.jobs.cancel(asJobId(Number(cancel)))
              : ws.jobs.resume(asJobId(Number(resume)));
        if (resume !== undefined) await ws.jobs.idle();
        const final = ws.jobs.get(job.id);
        io.out(values.json ? JSON.stringify(final, null, 2) : formatJob(final));
        return resume !== undefined ? jobExitCode(final) : 0;
      }
      const jobs = listJobRows(ws.db, intOption(values, 'limit', 50)).map((r) => ws.jobs.view(r));
      if (values.json) io.out(JSON.stringify(jobs, null, 2));
      else if (jobs.length === 0) io.out('No jobs yet.');
      else for (const j of jobs) io.out(formatJob(j));
      return 0;
    }),
};
