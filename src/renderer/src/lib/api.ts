// The renderer's only way to the main process. Two transports behind one interface: Electron IPC
// (window.ctgi, from the preload) in the desktop app, HTTP + server-sent events under `ctgi serve`.
import type { Bridge } from '#shared/bridge';
import { MEDIA_PROTOCOL } from '#shared/bridge';
import type {
  ApiError,
  ApiResult,
  Channel,
  EventMap,
  EventName,
  ImageVariant,
  InvokeArg,
  InvokeResults,
} from '#shared/contract';
import { mediaKeyFor, signedMediaUrl } from '#shared/media-url';
import type { ImageId } from '#shared/ids';

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
  /** Under `ctgi serve`: use this token from now on (the login page's pasted link). */
  signIn?(token: string): void;
}

const TOKEN_KEY = 'ctgi.token';
const RETRY_MS = 3000;
/** After a 429 (too many streams for this client), wait longer before trying again. */
const BUSY_RETRY_MS = 30_000;
/** How long a tab opened without the token waits for another tab of this origin to share it. */
const TOKEN_ASK_MS = 400;

/**
 * Reads a text/event-stream body and hands each event to `deliver`; resolves when the stream ends.
 * A fetch-based reader rather than EventSource, which cannot send the token header.
 */
async function readEventStream(
  body: ReadableStream<Uint8Array>,
  deliver: (event: string, data: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) deliver(event, data.join('\n'));
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Under `ctgi serve`. The printed URL carries `?token=`: the page keeps it in sessionStorage (per tab and
 * per origin, port included, so no other local server ever sees it, and a reload still has it), cleans
 * the address bar, and sends it in a header on every call and on the event stream. No cookie: cookies
 * ignore ports. Images go by URLs signed with a key derived from the token (shared/media-url.ts). Tabs
 * of one origin share the token, so a new tab works while another one is open.
 */
function httpTransport(): Transport {
  const params = new URLSearchParams(location.search);
  // A teammate's link (`ctgi users --add`) carries it in the fragment (`#token=…`), which no request
  // ever sends; the app's own routes (`#/review`) are left alone.
  const fromHash = /^#token=([^&#]+)$/.exec(location.hash)?.[1];
  const fromUrl = params.get('token') ?? (fromHash ? decodeURIComponent(fromHash) : null);
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const rest = params.toString();
    const hash = fromHash ? '' : location.hash;
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${hash}`);
  }
  let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  let mediaKey = mediaKeyFor(token);
  const adopt = (t: string): void => {
    token = t;
    mediaKey = mediaKeyFor(t);
    sessionStorage.setItem(TOKEN_KEY, t);
  };
  // A tab opened without the token (a bookmark, a link opened in a new tab) asks this origin's other tabs
  // for it; a BroadcastChannel never leaves the origin, so other servers on this host hear nothing. Calls
  // wait for the answer, briefly: with no other tab open, they go out without a token and say what to open.
  const tabs = new BroadcastChannel('ctgi.session');
  let haveToken: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    haveToken = resolve;
    if (token) resolve();
    else setTimeout(resolve, TOKEN_ASK_MS);
  });
  tabs.onmessage = (e: MessageEvent<{ ask?: boolean; token?: string }>) => {
    if (e.data.ask && token) tabs.postMessage({ token });
    else if (e.data.token && !token) {
      adopt(e.data.token);
      haveToken();
    }
  };
  if (!token) tabs.postMessage({ ask: true });
  // Media URLs expire by the server's clock; its Date header tells how far ours is off.
  let clockOffsetMs = 0;
  const noteServerTime = (res: Response): void => {
    const date = Date.parse(res.headers.get('date') ?? '');
    if (Number.isFinite(date)) clockOffsetMs = date - Date.now();
  };

  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  let streaming = false;
  const deliver = (event: string, data: string): void => {
    const set = listeners.get(event as EventName);
    if (!set) return;
    const payload: unknown = JSON.parse(data);
    for (const l of set) l(payload);
  };
  const connect = (): void => {
    if (streaming) return;
    streaming = true;
    void (async () => {
      await ready;
      // Reconnects after the server restarts or the network drops, as EventSource would.
      for (;;) {
        let wait = RETRY_MS;
        try {
          const res = await fetch('/api/events', { headers: { 'x-ctgi-token': token }, cache: 'no-store' });
          noteServerTime(res);
          if (res.status === 401) {
            console.warn(
              'The server refused the token for live updates. Open the URL that `ctgi serve` printed.',
            );
            return;
          }
          if (res.status === 429) wait = BUSY_RETRY_MS;
          else if (res.ok && res.body) await readEventStream(res.body, deliver);
        } catch {
          // The server is gone for now: try again shortly.
        }
        await sleep(wait);
      }
    })();
  };
  return {
    async invoke(channel, arg) {
      await ready;
      const res = await fetch(`/api/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ctgi-token': token },
        body: JSON.stringify(arg ?? {}),
      });
      noteServerTime(res);
      if (res.status === 401) {
        // A revoked link: the server says so (and what to do); else this page's own words.
        const said = (await res.json().catch(() => null)) as ApiResult<unknown> | null;
        if (said && !said.ok && /revoked/.test(said.error.message)) return said;
        return {
          ok: false,
          error: {
            code: 'unauthorized',
            message: token
              ? 'The server refused this tab’s token (a new one is made at every start of `ctgi serve`). Open the URL it printed.'
              : 'This tab has no access token. Open the URL that `ctgi serve` printed (it ends in ?token=…).',
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
    imageUrl: (id, variant) => signedMediaUrl(mediaKey, id, variant, Date.now() + clockOffsetMs),
    signIn: (t) => {
      adopt(t);
      haveToken();
    },
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

/** True under `ctgi serve` (a browser), false in the desktop app (the local admin, no login). */
export const isServed = transport.signIn !== undefined;

/**
 * The token in a pasted link (`…/#token=…`, `…?token=…`) or the bare token; null when there is none.
 * The page keeps it in sessionStorage and sends it in a header, never a cookie: cookies ignore ports,
 * so a cookie would reach every other server on this host (issue 12.9).
 */
export function tokenFromLink(text: string): string | null {
  const t = text.trim();
  const m = /[#?&]token=([^&#\s]+)/.exec(t);
  if (m) return decodeURIComponent(m[1]!);
  return /^[\w-]{16,200}$/.test(t) ? t : null;
}

export function signIn(token: string): void {
  transport.signIn?.(token);
}
