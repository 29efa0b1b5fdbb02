// The job list's channels: reading jobs and their issues, pausing, cancelling and resuming them (each kind
// is started from its own feature: import:start, embed:start, mtg:start, …).
import { z } from 'zod';
import type { JobId } from '../ids';
import { id } from '../schema-fields';
import type { Job, JobIssue } from './types';

export const jobsInvokeSchemas = {
  'jobs:list': z.object({ limit: z.number().int().min(1).max(500).default(100) }),
  'jobs:get': z.object({ id: id<JobId>() }),
  'jobs:issues': z.object({ id: id<JobId>(), limit: z.number().int().min(1).max(5000).default(500) }),
  /** Stops a queued or running job so that `jobs:resume` continues it from where it stopped. */
  'jobs:pause': z.object({ id: id<JobId>() }),
  /** Stops a job for good (a paused one too). */
  'jobs:cancel': z.object({ id: id<JobId>() }),
  'jobs:resume': z.object({ id: id<JobId>() }),
} as const;

export interface JobsInvokeResults {
  'jobs:list': Job[];
  'jobs:get': Job;
  'jobs:issues': JobIssue[];
  'jobs:pause': Job;
  'jobs:cancel': Job;
  'jobs:resume': Job;
}
