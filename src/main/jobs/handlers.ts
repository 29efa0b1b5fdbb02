// The job list's channels (src/shared/jobs/contract.ts), merged into the service façade.
import type { HandlersFor } from '#shared/handlers';
import type { JobsInvokeResults } from '#shared/jobs/contract';
import { listJobIssues, listJobRows } from '../db/repos/jobs';
import type { Workspace } from '../workspace';

export function jobsHandlers(ws: Workspace): HandlersFor<keyof JobsInvokeResults> {
  const { reader, jobs } = ws;
  return {
    'jobs:list': ({ limit }) => listJobRows(reader, limit).map((r) => jobs.view(r)),
    'jobs:get': ({ id }) => jobs.get(id),
    'jobs:issues': ({ id, limit }) => {
      jobs.get(id);
      return listJobIssues(reader, id, limit);
    },
    'jobs:pause': ({ id }) => jobs.pause(id),
    'jobs:cancel': ({ id }) => jobs.cancel(id),
    'jobs:resume': ({ id }) => jobs.resume(id),
  };
}
