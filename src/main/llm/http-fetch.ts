import http from 'node:http';
import https from 'node:https';

// A minimal `fetch` for the openai SDK over node:http with keep-alive agents. Node's built-in fetch
// (undici) costs several times more CPU per request than node:http (measured ~0.9 ms against ~0.15 ms
// per call to a local server); at hundreds of calls per second that is the whole budget. Bodies are
// buffered (we never stream), so the SDK's timeout covers the full answer, not just the headers.
// Concurrency is bounded by the endpoint limiter, so the agents put no cap of their own.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity }),
};

/** Error bodies as received, for messages when the SDK did not understand their shape. */
export const errorBodies = new WeakMap<Headers, string>();

const abortError = (): Error => new DOMException('This operation was aborted', 'AbortError');

export const nodeFetch: typeof fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const signal = init?.signal ?? undefined;
  const body = init?.body;
  if (body !== undefined && body !== null && typeof body !== 'string') {
    // Only JSON strings are sent by the calls we make; anything else goes the standard way.
    return fetch(input, init);
  }
  const lib = url.protocol === 'https:' ? https : http;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((v, k) => {
    headers[k] = v;
  });
  if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));

  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const req = lib.request(url, { method: init?.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        const h = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
        const status = res.statusCode ?? 0;
        const buf = Buffer.concat(chunks);
        const nullBody = status === 204 || status === 304 || status < 200;
        const response = new Response(nullBody ? null : buf, {
          status: status < 200 ? 500 : status,
          statusText: res.statusMessage ?? '',
          headers: h,
        });
        if (status >= 400) errorBodies.set(response.headers, buf.toString('utf8'));
        resolve(response);
      });
    });
    const onAbort = (): void => {
      req.destroy(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? abortError() : err);
    });
    req.end(body ?? undefined);
  });
};
