// Server state in one place (as Actual Budget's queries.ts): the query of every channel a view reads,
// grouped by the feature that reads it, and which server events make which answers stale. A query's key
// is `[channel, arg]`, so "everything `datasets:list` answered" is the prefix `['datasets:list']`, whatever
// the argument. Views call `useQuery(libraryQueries.datasets())`; they never reload by hand: the server's
// events (`library:changed`, `jobs:progress`) invalidate here (ServerStateProvider), and a view's own
// write invalidates what it changed with `invalidate(...)`.
import { queryOptions } from '@tanstack/react-query';
import type { Channel, InvokeArg, InvokeResults } from '#shared/contract';
import type { Job } from '#shared/jobs/types';
import type { ImageId, ModelId } from '#shared/ids';
import { invoke } from './api';
import { isActive, mergeJob } from './jobList';

export { LIBRARY_CHANNELS, staleAfter } from './staleRules';

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
  tokens: (modelId: ModelId, query: string) => serverQuery('search:tokens', { modelId, query }),
};

export const mtiQueries = {
  saved: (limit: number) => serverQuery('searches:list', { limit }),
  /** The newest MTI evaluation of a model, its report once it is done (stale when one finishes). */
  newestEval: (modelId: ModelId) => serverQuery('eval:mti-report', { modelId }),
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

/** How often the job list is asked again while a job is active (a safety net under the events). */
const ACTIVE_JOBS_REFETCH_MS = 5_000;

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
      // Fetched once per window; the events keep it current after that. While a job is queued or running
      // it is also asked again every few seconds, so an event lost on the way (a dropped event stream, a
      // reconnect) cannot leave a job shown as running after it ended; the merge keeps what is newer.
      staleTime: Infinity,
      refetchInterval: (query) => (query.state.data?.some(isActive) ? ACTIVE_JOBS_REFETCH_MS : false),
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
  patternPreview: (folder: string, pattern: string) =>
    serverQuery('footage:preview-pattern', { folder, pattern, limit: 12 }),
  detectors: () => serverQuery('detectors:list', {}),
  videoTools: () => serverQuery('video:tools', {}),
};
