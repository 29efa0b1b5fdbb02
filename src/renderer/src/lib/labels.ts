import type {
  CaptionSource,
  CaptionStatus,
  DatasetFormat,
  DatasetStatus,
  LayoutChoice,
} from '#shared/library/types';
import type { JobStatus } from '#shared/jobs/types';
import type { LlmRole } from '#shared/llm/types';

// One colour per state, shared by every badge in the app.
export const CAPTION_STATUS_COLOR: Record<CaptionStatus, string> = {
  pending: 'yellow',
  accepted: 'teal',
  rejected: 'red',
  flagged: 'orange',
};

export const CAPTION_SOURCE_LABEL: Record<CaptionSource, string> = {
  human: 'Human',
  mtg: 'MTG',
  edited: 'Edited',
};

export const DATASET_FORMAT_LABEL: Record<DatasetFormat, string> = {
  folder: 'Image folder',
  'cuhk-pedes': 'CUHK-PEDES',
  'icfg-pedes': 'ICFG-PEDES',
  rstpreid: 'RSTPReid',
};

export const DATASET_STATUS_COLOR: Record<DatasetStatus, string> = {
  importing: 'blue',
  ready: 'teal',
  incomplete: 'orange',
};

export const JOB_STATUS_COLOR: Record<JobStatus, string> = {
  queued: 'gray',
  running: 'blue',
  paused: 'yellow',
  done: 'teal',
  'done-with-failures': 'orange',
  failed: 'red',
  cancelled: 'gray',
};

/** A job status as a badge says it. */
export const JOB_STATUS_LABEL: Record<JobStatus, string> = {
  queued: 'queued',
  running: 'running',
  paused: 'paused',
  done: 'done',
  'done-with-failures': 'done with failures',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const LAYOUT_LABEL: Record<LayoutChoice, string> = {
  auto: 'Detect the re-ID layout',
  market: 'Market-1501',
  duke: 'DukeMTMC-reID',
  msmt17: 'MSMT17',
  cuhk03: 'CUHK03 (new protocol)',
  luperson: 'LUPerson-style (per-video folders)',
  plain: 'Plain folder of images',
};

/** What an MLLM endpoint is used for, in words. */
export const ROLE_LABEL: Record<LlmRole, string> = {
  vqa: 'VQA',
  reconstructor: 'Reconstructor',
  both: 'VQA + reconstructor',
};
