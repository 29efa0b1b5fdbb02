// Which answers each server event makes stale, by channel: the rules ServerStateProvider applies (with
// queries.ts, whose keys start with the channel). Pure, so a unit test holds them.
import type { Channel, EventMap } from '#shared/contract';
import { isJobFinished, type Job, type JobKind } from '#shared/jobs/types';

/**
 * What each server event makes stale, by channel. A view showing any of these refetches it (at most once
 * a second while events stream in); one that is not on screen refetches when it next is.
 */
export const LIBRARY_CHANNELS: readonly Channel[] = [
  'library:stats',
  'datasets:list',
  'images:list',
  'models:list',
  'search:text',
  'review:scoreCoverage',
  'review:stats',
];

/** Per job kind: stale on each of its progress events, and on the one that says it finished. */
const STALE_ON_JOB: Partial<
  Record<JobKind, { progress?: readonly Channel[]; finished?: readonly Channel[] }>
> = {
  // The grid and the totals grow with an import; its end is announced as library:changed.
  import: { progress: ['library:stats', 'datasets:list', 'images:list'] },
  // What can be scored moves with every batch. The model list (embedded counts) and the search results
  // only once it has finished: the Search page keeps its embed prompt, with the job's progress, until then.
  embed: {
    progress: ['datasets:list', 'review:scoreCoverage'],
    finished: ['models:list', 'search:text'],
  },
  score: { progress: ['review:scoreCoverage'] },
  footage: { progress: ['footage:list', 'footage:tracks'] },
  // An image's rounds, and the job's spend and batch rounds, follow a running MTG job.
  mtg: { progress: ['mtg:runs', 'usage:summary', 'mtg:batches'] },
  // Its report is stored with the job when it is done.
  'eval-mti': { finished: ['eval:mti-report'] },
};
/** Any job's progress may report new issues (its issueCount). */
const STALE_ON_ANY_JOB: readonly Channel[] = ['jobs:issues'];

export function staleAfter<E extends 'library:changed' | 'jobs:progress'>(
  event: E,
  payload: EventMap[E],
): readonly Channel[] {
  if (event === 'library:changed') return LIBRARY_CHANNELS;
  const job = payload as Job;
  const rule = STALE_ON_JOB[job.kind] ?? {};
  return [
    ...STALE_ON_ANY_JOB,
    ...(rule.progress ?? []),
    ...(isJobFinished(job.status) ? (rule.finished ?? []) : []),
  ];
}
