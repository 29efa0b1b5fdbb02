// Starting an embed job from the UI, and following it: the job list is already live (lib/jobs.ts),
// so "is this model embedding?" is a lookup, not another subscription.
import { notifications } from '@mantine/notifications';
import { useCallback, useState } from 'react';
import type { Job } from '#shared/jobs/types';
import type { DatasetId, ModelId } from '#shared/ids';
import { invoke } from '../../lib/api';
import { errorMessage } from '../../lib/hooks';
import { isActive, useJobs } from '../../lib/jobs';

export interface EmbedControl {
  start: (modelId: ModelId, datasetId?: DatasetId) => Promise<void>;
  starting: boolean;
  /** The running or queued embed job started from this window, if any. */
  running: Job | null;
}

export function useEmbed(): EmbedControl {
  const { jobs, upsert } = useJobs();
  const [starting, setStarting] = useState(false);
  const [startedIds, setStartedIds] = useState<number[]>([]);
  const start = useCallback(
    async (modelId: ModelId, datasetId?: DatasetId) => {
      setStarting(true);
      try {
        const { job } = await invoke('embed:start', { modelId, datasetId });
        upsert(job);
        setStartedIds((ids) => [...ids, job.id]);
        notifications.show({
          color: 'indigo',
          title: 'Embedding started',
          message: `${job.title}. Follow it in Jobs.`,
        });
      } catch (err) {
        notifications.show({ color: 'red', title: 'Could not start embedding', message: errorMessage(err) });
      } finally {
        setStarting(false);
      }
    },
    [upsert],
  );
  const running = jobs.find((j) => j.kind === 'embed' && isActive(j) && startedIds.includes(j.id)) ?? null;
  return { start, starting, running };
}
