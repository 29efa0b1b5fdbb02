// `npm run audit:server`: the security figures of `ctgi serve`, re-measured with one command (issue 12).
//
// It starts a real `ctgi serve` (a child process, as a user runs it) on a temporary workspace holding a
// dataset with one image swapped for a link to a host secret and one behind a linked folder, a web folder
// with planted links, a key folder with a link out of it, and an endpoint whose key file was set on the
// command line. Then it tries every route of the server's own table (HTTP_ROUTES, with every channel of
// the contract) with every way of presenting a credential, traversal and link paths, foreign Origins,
// oversized and malformed bodies, key references that would send a host secret elsewhere, and one event
// stream too many. It prints, per category, how many hostile requests it tried and how many were refused,
// and exits 1 if any got through — or if a control request (the right credential, the app's own page)
// failed, since a server that refuses everything proves nothing.
//   --json   print the report as JSON
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { channelsAbove } from '#shared/access';
import { CHANNELS } from '#shared/channels';
import type { KeyRef } from '#shared/llm/types';
import {
  MEDIA_URL_MAX_LEAD_S,
  mediaKeyFor,
  mediaPath,
  mediaUrlExpiry,
  signMediaPath,
} from '#shared/media-url';
import { asDatasetId } from '#shared/ids';
import { BODY_LIMIT_BYTES, HTTP_ROUTES, MAX_STREAMS_PER_CLIENT, type HttpRoute } from '../src/main/api/http';
import { main as ctgi } from '../src/main/cli';
import { insertDataset, updateDatasetStatus } from '../src/main/db/repos/datasets';
import { insertImage } from '../src/main/db/repos/images';
import { openWorkspace } from '../src/main/workspace';
import { startServe } from '../test/e2e/helpers/serve';

export interface AuditCategory {
  name: string;
  tried: number;
  refused: number;
  /** One line per hostile request that was not refused. */
  failures: string[];
}

export interface AuditReport {
  /** Routes from the server's table, and how many request targets they expanded to. */
  routes: { path: string; access: string; targets: number }[];
  categories: AuditCategory[];
  controls: { tried: number; passed: number; failures: string[] };
  /** True when every hostile request was refused and every control passed. */
  ok: boolean;
}

/** What the audit plants on disk, and what must never come back. */
export interface AuditWorld {
  dir: string;
  workspace: string;
  webDir: string;
  keyDir: string;
  secret: string;
  images: { real: number; swapped: number; behindLinkedFolder: number };
  /** The endpoint saved on the command line with a key file outside the key folder. */
  localEndpoint: string;
  /** Servers that record every request they get: where a stolen key would arrive. */
  recorders: { attacker: Recorder; legit: Recorder };
  env: Record<string, string>;
}

interface Recorder {
  url: string;
  seen: string[];
  server: Server;
}

async function recorder(): Promise<Recorder> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"nothing here"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen, server };
}

export async function prepareAuditWorld(): Promise<AuditWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-audit-'));
  const secret = `CTGI-AUDIT-SECRET-${randomBytes(8).toString('hex')}`;
  writeFileSync(join(dir, 'host-secret.txt'), secret, { mode: 0o600 });
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'inner.txt'), secret);
  writeFileSync(join(dir, 'outside', 'c.png'), secret);

  // A web folder with the shape of the built renderer, and links planted in it.
  const webDir = join(dir, 'web');
  mkdirSync(join(webDir, 'assets'), { recursive: true });
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>CTGI Studio (audit)</title>');
  writeFileSync(join(webDir, 'assets', 'app-audit.js'), 'console.log("audit");');
  symlinkSync(join(dir, 'host-secret.txt'), join(webDir, 'leak.txt'));
  symlinkSync(join(dir, 'outside'), join(webDir, 'assets', 'linked'), 'dir');

  // The key folder, with a link out of it.
  const keyDir = join(dir, 'keys');
  mkdirSync(keyDir, { mode: 0o700 });
  symlinkSync(join(dir, 'host-secret.txt'), join(keyDir, 'innocent.key'));

  // A dataset: a real image, one swapped for a link to the secret, one behind a linked folder.
  const root = join(dir, 'people');
  mkdirSync(root);
  const png = await sharp({
    create: { width: 32, height: 64, channels: 3, background: { r: 200, g: 30, b: 30 } },
  })
    .png()
    .toBuffer();
  writeFileSync(join(root, 'a.png'), png);
  writeFileSync(join(root, 'b.png'), png);
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'c.png'), png);
  const workspace = join(dir, 'ws.sqlite');
  const ws = openWorkspace(workspace, { resumeJobs: false });
  const images = { real: 0, swapped: 0, behindLinkedFolder: 0 };
  try {
    const datasetId = insertDataset(ws.db, { name: 'audit', format: 'folder', root, annotationFile: null });
    updateDatasetStatus(ws.db, datasetId, 'ready');
    const add = (relPath: string): number =>
      insertImage(ws.db, {
        datasetId: asDatasetId(datasetId),
        relPath,
        sha256: createHash('sha256').update(png).digest('hex'),
        width: 32,
        height: 64,
        bytes: png.length,
        format: 'png',
        identityId: null,
        camera: null,
        split: null,
      });
    images.real = add('a.png');
    images.swapped = add('b.png');
    images.behindLinkedFolder = add('sub/c.png');
  } finally {
    await ws.close();
  }
  // After the import, the files change under the app's feet.
  rmSync(join(root, 'b.png'));
  symlinkSync(join(dir, 'host-secret.txt'), join(root, 'b.png'));
  rmSync(join(root, 'sub'), { recursive: true });
  symlinkSync(join(dir, 'outside'), join(root, 'sub'), 'dir');

  const recorders = { attacker: await recorder(), legit: await recorder() };
  // The local user may point an endpoint at any key file, towards the URL they chose.
  const localEndpoint = 'local-key';
  const lines: string[] = [];
  const code = await ctgi(
    [
      'endpoints',
      '--workspace',
      workspace,
      '--save',
      localEndpoint,
      '--base-url',
      recorders.legit.url,
      '--model',
      'm',
      '--key-file',
      join(dir, 'host-secret.txt'),
    ],
    { out: (l) => lines.push(l), err: (l) => lines.push(l) },
  );
  if (code !== 0) throw new Error(`Could not save the local endpoint: ${lines.join('\n')}`);
  chmodSync(join(dir, 'host-secret.txt'), 0o600);
  return {
    dir,
    workspace,
    webDir,
    keyDir,
    secret,
    images,
    localEndpoint,
    recorders,
    env: {
      CTGI_RENDERER_DIR: webDir,
      CTGI_KEY_DIR: keyDir,
      AWS_SECRET_ACCESS_KEY: secret,
    },
  };
}

export async function disposeAuditWorld(world: AuditWorld): Promise<void> {
  await Promise.all(Object.values(world.recorders).map((r) => new Promise((done) => r.server.close(done))));
  rmSync(world.dir, { recursive: true, force: true });
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Attempt {
  method: string;
  /** Sent exactly as written: no normalisation of `..` or percent-escapes. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send the body without content-length. */
  chunked?: boolean;
}

/** One request on its own connection; an event stream is closed as soon as its status is known. */
function send(port: number, a: Attempt, keepOpen?: (close: () => void) => void): Promise<Reply> {
  return new Promise((resolve) => {
    let answered = false;
    const headers: Record<string, string | number> = { ...a.headers };
    if (a.body !== undefined && !a.chunked) headers['content-length'] = Buffer.byteLength(a.body);
    const req = request(
      { host: '127.0.0.1', port, method: a.method, path: a.path, headers, agent: false },
      (res) => {
        answered = true;
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          if (keepOpen) keepOpen(() => res.destroy());
          else res.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('timed out')));
    // A server that answers 413 and closes while the body is still going out resets the upload.
    req.on('error', (err) => {
      if (!answered) resolve({ status: 0, headers: {}, body: `no answer: ${err.message}` });
    });
    if (a.body !== undefined && a.chunked) {
      const body = Buffer.from(a.body);
      for (let off = 0; off < body.length && !req.destroyed; off += 64 * 1024)
        req.write(body.subarray(off, off + 64 * 1024));
      req.end();
    } else req.end(a.body);
  });
}

interface Target {
  route: HttpRoute;
  method: string;
  path: string;
  body?: string;
}

/**
 * The request targets of a route. Exhaustive over the server's table: a new route fails to compile
 * here until the audit knows how to try it.
 */
function targetsOf(route: HttpRoute, world: AuditWorld): Target[] {
  switch (route.name) {
    case 'events':
      return [{ route, method: 'GET', path: '/api/events' }];
    case 'api':
      // `[]` is no valid argument of any channel: a call that got through would be refused by validation
      // (400) and change nothing, so the audit has no side effects and a hole still shows.
      return [...CHANNELS, 'no-such:channel'].map((c) => ({
        route,
        method: 'POST',
        path: `/api/${c}`,
        body: '[]',
      }));
    case 'media':
      return (['thumb', 'full'] as const).flatMap((v) =>
        ['GET', 'HEAD'].map((method) => ({ route, method, path: mediaPath(world.images.real, v) })),
      );
    case 'static':
      return [
        { route, method: 'GET', path: '/' },
        { route, method: 'GET', path: '/assets/app-audit.js' },
        { route, method: 'HEAD', path: '/library' },
      ];
  }
}

const JSON_TYPE = { 'content-type': 'application/json' };

export async function runAudit(
  port: number,
  token: string,
  world: AuditWorld,
  log: (line: string) => void = () => {},
): Promise<AuditReport> {
  const categories = new Map<string, AuditCategory>();
  const controls = { tried: 0, passed: 0, failures: [] as string[] };
  const hostile = async (
    category: string,
    what: string,
    attempt: Attempt,
    refused: (r: Reply) => boolean,
  ): Promise<Reply> => {
    const c = categories.get(category) ?? { name: category, tried: 0, refused: 0, failures: [] };
    categories.set(category, c);
    const reply = await send(port, attempt);
    c.tried++;
    const leaked = reply.body.includes(world.secret);
    if (refused(reply) && !leaked) c.refused++;
    else
      c.failures.push(
        `${what}: ${attempt.method} ${attempt.path} → ${reply.status}${leaked ? ' (SECRET LEAKED)' : ''}`,
      );
    return reply;
  };
  const control = async (what: string, attempt: Attempt, passes: (r: Reply) => boolean): Promise<void> => {
    const reply = await send(port, attempt);
    controls.tried++;
    if (passes(reply) && !reply.body.includes(world.secret)) controls.passed++;
    else
      controls.failures.push(
        `${what}: ${attempt.method} ${attempt.path} → ${reply.status} ${reply.body.slice(0, 200)}`,
      );
  };
  const status =
    (...codes: number[]) =>
    (r: Reply) =>
      codes.includes(r.status);
  const is4xx = (r: Reply): boolean => r.status >= 400 && r.status < 500;

  const mediaKey = mediaKeyFor(token);
  const now = (): number => Math.floor(Date.now() / 1000);
  const signedQuery = (path: string, exp: number, key = mediaKey): string =>
    `exp=${exp}&sig=${signMediaPath(key, path, exp)}`;
  const withQuery = (path: string, query: string): string =>
    `${path}${path.includes('?') ? '&' : '?'}${query}`;
  const good = { 'x-ctgi-token': token };

  // Named users (issue 13), made through the owner's API: one that was let in once (so the server knows
  // the key its page signs images with) and then revoked, and an active reviewer for the role checks.
  const asOwner = async (channel: string, arg: unknown): Promise<Reply> =>
    send(port, {
      method: 'POST',
      path: `/api/${channel}`,
      headers: { ...JSON_TYPE, ...good },
      body: JSON.stringify(arg),
    });
  const suffix = randomBytes(4).toString('hex');
  const userToken = async (name: string, role: string): Promise<string> => {
    const reply = await asOwner('users:add', { name, role });
    const parsed = JSON.parse(reply.body) as { ok: boolean; value?: { token: string } };
    if (!parsed.ok || !parsed.value) throw new Error(`users:add failed: ${reply.status} ${reply.body}`);
    return parsed.value.token;
  };
  const revokedName = `audit revoked ${suffix}`;
  const revokedToken = await userToken(revokedName, 'admin');
  await send(port, {
    method: 'POST',
    path: '/api/session:whoami',
    headers: { ...JSON_TYPE, 'x-ctgi-token': revokedToken },
    body: '{}',
  });
  await asOwner('users:revoke', { name: revokedName });
  const reviewerToken = await userToken(`audit reviewer ${suffix}`, 'reviewer');

  // ── Every route × every way of presenting a credential ─────────────────────────────────────────
  const routes: AuditReport['routes'] = [];
  const targets = HTTP_ROUTES.flatMap((route) => {
    const list = targetsOf(route, world);
    routes.push({ path: route.path, access: route.access, targets: list.length });
    return list;
  });
  const protectedTargets = targets.filter((t) => t.route.access !== 'public');
  for (const t of protectedTargets) {
    const base: Attempt = { method: t.method, path: t.path, headers: t.body ? JSON_TYPE : {}, body: t.body };
    const exp = mediaUrlExpiry(Date.now());
    const sig = signMediaPath(mediaKey, t.path, exp);
    const presentations: [string, Partial<Attempt>][] = [
      ['no credential', {}],
      ['a wrong token', { headers: { 'x-ctgi-token': `${token.slice(0, -4)}AAAA` } }],
      ['the token plus a character', { headers: { 'x-ctgi-token': `${token}x` } }],
      ['an empty token header', { headers: { 'x-ctgi-token': '' } }],
      ['the token in the query', { path: withQuery(t.path, `token=${token}`) }],
      ['the token in a cookie', { headers: { cookie: `ctgi_token=${token}; ctgi_token_${port}=${token}` } }],
      ['the token as a Bearer header', { headers: { authorization: `Bearer ${token}` } }],
      ['an expired signed URL', { path: withQuery(t.path, signedQuery(t.path, now() - 60)) }],
      [
        'a signed URL too far ahead',
        { path: withQuery(t.path, signedQuery(t.path, now() + MEDIA_URL_MAX_LEAD_S + 600)) },
      ],
      [
        'a tampered signature',
        {
          path: withQuery(t.path, `exp=${exp}&sig=${sig.slice(0, -3)}${sig.endsWith('AAA') ? 'BBB' : 'AAA'}`),
        },
      ],
      ['a changed expiry', { path: withQuery(t.path, `exp=${exp + 600}&sig=${sig}`) }],
      [
        'a signature for another image',
        { path: withQuery(t.path, signedQuery(mediaPath(world.images.swapped, 'thumb'), exp)) },
      ],
      [
        'a signature by another key',
        { path: withQuery(t.path, signedQuery(t.path, exp, mediaKeyFor('guess'))) },
      ],
      ['a signature without an expiry', { path: withQuery(t.path, `sig=${sig}`) }],
      ["a revoked user's token", { headers: { 'x-ctgi-token': revokedToken } }],
      [
        "a revoked user's media signature",
        { path: withQuery(t.path, signedQuery(t.path, exp, mediaKeyFor(revokedToken))) },
      ],
    ];
    // A signed URL is a credential for media only.
    if (t.route.access === 'token')
      presentations.push(['a valid media signature', { path: withQuery(t.path, signedQuery(t.path, exp)) }]);
    for (const [name, p] of presentations) {
      await hostile(
        'credentials',
        name,
        { ...base, ...p, headers: { ...base.headers, ...p.headers } },
        status(401),
      );
    }
    // Controls: the right credential gets past the guard (and `[]` then fails validation, harmlessly).
    await control('the token header', { ...base, headers: { ...base.headers, ...good } }, (r) =>
      t.route.name === 'api' ? r.status === 400 || r.status === 404 : r.status === 200,
    );
    if (t.route.access === 'token-or-signed-url')
      await control(
        'a valid signed URL',
        { ...base, path: withQuery(t.path, signedQuery(t.path, exp)) },
        status(200),
      );
  }
  for (const t of targets.filter((x) => x.route.access === 'public'))
    await control('a public page without a credential', { method: t.method, path: t.path }, status(200));

  // ── Roles: a reviewer reaches no admin channel (shared/access.ts) ──────────────────────────────
  for (const channel of channelsAbove('reviewer')) {
    await hostile(
      'roles',
      `a reviewer calling ${channel}`,
      {
        method: 'POST',
        path: `/api/${channel}`,
        headers: { ...JSON_TYPE, 'x-ctgi-token': reviewerToken },
        body: '{}',
      },
      status(403),
    );
  }
  await control(
    'a reviewer calling a reviewer channel',
    {
      method: 'POST',
      path: '/api/session:whoami',
      headers: { ...JSON_TYPE, 'x-ctgi-token': reviewerToken },
      body: '{}',
    },
    status(200),
  );

  // ── Foreign Origins: refused even with the right credential ────────────────────────────────────
  const own = `http://127.0.0.1:${port}`;
  const foreign: [string, Record<string, string>][] = [
    ['Origin of another port on this host', { origin: 'http://127.0.0.1:1' }],
    ['Origin of another site', { origin: 'https://evil.example' }],
    ['Origin of localhost (another name for this host)', { origin: `http://localhost:${port}` }],
    ['an opaque Origin (null)', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
  ];
  for (const t of protectedTargets) {
    for (const [name, headers] of foreign) {
      await hostile(
        'foreign origins',
        name,
        {
          method: t.method,
          path: t.path,
          body: t.body,
          headers: { ...(t.body ? JSON_TYPE : {}), ...good, ...headers },
        },
        status(403),
      );
    }
  }
  await control(
    "the app's own Origin",
    {
      method: 'POST',
      path: '/api/library:stats',
      body: '{}',
      headers: { ...JSON_TYPE, ...good, origin: own, 'sec-fetch-site': 'same-origin' },
    },
    status(200),
  );

  // ── Traversal: nothing outside the web folder or a dataset, by any spelling ───────────────────
  const index = (await send(port, { method: 'GET', path: '/' })).body;
  const notOutside = (r: Reply): boolean => is4xx(r) || r.body === index;
  const traversal = [
    '/..%2fhost-secret.txt',
    '/..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/host-secret.txt',
    '/%2e%2e%2fhost-secret.txt',
    '/assets/..%2f..%2fhost-secret.txt',
    '/..%5chost-secret.txt',
    '/%252e%252e%252fhost-secret.txt',
    '/%c0%ae%c0%ae/host-secret.txt',
    '/.%00/x',
    '/%00',
    '/../../../../etc/passwd',
    '/assets/../../host-secret.txt',
    '/.env',
    '/assets/.hidden',
    '//etc/passwd',
    'http://evil.example/../host-secret.txt',
    '/media/images/..%2f..%2fhost-secret.txt/full',
    `/media/images/${world.images.real}/..%2f..%2f..%2fhost-secret.txt`,
    '/media/images/%2e%2e/full',
    '/media/../host-secret.txt',
    '/api/..%2f..%2fhost-secret.txt',
    '/api/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/api/images:get/../../host-secret.txt',
  ];
  for (const path of traversal) {
    const isApi = path.startsWith('/api/');
    await hostile(
      'traversal',
      'a path out of its root',
      {
        method: isApi ? 'POST' : 'GET',
        path,
        headers: { ...good, ...(isApi ? JSON_TYPE : {}) },
        body: isApi ? '{}' : undefined,
      },
      notOutside,
    );
  }

  // ── Links: planted in the web folder, swapped in for an image, a dataset folder, a key file ────
  const exp = mediaUrlExpiry(Date.now());
  const linkPaths: [string, Attempt][] = [
    ['a file link in the web folder', { method: 'GET', path: '/leak.txt' }],
    ['a folder link in the web folder', { method: 'GET', path: '/assets/linked/inner.txt' }],
    ['a folder link in the web folder (HEAD)', { method: 'HEAD', path: '/assets/linked/inner.txt' }],
    ...(['full', 'thumb'] as const).flatMap((v): [string, Attempt][] => [
      [
        `an image swapped for a link (${v})`,
        { method: 'GET', path: mediaPath(world.images.swapped, v), headers: good },
      ],
      [
        `an image swapped for a link, by a valid signed URL (${v})`,
        {
          method: 'GET',
          path: withQuery(
            mediaPath(world.images.swapped, v),
            signedQuery(mediaPath(world.images.swapped, v), exp),
          ),
        },
      ],
      [
        `an image behind a linked folder (${v})`,
        { method: 'GET', path: mediaPath(world.images.behindLinkedFolder, v), headers: good },
      ],
    ]),
  ];
  for (const [what, attempt] of linkPaths) await hostile('symbolic links', what, attempt, is4xx);

  // ── Bodies: oversized, malformed, wrong type, wrong method ─────────────────────────────────────
  const oversized = Buffer.from(JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT_BYTES) }));
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  for (const c of CHANNELS) {
    const path = `/api/${c}`;
    const bodies: [string, Attempt, (r: Reply) => boolean][] = [
      [
        'an oversized body',
        { method: 'POST', path, headers: { ...JSON_TYPE, ...good }, body: oversized },
        status(413),
      ],
      [
        'an oversized chunked body',
        { method: 'POST', path, headers: { ...JSON_TYPE, ...good }, body: oversized, chunked: true },
        (r) => r.status === 413 || r.status === 0,
      ],
      [
        'invalid JSON',
        { method: 'POST', path, headers: { ...JSON_TYPE, ...good }, body: '{"a":' },
        status(400),
      ],
      [
        'bytes that are not UTF-8',
        {
          method: 'POST',
          path,
          headers: { ...JSON_TYPE, ...good },
          body: Buffer.from([0xff, 0xfe, 0x7b, 0x80]),
        },
        status(400),
      ],
      [
        'JSON nested 200,000 deep',
        { method: 'POST', path, headers: { ...JSON_TYPE, ...good }, body: deep },
        status(400),
      ],
      [
        'a form instead of JSON',
        {
          method: 'POST',
          path,
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...good },
          body: 'a=1',
        },
        status(415),
      ],
      ['no content type', { method: 'POST', path, headers: good, body: '{}' }, status(415)],
      ['GET instead of POST', { method: 'GET', path, headers: good }, status(405)],
    ];
    for (const [what, attempt, refused] of bodies)
      await hostile('bodies and methods', what, attempt, refused);
  }
  const wrongMethods: Attempt[] = [
    { method: 'POST', path: '/api/events', headers: { ...JSON_TYPE, ...good }, body: '{}' },
    { method: 'PUT', path: mediaPath(world.images.real, 'full'), headers: good, body: 'x' },
    { method: 'DELETE', path: '/', headers: good },
    {
      method: 'OPTIONS',
      path: '/api/library:stats',
      headers: { ...good, origin: own, 'access-control-request-method': 'POST' },
    },
  ];
  for (const a of wrongMethods)
    await hostile('bodies and methods', 'a method the route does not take', a, status(405));
  const badIds = [
    '0x1',
    '1.0',
    '1e0',
    '-1',
    '0',
    '%31',
    '99999999999999999999',
    `${world.images.real}/full/extra`,
  ];
  for (const id of badIds)
    await hostile(
      'bodies and methods',
      'a malformed image id',
      { method: 'GET', path: `/media/images/${id}/full`, headers: good },
      is4xx,
    );
  await hostile(
    'bodies and methods',
    'an unknown variant',
    { method: 'GET', path: mediaPath(world.images.real, 'full').replace('full', 'raw'), headers: good },
    is4xx,
  );

  // ── Secrets: key references that would send a host secret to a URL of the caller's choosing ──
  const exfil: [string, KeyRef][] = [
    ['any environment variable', { kind: 'env', name: 'AWS_SECRET_ACCESS_KEY' }],
    ['a well-known variable outside the prefix', { kind: 'env', name: 'HOME' }],
    ['a 0600 file outside the key folder', { kind: 'file', path: join(world.dir, 'host-secret.txt') }],
    [
      'a link in the key folder to a file outside',
      { kind: 'file', path: join(world.keyDir, 'innocent.key') },
    ],
    ['a path climbing out of the key folder', { kind: 'file', path: '../host-secret.txt' }],
  ];
  const save = (arg: unknown): Attempt => ({
    method: 'POST',
    path: '/api/endpoints:save',
    headers: { ...JSON_TYPE, ...good },
    body: JSON.stringify(arg),
  });
  for (const [what, keyRef] of exfil) {
    await hostile(
      'secrets',
      what,
      save({ name: 'exfil', baseUrl: world.recorders.attacker.url, model: 'm', keyRef }),
      status(403),
    );
  }
  const list = JSON.parse(
    (
      await send(port, {
        method: 'POST',
        path: '/api/endpoints:list',
        headers: { ...JSON_TYPE, ...good },
        body: '{}',
      })
    ).body,
  ) as {
    value: { name: string; baseUrl: string; keyRef: KeyRef }[];
  };
  const local = list.value.find((e) => e.name === world.localEndpoint);
  if (!local)
    controls.failures.push(`the endpoint ${world.localEndpoint} saved on the command line is missing`);
  else {
    await hostile(
      'secrets',
      'moving a key set on the command line to another base URL',
      save({ name: local.name, baseUrl: world.recorders.attacker.url, model: 'm', keyRef: local.keyRef }),
      status(403),
    );
    await control(
      'keeping a key set on the command line while editing the rest',
      save({ name: local.name, baseUrl: local.baseUrl, model: 'm2', keyRef: local.keyRef }),
      status(200),
    );
  }
  for (const name of ['exfil', world.localEndpoint]) {
    await send(port, {
      method: 'POST',
      path: '/api/endpoints:probe',
      headers: { ...JSON_TYPE, ...good },
      body: JSON.stringify({ name }),
    });
  }
  const secrets = categories.get('secrets')!;
  secrets.tried++;
  if (world.recorders.attacker.seen.some((l) => l.includes(world.secret)))
    secrets.failures.push('the attacker server received the host secret');
  else secrets.refused++;

  // ── Event streams: one client cannot open more than its share ─────────────────────────────────
  const open: (() => void)[] = [];
  for (let i = 0; i < MAX_STREAMS_PER_CLIENT; i++) {
    const r = await send(port, { method: 'GET', path: '/api/events', headers: good }, (close) =>
      open.push(close),
    );
    controls.tried++;
    if (r.status === 200) controls.passed++;
    else controls.failures.push(`event stream ${i + 1} of ${MAX_STREAMS_PER_CLIENT} → ${r.status}`);
  }
  await hostile(
    'event streams',
    `stream ${MAX_STREAMS_PER_CLIENT + 1} of one client`,
    { method: 'GET', path: '/api/events', headers: good },
    status(429),
  );
  for (const close of open) close();

  const report: AuditReport = {
    routes,
    categories: [...categories.values()],
    controls,
    ok: false,
  };
  report.ok = report.categories.every((c) => c.refused === c.tried) && controls.passed === controls.tried;
  for (const line of formatReport(report)) log(line);
  return report;
}

export function formatReport(r: AuditReport): string[] {
  const lines = ['Routes (from the server itself):'];
  for (const route of r.routes)
    lines.push(`  ${route.path.padEnd(34)} ${route.access.padEnd(20)} ${route.targets} target(s)`);
  lines.push('', `${'category'.padEnd(22)} ${'tried'.padStart(6)} ${'refused'.padStart(8)}`);
  for (const c of r.categories)
    lines.push(`${c.name.padEnd(22)} ${String(c.tried).padStart(6)} ${String(c.refused).padStart(8)}`);
  const tried = r.categories.reduce((n, c) => n + c.tried, 0);
  const refused = r.categories.reduce((n, c) => n + c.refused, 0);
  lines.push(`${'all'.padEnd(22)} ${String(tried).padStart(6)} ${String(refused).padStart(8)}`);
  lines.push(
    `controls (must pass)   ${String(r.controls.tried).padStart(6)} ${String(r.controls.passed).padStart(8)} passed`,
  );
  for (const c of r.categories) for (const f of c.failures) lines.push(`NOT REFUSED ${c.name}: ${f}`);
  for (const f of r.controls.failures) lines.push(`CONTROL FAILED: ${f}`);
  lines.push(
    r.ok
      ? `All ${tried} hostile requests were refused; all ${r.controls.tried} controls passed.`
      : `${tried - refused} of ${tried} hostile requests got through, ${r.controls.tried - r.controls.passed} controls failed.`,
  );
  return lines;
}

/** The whole audit: a fresh world, a real `ctgi serve` on it, every attempt, and the clean-up. */
export async function auditServer(log: (line: string) => void = () => {}): Promise<AuditReport> {
  const world = await prepareAuditWorld();
  try {
    const served = await startServe(world.workspace, world.dir, world.env);
    try {
      log(`ctgi serve on 127.0.0.1:${served.port} (workspace ${world.workspace})`);
      return await runAudit(served.port, served.token, world, log);
    } finally {
      await served.stop();
    }
  } finally {
    await disposeAuditWorld(world);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { json: { type: 'boolean' } } });
  const report = await auditServer(values.json ? () => {} : (line) => console.log(line));
  if (values.json) console.log(JSON.stringify(report, null, 2));
  process.exit(report.ok ? 0 : 1);
}
