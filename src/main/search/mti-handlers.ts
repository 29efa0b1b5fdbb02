// The handlers of MTI's channels (src/shared/mti/contract.ts), spread into the service façade.
import type { HandlersFor } from '#shared/handlers';
import type { MtiInvokeResults } from '#shared/mti/contract';
import { deleteSearch, markInterruptedSearches } from '../db/repos/searches';
import { evalMtiReport, startEvalMti } from '../jobs/eval-mti';
import type { Workspace } from '../workspace';
import { withFootage } from './text-search';
import {
  cancelMtiSearch,
  dropSession,
  getMtiSearch,
  listMtiSearches,
  startMtiSearch,
  stepMtiSearch,
  type MtiHost,
} from './mti-service';

export function mtiHandlers(ws: Workspace): HandlersFor<keyof MtiInvokeResults> {
  const { db } = ws;
  // A search that was running when the last process ended can never finish: say so once, at open.
  markInterruptedSearches(db);
  // The search's model calls share the workspace's limiters, pools and calls in flight.
  const host = (): MtiHost => ({
    db,
    encoders: ws.services.encoders,
    vectors: ws.services.vectors,
    sessions: ws.mti,
    keyStore: ws.services.keys,
    llm: { runtime: ws.services.llm },
    emit: (p) => ws.bus.emit('mti:progress', p),
  });
  return {
    'eval:mti-start': (arg) => startEvalMti(ws, arg),
    'eval:mti-report': (arg) => evalMtiReport(ws, arg),
    'mti:start': async (arg) => withFootage(db, await startMtiSearch(host(), arg)),
    'mti:step': async (arg) => withFootage(db, await stepMtiSearch(host(), arg)),
    'mti:cancel': ({ id }) => cancelMtiSearch(ws.mti, id),
    'searches:list': ({ limit }) => listMtiSearches(db, limit),
    'searches:get': ({ id }) => withFootage(db, getMtiSearch(db, id)),
    'searches:delete': ({ id }) => {
      cancelMtiSearch(ws.mti, id);
      dropSession(ws.mti, id);
      return { deleted: deleteSearch(db, id) };
    },
  };
}
