// The MLLM side's channels (src/shared/llm/contract.ts: endpoints, usage, prompts), what the Settings
// screens call; merged into the service façade. A folder of its own, since llm/ (the client) sits a layer
// below the workspace these take.
import type { HandlersFor } from '#shared/handlers';
import type { LlmInvokeResults } from '#shared/llm/contract';
import { listEndpoints } from '../db/repos/llm';
import { AppError } from '../errors';
import { usage } from '../llm/cost';
import { endpointReplicas, probeEndpointByName, removeEndpoint, saveEndpoint } from '../llm/endpoints';
import type { KeyStore } from '../llm/keys';
import { listPromptSetsWithDefault, savePromptSetChecked } from '../jobs/mtg';
import type { Workspace } from '../workspace';

/** Moves a damaged app keychain aside (desktop app only: elsewhere there is none to reset). */
export async function resetKeyStore(store: KeyStore): Promise<{ keptAs: string | null }> {
  if (!store.reset)
    throw new AppError(
      'unavailable',
      'There is no app keychain here (it exists only in the desktop app), so there is nothing to reset.',
    );
  return { keptAs: await store.reset() };
}

export function llmHandlers(ws: Workspace): HandlersFor<keyof LlmInvokeResults> {
  const { db } = ws;
  // Read on each call, as the workspace's services are.
  const keys = () => ws.services.keys;
  return {
    'endpoints:list': () => listEndpoints(ws.reader),
    'endpoints:save': (arg) => saveEndpoint(db, arg, keys()),
    'endpoints:reset-key-store': () => resetKeyStore(keys()),
    'endpoints:delete': ({ name }) => removeEndpoint(db, name, keys()),
    'endpoints:probe': ({ name }) => probeEndpointByName(db, name, keys(), ws.services.llm),
    'endpoints:replicas': ({ name }) => endpointReplicas(db, name, ws.services.llm),
    'usage:summary': ({ by, jobId, sinceMs }) => usage(db, by, { jobId, sinceMs }),
    'prompts:list': () => listPromptSetsWithDefault(db),
    'prompts:save': ({ body }) => savePromptSetChecked(db, body),
  };
}
