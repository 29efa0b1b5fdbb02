// HTTP transport for `ctgi serve`: the same handlers as the Electron window, behind one access token.
// Plain node:http on purpose: five routes do not need a framework, and every header is visible here.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { ApiResult, ErrorCode } from '../../shared/contract';
import { EVENT_NAMES } from '../../shared/contract';
import { AppError } from '../errors';
import { mediaResponse } from '../media/serve';
import { resolveInside } from '../media/paths';
import type { Workspace } from '../workspace';
import { createHandlers, dispatch } from './handlers';

/** API calls carry the token in this header (src/renderer/src/lib/api.ts sends it). */
export const TOKEN_HEADER = 'x-ctgi-token';
/** JSON bodies larger than this are refused: no call in the contract needs more. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  internal: 500,
  unavailable: 503,
};

// The same policy as the <meta> in src/renderer/index.html, plus what only a header can say
// (frame-ancestors). no-referrer keeps the token in the page URL out of any Referer header.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const STATIC_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

const gzip = promisify(gzipCallback);
const COMPRESSIBLE = /^(text\/|application\/(json|wasm)|image\/svg)/;

/**
 * Gzipped copies of the renderer's files, made once per build (the key holds the ETag). The bundle is
 * ~1.5 MB of JavaScript: nothing on loopback, but seconds for a teammate on a slow link to a GPU server.
 */
const gzipped = new Map<string, Buffer>();
async function gzippedFile(file: string, etag: string): Promise<Buffer> {
  const key = `${file}\0${etag}`;
  let body = gzipped.get(key);
  if (!body) {
    body = await gzip(await readFile(file));
    if (gzipped.size >= 64) gzipped.clear();
    gzipped.set(key, body);
  }
  return body;
}

export const UNAUTHORIZED_MESSAGE =
  'This CTGI Studio server needs its access token. Open the URL that `ctgi serve` printed (it ends in ?token=…).';

export interface HttpServerOptions {
  /** Loopback unless asked: the token is then the only guard (the CLI warns). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** A fixed token; by default a fresh random one per start. */
  token?: string;
  /** The built renderer (`out/renderer`); null serves the API alone and pages say how to build it. */
  staticDir?: string | null;
  heartbeatMs?: number;
}

export interface RunningHttpServer {
  /** The address to open, token included. */
  url: string;
  token: string;
  host: string;
  port: number;
  /** Ends event streams and open connections; the workspace stays open (its owner closes it). */
  close(): Promise<void>;
}

export const newToken = (): string => randomBytes(24).toString('base64url');

/** Constant-time comparison; hashing first makes the lengths equal without leaking the real one. */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The file under `root` that a URL path names, or null when the path tries to leave it (`..`,
 * encoded slashes, NUL) or names a hidden file. The empty path is index.html.
 */
export function staticFileFor(root: string, pathname: string): string | null {
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
  if (segments.some((s) => s.startsWith('.') || /[/\\\0]/.test(s))) return null;
  return resolveInside(root, segments.length === 0 ? 'index.html' : segments.join('/'));
}

/** Where to point a browser: a wildcard bind is still reached through loopback from this machine. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

type Headers = Record<string, string | number | string[]>;

function send(res: ServerResponse, status: number, headers: Headers, body?: Buffer | string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, result: ApiResult<unknown>): void {
  send(
    res,
    status,
    { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    JSON.stringify(result),
  );
}

function sendApiError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  status = STATUS_BY_CODE[code],
): void {
  sendJson(res, status, { ok: false, error: { code, message } });
}

function sendText(res: ServerResponse, status: number, message: string): void {
  send(res, status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, message);
}

/** Reads at most `limit` bytes; null when the body is larger (the caller answers 413). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startHttpServer(
  ws: Workspace,
  opts: HttpServerOptions = {},
): Promise<RunningHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? newToken();
  const staticDir = opts.staticDir ?? null;
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const handlers = createHandlers(ws);
  const streams = new Set<ServerResponse>();
  // Cookies ignore ports: name ours after the port so two servers on one host don't log each other out.
  let cookieName = 'ctgi_token';

  const authorized = (
    req: IncomingMessage,
    url: URL,
    isPage: boolean,
  ): { ok: boolean; viaQuery: boolean } => {
    const header = req.headers[TOKEN_HEADER];
    if (typeof header === 'string' && header !== '' && tokensEqual(header, token))
      return { ok: true, viaQuery: false };
    const cookie = readCookie(req.headers.cookie, cookieName);
    if (cookie !== undefined && tokensEqual(cookie, token)) return { ok: true, viaQuery: false };
    // Only a page load may carry the token in its URL; it is then swapped for the cookie.
    const query = isPage ? url.searchParams.get('token') : null;
    if (query !== null && tokensEqual(query, token)) return { ok: true, viaQuery: true };
    return { ok: false, viaQuery: false };
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, channel: string): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendApiError(res, 'bad_request', `Call ${channel} with POST and a JSON body.`, 405);
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return sendApiError(
        res,
        'bad_request',
        'Send the argument as JSON with content-type: application/json.',
        415,
      );
    }
    const body = await readBody(req, BODY_LIMIT_BYTES);
    if (body === null) {
      res.setHeader('connection', 'close');
      return sendApiError(
        res,
        'bad_request',
        `The request body is larger than ${BODY_LIMIT_BYTES} bytes.`,
        413,
      );
    }
    let arg: unknown = {};
    if (body.length > 0) {
      try {
        arg = JSON.parse(body.toString('utf8'));
      } catch {
        return sendApiError(res, 'bad_request', `The body of ${channel} is not valid JSON.`);
      }
    }
    const result = await dispatch(handlers, channel, arg);
    sendJson(res, result.ok ? 200 : STATUS_BY_CODE[result.error.code], result);
  };

  const handleEvents = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies (nginx) would otherwise hold events back until a buffer fills.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const offs = EVENT_NAMES.map((name) =>
      ws.bus.on(name, (payload) => {
        res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
      }),
    );
    // A comment line now and then keeps idle proxies and the browser from dropping the stream.
    const beat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    streams.add(res);
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(beat);
      for (const off of offs) off();
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  };

  const handleMedia = async (
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    variant: string,
  ): Promise<void> => {
    const ifNoneMatch = req.headers['if-none-match'];
    const media = await mediaResponse(ws, Number(id), variant, { ifNoneMatch });
    send(
      res,
      media.status,
      media.headers,
      req.method === 'HEAD' || media.status === 304 ? undefined : media.body,
    );
  };

  const handleStatic = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    setCookie: boolean,
  ): Promise<void> => {
    if (setCookie) {
      res.setHeader('set-cookie', `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    if (staticDir === null) {
      return sendText(
        res,
        503,
        'The web interface is not built yet: run `npm run build`, then restart `ctgi serve`.',
      );
    }
    let file = staticFileFor(staticDir, url.pathname);
    if (file === null)
      return sendText(res, 400, `Refused path ${url.pathname}: it points outside the web interface.`);
    let info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      // Client-side routes (/jobs, /library/3) are pages of the single-page app; a missing asset is a 404.
      // Browsers ask for /favicon.ico on their own; "nothing" is a better answer than an error in the console.
      if (url.pathname === '/favicon.ico')
        return send(res, 204, { 'cache-control': 'private, max-age=86400' });
      if (extname(file) !== '') return sendText(res, 404, `${url.pathname} does not exist.`);
      file = join(staticDir, 'index.html');
      info = await stat(file).catch(() => null);
      if (!info?.isFile())
        return sendText(res, 503, 'The web interface build is incomplete: run `npm run build`.');
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    // Vite puts content hashes in the names under assets/, so those never change; the page itself must
    // be revalidated to pick up a new build.
    const hashed = file.startsWith(join(staticDir, 'assets') + '/');
    const headers: Headers = {
      'content-type': STATIC_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': hashed ? 'private, max-age=31536000, immutable' : 'no-cache',
      etag,
    };
    if (req.headers['if-none-match'] === etag) return send(res, 304, headers);
    let body: Buffer;
    const compressible = info.size > 1024 && COMPRESSIBLE.test(String(headers['content-type']));
    if (compressible) headers.vary = 'accept-encoding';
    if (compressible && /\bgzip\b/.test(String(req.headers['accept-encoding']))) {
      body = await gzippedFile(file, etag);
      headers['content-encoding'] = 'gzip';
    } else body = await readFile(file);
    headers['content-length'] = body.length;
    send(res, 200, headers, req.method === 'HEAD' ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ctgi.invalid');
    const path = url.pathname;
    const isApi = path.startsWith('/api/');
    const isMedia = path.startsWith('/media/');
    const isPage = !isApi && !isMedia;
    const auth = authorized(req, url, isPage);
    if (!auth.ok) {
      if (isApi) return sendApiError(res, 'unauthorized', UNAUTHORIZED_MESSAGE);
      return sendText(res, 401, UNAUTHORIZED_MESSAGE);
    }
    if (path === '/api/events') {
      if (req.method !== 'GET') {
        res.setHeader('allow', 'GET');
        return sendApiError(res, 'bad_request', 'Subscribe to /api/events with GET (EventSource).', 405);
      }
      return handleEvents(req, res);
    }
    if (isApi) {
      let channel: string;
      try {
        channel = decodeURIComponent(path.slice('/api/'.length));
      } catch {
        channel = path.slice('/api/'.length);
      }
      return handleApi(req, res, channel);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendText(res, 405, `${req.method ?? 'This method'} is not allowed here.`);
    }
    if (isMedia) {
      const m = /^\/media\/images\/([^/]+)\/([^/]+)$/.exec(path);
      if (!m) return sendText(res, 404, 'Media URLs look like /media/images/<id>/<thumb|full>.');
      return handleMedia(req, res, m[1] ?? '', m[2] ?? '');
    }
    return handleStatic(req, res, url, auth.viaQuery);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      if (req.url?.startsWith('/api/')) sendApiError(res, 'internal', `Unexpected error: ${message}`);
      else sendText(res, 500, `Unexpected error: ${message}`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(
          new AppError(
            'unavailable',
            `Port ${opts.port} on ${host} is in use: pick another with --port, or --port 0 for any free port.`,
          ),
        );
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(
          new AppError('bad_request', `Cannot listen on ${host}: it is not an address of this machine.`),
        );
      } else reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port ?? 0, host);
  });

  const port = (server.address() as AddressInfo).port;
  cookieName = `ctgi_token_${port}`;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${displayHost(host)}:${port}/?token=${token}`,
    token,
    host,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
