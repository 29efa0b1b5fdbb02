// Retrieval evaluation's channel (src/shared/eval/contract.ts), merged into the service façade. Here in
// search/: it ranks through the same vector store as a search.
import type { EvalInvokeResults } from '#shared/eval/contract';
import type { HandlersFor } from '#shared/handlers';
import { evaluateRetrieval } from '../pipelines/eval';
import type { Workspace } from '../workspace';
import { galleryScorer } from './store-search';

export function evalHandlers(ws: Workspace): HandlersFor<keyof EvalInvokeResults> {
  return {
    'eval:run': ({ modelId, split, datasetId, queries, protocol, captionSource, distractors }) =>
      evaluateRetrieval(ws.db, {
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
