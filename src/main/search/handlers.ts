// Text → image search's channels (src/shared/search/contract.ts), merged into the service façade.
import type { HandlersFor } from '#shared/handlers';
import type { SearchInvokeResults } from '#shared/search/contract';
import type { Workspace } from '../workspace';
import { queryTokens, searchText } from './text-search';

export function searchHandlers(ws: Workspace): HandlersFor<keyof SearchInvokeResults> {
  return {
    'search:text': (arg) => searchText(ws, arg),
    'search:tokens': ({ modelId, query }) => queryTokens(ws.reader, modelId, query),
  };
}
