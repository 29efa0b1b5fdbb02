// Server state in one place (as Actual Budget's queries.ts): the query of every channel a view reads,
// grouped by the feature that reads it, and which server events make which answers stale. A query's key
// is `[channel, arg]`, so "everything `datasets:list` answered" is the prefix `['datasets:list']`, whatever
// the argument. Views call `useQuery(libraryQueries.datasets())`; they never reload by hand: the server's
// events (`library:changed`, `jobs:progress`) invalidate here (ServerStateProvider), and a view's own
// write invalidates what it changed with `invalidate(...)`.
import { queryOptions } from '@tanstack/react-query';
import type { Channel, EventMap, InvokeArg, InvokeResults } from '../../../shared/contract';
import { isJobFinished, type Job, type JobKind } from '../../../shared/domain';
import type { ImageId } from '../../../shared/ids';
import { invoke } from './api';
import { mergeJob } from './jobList';

/** The query of one channel with one argument. */
export function serverQuery<C extends Channel>(channel: C, arg: InvokeArg<C>) {
  return queryOptions<InvokeResults[C], Error, InvokeResults[C], readonly [C, InvokeArg<C>]>({
    queryKey: [channel, arg] as const,
    queryFn: () => invoke(channel, arg),
  });
}

export const libraryQueries = {
  stats: () => serverQuery('library:stats', {}),
  datasets: () => serverQuery('datasets:list', {}),
  image: (id: ImageId) => serverQuery('images:get', { id }),
};

export const searchQueries = {
  models: () => serverQuery('models:list', {}),
  text: (arg: InvokeArg<'search:text'>) => serverQuery('search:text', arg),
};

export const mtiQueries = {
  saved: (limit: number) => serverQuery('searches:list', { limit }),
};

export const reviewQueries = {
  savedFilters: () => serverQuery('review:filters', {}),
  /** How many captions the filter leaves (a count only: no rows). */
  queueCount: (filter: InvokeArg<'review:queue'>['filter']) =>
    serverQuery('review:queue', { filter, limit: 0 }),
  scoreCoverage: (filter: InvokeArg<'review:scoreCoverage'>['filter']) =>
    serverQuery('review:scoreCoverage', { filter }),
  stats: (arg: InvokeArg<'review:stats'>) => serverQuery('review:stats', arg),
  exportPreview: (arg: InvokeArg<'export:preview'>) => serverQuery('export:preview', arg),
  team: () => serverQuery('team:dashboard', {}),
  adjudications: () => serverQuery('review:adjudications', {}),
};

export const endpointQueries = {
  list: () => serverQuery('endpoints:list', {}),
  replicas: (name: string) => serverQuery('endpoints:replicas', { name }),
};

export const promptQueries = {
  sets: () => serverQuery('prompts:list', {}),
};

/** The jobs the window follows: the newest 200. */
const JOB_LIST_LIMIT = 200;

export const jobQueries = {
  /**
   * Kept live by `jobs:progress` (serverState.tsx puts each job into it); a fresh answer is merged with
   * what events already said, since an event can overtake the answer.
   */
  list: () =>
    queryOptions<Job[], Error, Job[], readonly ['jobs:list', InvokeArg<'jobs:list'>]>({
      queryKey: ['jobs:list', { limit: JOB_LIST_LIMIT }] as const,
      queryFn: async ({ client, queryKey }) => {
        const list = await invoke('jobs:list', { limit: JOB_LIST_LIMIT });
        return (client.getQueryData<Job[]>(queryKey) ?? []).reduce(mergeJob, list);
      },
      // Fetched once per window, as the old provider did; the events keep it current after that.
      staleTime: Infinity,
    }),
  issues: (id: InvokeArg<'jobs:issues'>['id'], limit: number) => serverQuery('jobs:issues', { id, limit }),
};

export const mtgQueries = {
  runs: (imageId: ImageId) => serverQuery('mtg:runs', { imageId }),
  batches: (jobId: InvokeArg<'mtg:batches'>['jobId']) => serverQuery('mtg:batches', { jobId }),
  spend: (jobId: NonNullable<InvokeArg<'usage:summary'>['jobId']>) =>
    serverQuery('usage:summary', { by: 'job', jobId }),
  /** How many images a scope holds (a count only). */
  imageCount: (scope: Omit<InvokeArg<'images:list'>, 'limit' | 'offset'>) =>
    serverQuery('images:list', { ...scope, limit: 1 }),
};

export const settingsQueries = {
  users: () => serverQuery('users:list', {}),
};

export const footageQueries = {
  folders: () => serverQuery('footage:list', {}),
  tracks: (arg: InvokeArg<'footage:tracks'>) => serverQuery('footage:tracks', arg),
  origin: (imageId: ImageId) => serverQuery('footage:origin', { imageId }),
  detectors: () => serverQuery('detectors:list', {}),
  videoTools: () => serverQuery('video:tools', {}),
};

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
  // Embedded counts per model and what can be scored move with every batch; results only at the end.
  embed: { progress: ['models:list', 'datasets:list', 'review:scoreCoverage'], finished: ['search:text'] },
  score: { progress: ['review:scoreCoverage'] },
  footage: { progress: ['footage:list', 'footage:tracks'] },
  // An image's rounds, and the job's spend and batch rounds, follow a running MTG job.
  mtg: { progress: ['mtg:runs', 'usage:summary', 'mtg:batches'] },
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
