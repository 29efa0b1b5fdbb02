// One live list of jobs for the whole window: the header's indicator and the Jobs view read the same
// state, fed by one `jobs:list` call and then by `jobs:progress` events.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { Job } from '../../../../shared/domain';
import { invoke } from '../../lib/api';
import { errorMessage, useEvent } from '../../lib/hooks';

interface JobsState {
  jobs: Job[];
  loading: boolean;
  error: string | null;
  reload: () => void;
  /** Puts a job the caller just got from the server into the list (a cancel/resume/start answer). */
  upsert: (job: Job) => void;
}

const JobsContext = createContext<JobsState | null>(null);

export const isActive = (job: Job): boolean => job.status === 'running' || job.status === 'queued';

function merge(list: Job[], job: Job): Job[] {
  const i = list.findIndex((j) => j.id === job.id);
  if (i === -1) return [job, ...list].sort((a, b) => b.id - a.id);
  const current = list[i]!;
  // Events can overtake the answer of a list call; never step a job back in time.
  if (current.status === job.status && job.done < current.done) return list;
  // A cancel's answer still says `running` (the job winds down after it), and may land after the event
  // that says it ended. Only a new attempt (a resume) runs again after an end.
  if (job.status === 'running' && !isActive(current) && job.attempts <= current.attempts) return list;
  const next = list.slice();
  next[i] = job;
  return next;
}

export function JobsProvider({ children }: { children: React.ReactNode }): React.JSX.Element {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    invoke('jobs:list', { limit: 200 }).then(
      (list) => {
        if (!live) return;
        setJobs((prev) => prev.reduce(merge, list));
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (!live) return;
        setError(errorMessage(err));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);
  const upsert = useCallback((job: Job) => setJobs((list) => merge(list, job)), []);
  useEvent('jobs:progress', upsert);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const value = useMemo(
    () => ({ jobs, loading, error, reload, upsert }),
    [jobs, loading, error, reload, upsert],
  );
  return <JobsContext.Provider value={value}>{children}</JobsContext.Provider>;
}

export function useJobs(): JobsState {
  const ctx = useContext(JobsContext);
  if (!ctx) throw new Error('useJobs needs a JobsProvider above it.');
  return ctx;
}
