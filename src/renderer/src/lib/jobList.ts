// How the window's job list changes: a job from an event or an answer put into the list, without ever
// stepping a job back in time. Pure, so the query (queries.ts) and the event handler (serverState.tsx)
// share it.
import type { Job } from '#shared/jobs/types';

export const isActive = (job: Job): boolean => job.status === 'running' || job.status === 'queued';

/** `job` put into `list`, newest id first; never a step back in time. */
export function mergeJob(list: readonly Job[], job: Job): Job[] {
  const i = list.findIndex((j) => j.id === job.id);
  if (i === -1) return [job, ...list].sort((a, b) => b.id - a.id);
  const current = list[i]!;
  // Events can overtake the answer of a list call; never step a job back in time.
  if (current.status === job.status && job.done < current.done) return list as Job[];
  // A cancel's answer still says `running` (the job winds down after it), and may land after the event
  // that says it ended. Only a new attempt (a resume) runs again after an end.
  if (job.status === 'running' && !isActive(current) && job.attempts <= current.attempts)
    return list as Job[];
  const next = list.slice();
  next[i] = job;
  return next;
}
