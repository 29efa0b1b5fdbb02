// CLIP models' channels (src/shared/models/contract.ts: models, embed), merged into the service façade.
// Here beside jobs/embed.ts: what a model is registered for is the embedding job.
import type { HandlersFor } from '#shared/handlers';
import type { ModelsInvokeResults } from '#shared/models/contract';
import { listModels } from '../db/repos/models';
import { registerModel } from '../ml/models';
import type { Workspace } from '../workspace';
import { startEmbed } from './embed';

export function modelsHandlers(ws: Workspace): HandlersFor<keyof ModelsInvokeResults> {
  const { db } = ws;
  return {
    'models:list': () => listModels(ws.reader),
    'models:register': ({ folder, name, variant }) => registerModel(db, folder, name, variant),
    'embed:start': (arg) => startEmbed(ws, arg),
  };
}
