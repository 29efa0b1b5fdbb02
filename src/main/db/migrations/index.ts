import type { Migration } from '../migrate';
import { v1Library } from './001-library';
import { v2Models } from './002-models';
import { v3Llm } from './003-llm';
import { v4Mtg } from './004-mtg';
import { v5Review } from './005-review';
import { v6Searches } from './006-searches';
import { v7Unverified } from './007-unverified';
import { v8LlmParams } from './008-llm-params';
import { v9EvalMtiQueries } from './009-eval-mti-queries';
import { v10JobScope } from './010-job-scope';
import { v11Reid } from './011-reid';
import { v12Footage } from './012-footage';
import { v13Fleet } from './013-fleet';
import { v14Team } from './014-team';
import { v15CropViews } from './015-crop-views';

/** Ordered; the database's `PRAGMA user_version` is the number of steps applied. Never edit a shipped step. */
export const migrations: readonly Migration[] = [
  v1Library,
  v2Models,
  v3Llm,
  v4Mtg,
  v5Review,
  v6Searches,
  v7Unverified,
  v8LlmParams,
  v9EvalMtiQueries,
  v10JobScope,
  v11Reid,
  v12Footage,
  v13Fleet,
  v14Team,
  v15CropViews,
];
