// The renderer's only way to the main process. Two transports behind one interface: Electron IPC
// (window.ctgi, from the preload) in the desktop app, HTTP + server-sent events under `ctgi serve`.
import type { Bridge } from '../../../shared/bridge';
import { MEDIA_PROTOCOL } from '../../../shared/bridge';
import type {
  ApiError,
  ApiResult,
  Channel,
  EventMap,
  EventName,
  ImageVariant,
  InvokeArg,
  InvokeResults,
} from '../../../shared/contract';
import { EVENT_NAMES } from '../../../shared/contract';
import type { ImageId } from '../../../shared/ids';

declare global {
  interface Window {
    ctgi?: Bridge;
  }
}

/** A failed call, with the code and the user-facing message from the main process. */
export class ApiCallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'ApiCallError';
  }
}

interface Transport extends Bridge {
  imageUrl(id: ImageId, variant: ImageVariant): string;
}

const TOKEN_KEY = 'ctgi.token';

/** Under `ctgi serve`: the printed URL carries `?token=`; keep it for this tab and clean the address bar. */
function httpTransport(): Transport {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  let source: EventSource | null = null;
  const connect = (): void => {
    if (source) return;
    // EventSource cannot send headers: the session cookie set by the page load authenticates it.
    source = new EventSource('/api/events');
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (e) => {
        const payload: unknown = JSON.parse((e as MessageEvent<string>).data);
        for (const l of listeners.get(name) ?? []) l(payload);
      });
    }
  };
  return {
    async invoke(channel, arg) {
      const res = await fetch(`/api/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ctgi-token': token },
        body: JSON.stringify(arg ?? {}),
      });
      if (res.status === 401) {
        return {
          ok: false,
          error: {
            code: 'unauthorized',
            message: 'The server refused the token. Open the URL that `ctgi serve` printed.',
          },
        };
      }
      return (await res.json()) as ApiResult<unknown>;
    },
    on(event, listener) {
      connect();
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (p: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (p: unknown) => void);
    },
    imageUrl: (id, variant) => `/media/images/${id}/${variant}`,
  };
}

function ipcTransport(bridge: Bridge): Transport {
  return {
    invoke: (channel, arg) => bridge.invoke(channel, arg),
    on: (event, listener) => bridge.on(event, listener),
    imageUrl: (id, variant) => `${MEDIA_PROTOCOL}://image/${id}/${variant}`,
  };
}

const transport: Transport = window.ctgi ? ipcTransport(window.ctgi) : httpTransport();

export async function invoke<C extends Channel>(channel: C, arg: InvokeArg<C>): Promise<InvokeResults[C]> {
  const result = await transport.invoke(channel, arg);
  if (!result.ok) throw new ApiCallError(result.error);
  return result.value as InvokeResults[C];
}

export function subscribe<E extends EventName>(
  event: E,
  listener: (payload: EventMap[E]) => void,
): () => void {
  return transport.on(event, listener);
}

export const imageUrl = (id: ImageId, variant: ImageVariant): string => transport.imageUrl(id, variant);
