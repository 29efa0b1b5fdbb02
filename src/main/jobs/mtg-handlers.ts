// MTG's channels (src/shared/mtg/contract.ts), merged into the service façade.
import type { HandlersFor } from '#shared/handlers';
import type { JobId } from '#shared/ids';
import type { MtgInvokeResults } from '#shared/mtg/contract';
import type { BatchRound } from '#shared/mtg/types';
import { listJobBatches } from '../db/repos/batches';
import { listMtgRunsForImage } from '../db/repos/mtg';
import type { ReadableDb } from '../db/types';
import type { Workspace } from '../workspace';
import { estimateMtg, setMtgBudget, startMtg } from './mtg';

/** A job's Batch API submissions as the API shows them, round by round. */
export function listBatchRounds(db: ReadableDb, jobId: JobId): BatchRound[] {
  return listJobBatches(db, jobId).map((b) => ({
    round: b.round,
    try: b.try,
    status: b.status,
    requests: b.request_count,
    completed: b.completed_count,
    failed: b.failed_count,
    providerBatchId: b.provider_batch_id,
  }));
}

export function mtgHandlers(ws: Workspace): HandlersFor<keyof MtgInvokeResults> {
  return {
    'mtg:start': (arg) => startMtg(ws, arg),
    'mtg:runs': ({ imageId }) => listMtgRunsForImage(ws.reader, imageId),
    'mtg:estimate': (arg) => estimateMtg(ws, arg),
    'mtg:budget': (arg) => setMtgBudget(ws, arg),
    'mtg:batches': ({ jobId }) => listBatchRounds(ws.reader, jobId),
  };
}
