import { CHANNEL_ROLE, mayCall } from '#shared/access';
import type { ApiResult } from '#shared/contract';
import { OWNER, type Caller } from '#shared/team/types';
import { isChannel } from '#shared/channels';
import { invokeSchemas } from '#shared/contract';
import type { Handlers } from '#shared/handlers';
import { mergeFeatures } from '#shared/merge';
import { toApiError } from '../errors';
import { libraryHandlers } from '../datasets/handlers';
import { footageHandlers } from '../footage/handlers';
import { jobsHandlers } from '../jobs/handlers';
import { modelsHandlers } from '../jobs/models-handlers';
import { mtgHandlers } from '../jobs/mtg-handlers';
import { reviewHandlers } from '../review/handlers';
import { evalHandlers } from '../search/eval-handlers';
import { searchHandlers } from '../search/handlers';
import { mtiHandlers } from '../search/mti-handlers';
import { llmHandlers } from '../settings/handlers';
import { teamHandlers } from '../team/handlers';
import type { Workspace } from '../workspace';

export type { Handlers };

/**
 * The service façade: the only code the transports call. It holds no transport detail and no rule of its
 * own: each feature's handlers live in that feature's module (CONTEXT.md maps channel nouns to features),
 * and a channel two features define is refused here when the handlers are built. Typed `Handlers`, so a
 * channel of the contract with no handler does not compile.
 */
export function createHandlers(ws: Workspace): Handlers {
  return mergeFeatures({
    library: libraryHandlers(ws),
    jobs: jobsHandlers(ws),
    models: modelsHandlers(ws),
    llm: llmHandlers(ws),
    mtg: mtgHandlers(ws),
    search: searchHandlers(ws),
    eval: evalHandlers(ws),
    review: reviewHandlers(ws),
    mti: mtiHandlers(ws),
    footage: footageHandlers(ws),
    team: teamHandlers(ws),
  });
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
