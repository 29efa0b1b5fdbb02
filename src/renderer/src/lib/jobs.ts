// One live list of jobs for the whole window: the header's indicator, the Jobs view and every "start"
// button read the same query (`jobs:list`), which `jobs:progress` events update in place
// (serverState.tsx) instead of refetching it.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import type { Job } from '#shared/jobs/types';
import { errorMessage } from './hooks';
import { isActive, mergeJob } from './jobList';
import { jobQueries } from './queries';

export { isActive };

export interface JobsState {
  jobs: Job[];
  loading: boolean;
  error: string | null;
  /** Puts a job the caller just got from the server into the list (a cancel/resume/start answer). */
  upsert: (job: Job) => void;
}

export function useJobs(): JobsState {
  const client = useQueryClient();
  const list = useQuery(jobQueries.list());
  const upsert = useCallback(
    (job: Job) => client.setQueryData(jobQueries.list().queryKey, (l) => mergeJob(l ?? [], job)),
    [client],
  );
  return {
    jobs: list.data ?? [],
    loading: list.isPending,
    error: list.error ? errorMessage(list.error) : null,
    upsert,
  };
}
