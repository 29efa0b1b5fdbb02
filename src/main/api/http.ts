// HTTP transport for `ctgi serve`: the same handlers as the Electron window, behind one access token.
// Plain node:http on purpose: four routes do not need a framework, and every header is visible here.
//
// Where the credential travels (issue 12.9): the page takes the token from the URL `ctgi serve` printed,
// keeps it in sessionStorage (per origin, port included) and sends it in the x-ctgi-token header on every
// API call and on the event stream. No cookie ever carries it: cookies ignore ports, so one would reach
// every other server on 127.0.0.1. Images, which an <img> fetches without headers, go by short-lived
// signed URLs (shared/media-url.ts). The page and its assets are public: they hold no data.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { ApiResult, ErrorCode, EventMap, EventName } from '#shared/contract';
import { EVENT_NAMES } from '#shared/channels';
import { MEDIA_URL_MAX_LEAD_S, mediaKeyFor, signMediaPath } from '#shared/media-url';
import { OWNER, type Caller } from '#shared/team/types';
import { AppError } from '../errors';
import { isKnownTokenHash } from '../db/repos/users';
import { hashToken, userActive, userByToken } from '../team/users';
import { mediaResponse } from '../media/serve';
import { realPathInside, resolveInside } from '../media/paths';
import type { Workspace } from '../workspace';
import { createHandlers, dispatch } from './handlers';

/** API calls carry the token in this header (src/renderer/src/lib/api.ts sends it). */
export const TOKEN_HEADER = 'x-ctgi-token';
/** JSON bodies larger than this are refused: no call in the contract needs more. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;
/**
 * Open event streams per client (one per tab or window; a browser opens at most six connections to one
 * server anyway). Beyond it a stream is refused with 429, so one client cannot exhaust the server.
 */
export const MAX_STREAMS_PER_CLIENT = 16;
/** A stream whose client stopped reading is dropped once this much waits in its buffer (it reconnects). */
const STREAM_BUFFER_LIMIT = 4 * 1024 * 1024;

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

export const REVOKED_MESSAGE =
  'This link was revoked by an admin of this CTGI Studio server: ask them for a new one.';
export const UNAUTHORIZED_MESSAGE =
  'This CTGI Studio server needs its access token. Open the URL that `ctgi serve` printed (it ends in ?token=…).';
const EXPIRED_MEDIA_MESSAGE =
  'This image link has expired or was altered: reload the page for fresh links (they last 10 to 20 minutes).';

/**
 * Every route the server answers, in the order they are matched; the router dispatches through this
 * table, and `npm run audit:server` tries every row with every way of presenting a credential, so a
 * route cannot be added without being audited.
 */
export const HTTP_ROUTES = [
  {
    name: 'events',
    path: '/api/events',
    methods: ['GET'],
    access: 'token',
    sameOriginOnly: true,
    matches: (p: string): boolean => p === '/api/events',
  },
  {
    name: 'api',
    path: '/api/<channel>',
    methods: ['POST'],
    access: 'token',
    sameOriginOnly: true,
    matches: (p: string): boolean => p.startsWith('/api/'),
  },
  {
    name: 'media',
    path: '/media/images/<id>/<thumb|full|frame>',
    methods: ['GET', 'HEAD'],
    /** The token header, or a signed URL (shared/media-url.ts): an <img> cannot send headers. */
    access: 'token-or-signed-url',
    sameOriginOnly: true,
    matches: (p: string): boolean => p.startsWith('/media/'),
  },
  {
    name: 'static',
    path: '/<file of the web interface>',
    methods: ['GET', 'HEAD'],
    /** The built renderer: the same for everyone, no data in it, and it must load before the token is read. */
    access: 'public',
    sameOriginOnly: false,
    matches: (): boolean => true,
  },
] as const;
export type HttpRoute = (typeof HTTP_ROUTES)[number];
export type RouteAccess = HttpRoute['access'];

export const routeFor = (pathname: string): HttpRoute => HTTP_ROUTES.find((r) => r.matches(pathname))!;

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
  /** Default MAX_STREAMS_PER_CLIENT. */
  maxStreamsPerClient?: number;
  /** Per-user limits on expensive starts; default RATE_LIMITS. */
  rateLimits?: Partial<Record<string, RateLimit>>;
}

export interface RateLimit {
  max: number;
  windowMs: number;
}
/**
 * A named user may start this many of these in the window (the owner is not limited): one teammate
 * cannot fill the GPU queue or spend the MLLM budget for everyone else.
 */
export const RATE_LIMITS: Readonly<Record<string, RateLimit>> = {
  'mti:start': { max: 30, windowMs: 60_000 },
  'mtg:start': { max: 5, windowMs: 60_000 },
};

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

/**
 * The file under `root` that a URL path names, or null when the path tries to leave it (`..`,
 * encoded slashes, NUL) or names a hidden file. The empty path is index.html. Links are checked later,
 * on the real path (realPathInside).
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

/**
 * Why a request must be refused as coming from another site, or null. Browsers mark every fetch with
 * Sec-Fetch-Site and every POST with Origin; "same-site" counts as foreign here, because another server
 * on 127.0.0.1 (another port) is the same site. A request without either header is not from a web page
 * (curl, a script): the token alone decides.
 */
export function foreignOrigin(req: IncomingMessage): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `the browser marked it ${site}`;
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  let host = '';
  try {
    host = new URL(origin).host;
  } catch {
    // "null" (a file:// page, a sandboxed frame) or garbage: not this server's page either way.
  }
  if (host === '' || host !== (req.headers.host ?? '').toLowerCase()) return `it comes from ${origin}`;
  return null;
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

/** An error in the form the route speaks: an ApiResult under /api/, plain text elsewhere. */
function refuse(
  res: ServerResponse,
  route: HttpRoute,
  code: ErrorCode,
  message: string,
  status = STATUS_BY_CODE[code],
): void {
  if (route.name === 'api' || route.name === 'events') sendApiError(res, code, message, status);
  else sendText(res, status, message);
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
  const mediaKey = mediaKeyFor(token);
  const staticDir = opts.staticDir ?? null;
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const maxStreamsPerClient = opts.maxStreamsPerClient ?? MAX_STREAMS_PER_CLIENT;
  const handlers = createHandlers(ws);

  const rateLimits = { ...RATE_LIMITS, ...opts.rateLimits };
  /** Media keys of the named users seen this run (from their header): their pages sign image URLs with them. */
  const userMediaKeys = new Map<number, Uint8Array>();

  /**
   * Who the token header names: the owner (this run's token), an active named user (looked up at every
   * request, so a revoked link is out at once), 'revoked', or null (none, or not a token of this server).
   */
  const callerOf = (req: IncomingMessage): { caller: Caller; key: string } | 'revoked' | null => {
    const header = req.headers[TOKEN_HEADER];
    if (typeof header !== 'string' || header === '') return null;
    if (tokensEqual(header, token)) return { caller: OWNER, key: 'owner' };
    const user = userByToken(ws.db, header);
    if (user === null) {
      return isKnownTokenHash(ws.db, hashToken(header)) ? 'revoked' : null;
    }
    if (!userMediaKeys.has(user.id)) userMediaKeys.set(user.id, mediaKeyFor(header));
    return { caller: { kind: 'user', name: user.name, role: user.role }, key: `user:${user.id}` };
  };

  /**
   * A media URL signed for exactly this path, not expired nor too far ahead, with this run's key or the
   * key of a named user who is still active.
   */
  const signedUrlValid = (url: URL): boolean => {
    const exp = url.searchParams.get('exp') ?? '';
    const sig = url.searchParams.get('sig') ?? '';
    if (!/^\d{1,12}$/.test(exp) || sig === '') return false;
    const now = Date.now() / 1000;
    const expiry = Number(exp);
    if (expiry < now || expiry > now + MEDIA_URL_MAX_LEAD_S) return false;
    if (tokensEqual(sig, signMediaPath(mediaKey, url.pathname, expiry))) return true;
    for (const [id, key] of userMediaKeys) {
      if (!tokensEqual(sig, signMediaPath(key, url.pathname, expiry))) continue;
      if (userActive(ws.db, id)) return true;
      userMediaKeys.delete(id);
      return false;
    }
    return false;
  };

  const starts = new Map<string, number[]>();
  /** Null when this caller may start one more; else the seconds until they may. */
  const rateLimited = (caller: Caller, key: string, channel: string): number | null => {
    const limit = rateLimits[channel];
    if (caller.kind === 'owner' || limit === undefined) return null;
    const now = Date.now();
    const slot = `${key}\0${channel}`;
    const recent = (starts.get(slot) ?? []).filter((t) => t > now - limit.windowMs);
    if (recent.length >= limit.max) {
      starts.set(slot, recent);
      return Math.max(1, Math.ceil((recent[0]! + limit.windowMs - now) / 1000));
    }
    recent.push(now);
    starts.set(slot, recent);
    return null;
  };

  // ── Event streams: one bus subscription per event, fanned out to every open stream, so 150 streams
  // cost 3 bus listeners, not 450 (and no MaxListenersExceededWarning) — issue 12.7.
  interface Stream {
    res: ServerResponse;
    client: string;
    /** The named user whose link opened it (dropped at the next heartbeat once they are revoked). */
    userId: number | null;
  }
  const streams = new Set<Stream>();
  const streamsPerClient = new Map<string, number>();
  let unsubscribe: (() => void) | null = null;

  const broadcast = (frame: string): void => {
    for (const s of streams) {
      if (s.res.writableLength > STREAM_BUFFER_LIMIT) s.res.destroy();
      else s.res.write(frame);
    }
  };
  const subscribe = (): (() => void) => {
    const offs = EVENT_NAMES.map((name: EventName) =>
      ws.bus.on(name, (payload: EventMap[EventName]) =>
        broadcast(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`),
      ),
    );
    // A comment line now and then keeps idle proxies and the browser from dropping the streams.
    const beat = setInterval(() => {
      for (const s of streams) if (s.userId !== null && !userActive(ws.db, s.userId)) s.res.destroy();
      broadcast(': heartbeat\n\n');
    }, heartbeatMs);
    return () => {
      clearInterval(beat);
      for (const off of offs) off();
    };
  };

  const handleEvents = (
    req: IncomingMessage,
    res: ServerResponse,
    client: string,
    userId: number | null,
  ): void => {
    const open = streamsPerClient.get(client) ?? 0;
    if (open >= maxStreamsPerClient) {
      return sendApiError(
        res,
        'unavailable',
        `This client already has ${open} event streams open (one per tab or window of CTGI Studio): ` +
          'close the ones you do not need; the others keep updating.',
        429,
      );
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies (nginx) would otherwise hold events back until a buffer fills.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const stream: Stream = { res, client, userId };
    streams.add(stream);
    streamsPerClient.set(client, open + 1);
    unsubscribe ??= subscribe();
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      streams.delete(stream);
      const left = (streamsPerClient.get(client) ?? 1) - 1;
      if (left > 0) streamsPerClient.set(client, left);
      else streamsPerClient.delete(client);
      if (streams.size === 0) {
        unsubscribe?.();
        unsubscribe = null;
      }
    };
    req.on('close', stop);
    res.on('close', stop);
  };

  const handleApi = async (
    req: IncomingMessage,
    res: ServerResponse,
    channel: string,
    who: { caller: Caller; key: string },
  ): Promise<void> => {
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
    const wait = rateLimited(who.caller, who.key, channel);
    if (wait !== null) {
      res.setHeader('retry-after', String(wait));
      return sendApiError(
        res,
        'unavailable',
        `You started ${rateLimits[channel]!.max} of ${channel} in the last ${rateLimits[channel]!.windowMs / 1000} s, ` +
          `the most one person may on a shared server: try again in ${wait} s.`,
        429,
      );
    }
    const result = await dispatch(handlers, channel, arg, who.caller);
    sendJson(res, result.ok ? 200 : STATUS_BY_CODE[result.error.code], result);
  };

  const handleMedia = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    // Digits only: Number() would also read "0x1", "1.0" or "1e3" as an id.
    const m = /^\/media\/images\/([1-9]\d{0,14})\/([^/]+)$/.exec(path);
    if (!m) return sendText(res, 404, 'Media URLs look like /media/images/<id>/<thumb|full|frame>.');
    const ifNoneMatch = req.headers['if-none-match'];
    const media = await mediaResponse(ws, Number(m[1]), m[2] ?? '', { ifNoneMatch });
    send(
      res,
      media.status,
      media.headers,
      req.method === 'HEAD' || media.status === 304 ? undefined : media.body,
    );
  };

  const handleStatic = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (staticDir === null) {
      return sendText(
        res,
        503,
        'The web interface is not built yet: run `npm run build`, then restart `ctgi serve`.',
      );
    }
    const named = staticFileFor(staticDir, url.pathname);
    if (named === null)
      return sendText(res, 400, `Refused path ${url.pathname}: it points outside the web interface.`);
    // The real path, links followed, must stay in the web folder: a link planted there is not a way out.
    const regularFile = async (name: string): Promise<{ real: string; info: Stats } | 'outside' | null> => {
      const found = await realPathInside(staticDir, name);
      if (found.kind === 'outside') return 'outside';
      if (found.kind === 'missing') return null;
      const info = await stat(found.path).catch(() => null);
      return info?.isFile() ? { real: found.path, info } : null;
    };
    let file = named;
    let found = await regularFile(named);
    if (found === 'outside')
      return sendText(res, 403, `Refused ${url.pathname}: it is a link that leads out of the web interface.`);
    if (found === null) {
      // Client-side routes (/jobs, /library/3) are pages of the single-page app; a missing asset is a 404.
      // Browsers ask for /favicon.ico on their own; "nothing" is a better answer than an error in the console.
      if (url.pathname === '/favicon.ico')
        return send(res, 204, { 'cache-control': 'private, max-age=86400' });
      if (extname(named) !== '') return sendText(res, 404, `${url.pathname} does not exist.`);
      file = join(staticDir, 'index.html');
      found = await regularFile(file);
      if (found === null || found === 'outside')
        return sendText(res, 503, 'The web interface build is incomplete: run `npm run build`.');
    }
    const { real, info } = found;
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    // Vite puts content hashes in the names under assets/, so those never change; the page itself must
    // be revalidated to pick up a new build.
    const hashed = file.startsWith(join(staticDir, 'assets') + sep);
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
      body = await gzippedFile(real, etag);
      headers['content-encoding'] = 'gzip';
    } else body = await readFile(real);
    headers['content-length'] = body.length;
    send(res, 200, headers, req.method === 'HEAD' ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ctgi.invalid');
    const route = routeFor(url.pathname);
    // 1. Another site's page may not call in, with or without the token (CSRF, and stream or image
    //    reads from a page on another port of this host).
    const foreign = route.sameOriginOnly ? foreignOrigin(req) : null;
    if (foreign !== null) {
      return refuse(
        res,
        route,
        'forbidden',
        `Refused: ${foreign}, not from this CTGI Studio page. Open the app from the URL that \`ctgi serve\` printed.`,
      );
    }
    // 2. The credential: the token header only (never a cookie, never the query), or a signed media URL.
    //    The header names the owner or a named user; a revoked user is out at this very request.
    const found = route.access === 'public' ? null : callerOf(req);
    if (found === 'revoked') return refuse(res, route, 'unauthorized', REVOKED_MESSAGE);
    const presented = found;
    if (route.access !== 'public' && presented === null) {
      const signedOk = route.access === 'token-or-signed-url' && signedUrlValid(url);
      if (!signedOk) {
        const expired = route.access === 'token-or-signed-url' && url.searchParams.has('sig');
        return refuse(res, route, 'unauthorized', expired ? EXPIRED_MEDIA_MESSAGE : UNAUTHORIZED_MESSAGE);
      }
    }
    // 3. The method.
    if (!(route.methods as readonly string[]).includes(req.method ?? '')) {
      res.setHeader('allow', route.methods.join(', '));
      return refuse(
        res,
        route,
        'bad_request',
        `${req.method ?? 'This method'} is not allowed on ${route.path}: use ${route.methods.join(' or ')}` +
          (route.name === 'api' ? ' with a JSON body.' : '.'),
        405,
      );
    }
    switch (route.name) {
      case 'events':
        // Streams are counted per credential: the hash of the token that opened them.
        return handleEvents(
          req,
          res,
          createHash('sha256')
            .update(presented?.key ?? '')
            .digest('base64url'),
          presented?.caller.kind === 'user' ? Number(presented.key.slice('user:'.length)) : null,
        );
      case 'api': {
        let channel: string;
        try {
          channel = decodeURIComponent(url.pathname.slice('/api/'.length));
        } catch {
          channel = url.pathname.slice('/api/'.length);
        }
        return handleApi(req, res, channel, presented!);
      }
      case 'media':
        return handleMedia(req, res, url.pathname);
      case 'static':
        return handleStatic(req, res, url);
    }
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
  let closing: Promise<void> | null = null;
  return {
    url: `http://${displayHost(host)}:${port}/?token=${token}`,
    token,
    host,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of streams) s.res.end();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
