import { CHANNEL_ROLE, mayCall } from '../../shared/access';
import type { ApiResult } from '../../shared/contract';
import { OWNER, type Caller } from '../../shared/team-contract';
import { isChannel } from '../../shared/channels';
import { invokeSchemas } from '../../shared/contract';
import { deleteDataset, listDatasets } from '../db/repos/datasets';
import { getImageDetail, getLibraryStats, listImages } from '../db/repos/images';
import { listJobIssues, listJobRows } from '../db/repos/jobs';
import { AppError, notFound, toApiError } from '../errors';
import { detectImportLayout, startImport } from '../jobs/import';
import { startEmbed } from '../jobs/embed';
import { listModels } from '../db/repos/models';
import { registerModel } from '../ml/models';
import { listEndpoints } from '../db/repos/llm';
import { endpointReplicas, probeEndpointByName, removeEndpoint, saveEndpoint } from '../llm/endpoints';
import { usage } from '../llm/cost';
import { listJobBatches } from '../db/repos/batches';
import { queryTokens, searchText } from '../search/text-search';
import { evaluateRetrieval } from '../pipelines/eval';
import { listMtgRunsForImage } from '../db/repos/mtg';
import {
  estimateMtg,
  listPromptSetsWithDefault,
  savePromptSetChecked,
  setMtgBudget,
  startMtg,
} from '../jobs/mtg';
import { reviewHandlers } from '../review/handlers';
import { mtiHandlers } from '../search/mti-handlers';
import { footageHandlers } from '../footage/handlers';
import { teamHandlers } from '../team/handlers';
import type { Workspace } from '../workspace';
import type { Handlers } from '../../shared/handlers';
import { galleryScorer } from '../search/store-search';

export type { Handlers };

/** The service façade: the only code the transports call. It holds no transport detail. */
export function createHandlers(ws: Workspace): Handlers {
  // Listing reads go through the read-only connection; anything that writes (or reads inside a write) uses db.
  const { db, reader, jobs } = ws;
  return {
    ...reviewHandlers(ws),
    ...mtiHandlers(ws),
    ...footageHandlers(ws),
    ...teamHandlers(ws),
    'library:stats': () => getLibraryStats(reader),
    'datasets:list': () => listDatasets(reader),
    'datasets:delete': ({ id }) => {
      const busy = listJobRows(db, 500).some(
        (j) => (j.status === 'running' || j.status === 'queued') && JSON.parse(j.params).datasetId === id,
      );
      if (busy) throw new AppError('conflict', `Dataset ${id} is being imported; cancel its job first.`);
      const deleted = deleteDataset(db, id);
      ws.bus.emit('library:changed', { datasetId: id });
      return { deleted };
    },
    'images:list': ({ offset, limit, ...filter }) => listImages(reader, filter, offset, limit),
    'images:get': ({ id }) => {
      const detail = getImageDetail(reader, id);
      if (!detail) throw notFound(`Image ${id}`);
      return detail;
    },
    'jobs:list': ({ limit }) => listJobRows(reader, limit).map((r) => jobs.view(r)),
    'jobs:get': ({ id }) => jobs.get(id),
    'jobs:issues': ({ id, limit }) => {
      jobs.get(id);
      return listJobIssues(reader, id, limit);
    },
    'jobs:pause': ({ id }) => jobs.pause(id),
    'jobs:cancel': ({ id }) => jobs.cancel(id),
    'jobs:resume': ({ id }) => jobs.resume(id),
    'import:start': (arg) => startImport(ws, arg),
    'import:detect': (arg) => detectImportLayout(arg),
    'models:list': () => listModels(reader),
    'models:register': ({ folder, name, variant }) => registerModel(db, folder, name, variant),
    'embed:start': (arg) => startEmbed(ws, arg),
    'endpoints:list': () => listEndpoints(reader),
    'endpoints:save': (arg) => saveEndpoint(db, arg, ws.services.keys),
    'endpoints:reset-key-store': async () => {
      const store = ws.services.keys;
      if (!store.reset)
        throw new AppError(
          'unavailable',
          'There is no app keychain here (it exists only in the desktop app), so there is nothing to reset.',
        );
      return { keptAs: await store.reset() };
    },
    'endpoints:delete': ({ name }) => removeEndpoint(db, name, ws.services.keys),
    'endpoints:probe': ({ name }) => probeEndpointByName(db, name, ws.services.keys, ws.services.llm),
    'mtg:start': (arg) => startMtg(ws, arg),
    'mtg:runs': ({ imageId }) => listMtgRunsForImage(reader, imageId),
    'mtg:estimate': (arg) => estimateMtg(ws, arg),
    'mtg:budget': (arg) => setMtgBudget(ws, arg),
    'usage:summary': ({ by, jobId, sinceMs }) => usage(db, by, { jobId, sinceMs }),
    'endpoints:replicas': ({ name }) => endpointReplicas(db, name, ws.services.llm),
    'mtg:batches': ({ jobId }) =>
      listJobBatches(reader, jobId).map((b) => ({
        round: b.round,
        try: b.try,
        status: b.status,
        requests: b.request_count,
        completed: b.completed_count,
        failed: b.failed_count,
        providerBatchId: b.provider_batch_id,
      })),
    'prompts:list': () => listPromptSetsWithDefault(db),
    'prompts:save': ({ body }) => savePromptSetChecked(db, body),
    'search:text': (arg) => searchText(ws, arg),
    'search:tokens': ({ modelId, query }) => queryTokens(reader, modelId, query),
    'eval:run': ({ modelId, split, datasetId, queries, protocol, captionSource, distractors }) =>
      evaluateRetrieval(db, {
        modelId,
        split,
        datasetId,
        queries,
        protocol,
        distractors,
        encoders: ws.services.encoders,
        score: galleryScorer(ws.services.vectors),
        ...(captionSource === undefined ? {} : { captionSource }),
      }),
  };
}

/**
 * Validates an untrusted call and runs it as `caller` (the desktop app and the server's own token are
 * the owner, an admin); every transport answers with what this returns. A role below the channel's
 * (shared/access.ts) is refused before the argument is even read.
 */
export async function dispatch(
  handlers: Handlers,
  channel: string,
  raw: unknown,
  caller: Caller = OWNER,
): Promise<ApiResult<unknown>> {
  if (!isChannel(channel))
    return { ok: false, error: { code: 'not_found', message: `Unknown call "${channel}".` } };
  if (!mayCall(caller.role, channel)) {
    const needs = CHANNEL_ROLE[channel] === 'admin' ? 'an admin' : 'a reviewer or an admin';
    return {
      ok: false,
      error: {
        code: 'forbidden',
        message: `${channel} is for ${needs}; you are signed in as ${caller.name} (${caller.role}). Ask an admin of this server.`,
      },
    };
  }
  const parsed = invokeSchemas[channel].safeParse(raw ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`)
      .join('; ');
    return {
      ok: false,
      error: { code: 'bad_request', message: `Invalid argument to ${channel}: ${detail}` },
    };
  }
  try {
    const handler = handlers[channel] as (arg: unknown, caller: Caller) => unknown;
    return { ok: true, value: await handler(parsed.data, caller) };
  } catch (err) {
    return { ok: false, error: toApiError(err) };
  }
}
