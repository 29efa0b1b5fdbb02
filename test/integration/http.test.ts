// The headless server as a browser and scripts meet it: token header, API, events, media, static files.
// What the pen-test found (cookies, Origins, stream caps, links) is in http-hardening.test.ts.
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult } from '#shared/contract';
import { asDatasetId, type ImageId } from '#shared/ids';
import { startHttpServer, type RunningHttpServer } from '../../src/main/api/http';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { insertImage } from '../../src/main/db/repos/images';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

let dir: string;
let ws: Workspace;
let server: RunningHttpServer;
let base: string;
const APP_JS = `console.log(${JSON.stringify('app '.repeat(1000))});`;
const images: { kept: ImageId; vanishing: ImageId } = {} as never;

async function personJpeg(file: string, colour: { r: number; g: number; b: number }): Promise<Buffer> {
  // Noise keeps JPEG from compressing the full image down to the size of its thumbnail.
  const w = 320;
  const h = 640;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i += 3) {
    const n = (i * 2654435761) % 61;
    raw[i] = (colour.r + n) & 255;
    raw[i + 1] = (colour.g + n) & 255;
    raw[i + 2] = (colour.b + n) & 255;
  }
  const body = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer();
  writeFileSync(file, body);
  return body;
}

function addImage(root: string, rel: string, body: Buffer, datasetId: number): ImageId {
  return insertImage(ws.db, {
    datasetId: asDatasetId(datasetId),
    relPath: rel,
    sha256: createHash('sha256').update(body).digest('hex'),
    width: 320,
    height: 640,
    bytes: body.length,
    format: 'jpeg',
    identityId: null,
    camera: null,
    split: null,
  });
}

const withToken = (extra: Record<string, string> = {}): Record<string, string> => ({
  'x-ctgi-token': server.token,
  ...extra,
});

async function call(
  channel: string,
  arg: unknown,
  headers = withToken(),
): Promise<{ status: number; body: ApiResult<unknown> }> {
  const res = await fetch(`${base}/api/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(arg),
  });
  return { status: res.status, body: (await res.json()) as ApiResult<unknown> };
}

/** A request with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function busListeners(name: string): number {
  return (ws.bus as unknown as { emitter: EventEmitter }).emitter.listenerCount(name);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-http-'));
  const web = join(dir, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(
    join(web, 'index.html'),
    '<!doctype html><title>CTGI Studio</title><script src="/assets/app-abc123.js"></script>',
  );
  writeFileSync(join(web, 'assets', 'app-abc123.js'), APP_JS);
  writeFileSync(join(dir, 'secret.txt'), 'not for the browser');

  ws = openWorkspace(join(dir, 'ws.sqlite'), { resumeJobs: false });
  const root = join(dir, 'people');
  mkdirSync(root);
  const datasetId = insertDataset(ws.db, { name: 'people', format: 'folder', root, annotationFile: null });
  updateDatasetStatus(ws.db, datasetId, 'ready');
  images.kept = addImage(
    root,
    'a.jpg',
    await personJpeg(join(root, 'a.jpg'), { r: 200, g: 30, b: 30 }),
    datasetId,
  );
  images.vanishing = addImage(
    root,
    'b.jpg',
    await personJpeg(join(root, 'b.jpg'), { r: 30, g: 30, b: 200 }),
    datasetId,
  );

  server = await startHttpServer(ws, { staticDir: web });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('access token', () => {
  it('prints a loopback URL that carries a long random token', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('is not reachable from other interfaces by default', async () => {
    const lan = Object.values(networkInterfaces())
      .flatMap((l) => l ?? [])
      .find((a) => !a.internal && a.family === 'IPv4');
    if (!lan) return; // a machine with loopback only has nothing else to connect from
    await expect(
      fetch(`http://${lan.address}:${server.port}/api/library:stats`, { method: 'POST' }),
    ).rejects.toThrow();
  });

  it('refuses API calls without the token, or with a wrong one, and says what to open', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { 'x-ctgi-token': 'guess' },
      { 'x-ctgi-token': `${server.token}x` },
    ];
    for (const headers of attempts) {
      const { status, body } = await call('library:stats', {}, headers);
      expect(status).toBe(401);
      expect(body.ok).toBe(false);
      if (!body.ok) {
        expect(body.error.code).toBe('unauthorized');
        expect(body.error.message).toContain('ctgi serve');
      }
    }
  });

  it('refuses media and events without it', async () => {
    for (const path of [`/media/images/${images.kept}/thumb`, '/api/events']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.text()).toContain('ctgi serve');
    }
  });

  it('answers with the header', async () => {
    const { status, body } = await call('library:stats', {});
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, value: { datasets: 1, images: 2 } });
  });

  it('does not accept the token in the query of API or media URLs', async () => {
    const api = await fetch(`${base}/api/library:stats?token=${server.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(api.status).toBe(401);
    const media = await fetch(`${base}/media/images/${images.kept}/full?token=${server.token}`);
    expect(media.status).toBe(401);
  });
});

describe('API', () => {
  it('answers an unknown channel with a not_found ApiResult', async () => {
    const { status, body } = await call('nope:nothing', {});
    expect(status).toBe(404);
    expect(body).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'Unknown call "nope:nothing".' },
    });
  });

  it('answers invalid arguments with 400 and says which field is wrong', async () => {
    const { status, body } = await call('images:get', { id: -3 });
    expect(status).toBe(400);
    expect(body.ok).toBe(false);
    if (!body.ok) {
      expect(body.error.code).toBe('bad_request');
      expect(body.error.message).toMatch(/images:get.*id/);
    }
  });

  it('maps service errors to status codes and keeps the ApiResult body', async () => {
    const { status, body } = await call('images:get', { id: 999_999 });
    expect(status).toBe(404);
    expect(body).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'Image 999999 does not exist.' },
    });
    const found = await call('images:get', { id: images.kept });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ ok: true, value: { id: images.kept, relPath: 'a.jpg' } });
  });

  it('only takes POST with a JSON body of bounded size', async () => {
    const get = await fetch(`${base}/api/library:stats`, { headers: withToken() });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');

    const form = await fetch(`${base}/api/library:stats`, {
      method: 'POST',
      headers: withToken({ 'content-type': 'application/x-www-form-urlencoded' }),
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ ok: false, error: { code: 'bad_request' } });

    const broken = await fetch(`${base}/api/library:stats`, {
      method: 'POST',
      headers: withToken({ 'content-type': 'application/json' }),
      body: '{"oops":',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining('not valid JSON') },
    });

    const huge = await fetch(`${base}/api/library:stats`, {
      method: 'POST',
      headers: withToken({ 'content-type': 'application/json' }),
      body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
    });
    expect(huge.status).toBe(413);
  });

  it('sends security headers and no CORS permission, even when asked from another origin', async () => {
    const res = await fetch(`${base}/api/library:stats`, {
      method: 'POST',
      headers: withToken({ 'content-type': 'application/json', origin: 'http://evil.example' }),
      body: '{}',
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const preflight = await fetch(`${base}/api/library:stats`, { method: 'OPTIONS', headers: withToken() });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.status).toBe(405);
  });
});

describe('server-sent events', () => {
  async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, needle: string): Promise<string> {
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${needle}: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    return text;
  }

  it('streams bus events to a stream opened with the token header, and unsubscribes on disconnect', async () => {
    const before = busListeners('library:changed');
    const abort = new AbortController();
    const res = await fetch(`${base}/api/events`, { headers: withToken(), signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    await readUntil(reader, 'retry:');
    expect(busListeners('library:changed')).toBe(before + 1);

    ws.bus.emit('library:changed', { datasetId: asDatasetId(42) });
    const text = await readUntil(reader, '\n\n');
    expect(text).toContain('event: library:changed\ndata: {"datasetId":42}\n\n');

    abort.abort();
    await expect.poll(() => busListeners('library:changed')).toBe(before);
  });

  it('sends a heartbeat comment while nothing happens, and close() ends open streams', async () => {
    const quiet = await startHttpServer(ws, { heartbeatMs: 30, token: 'fixed-token-for-this-test' });
    expect(quiet.token).toBe('fixed-token-for-this-test');
    const res = await fetch(`http://127.0.0.1:${quiet.port}/api/events`, {
      headers: { 'x-ctgi-token': quiet.token },
    });
    const reader = res.body!.getReader();
    expect(await readUntil(reader, ': heartbeat\n\n')).toContain('retry: 3000');
    await quiet.close();
    let ended = false;
    while (!ended) ended = (await reader.read()).done;
    expect(ended).toBe(true);
  });

  it('forwards jobs:progress while an import started through the API runs, up to its end', async () => {
    const folder = join(dir, 'incoming');
    mkdirSync(folder);
    for (const [i, r] of [40, 120, 220].entries())
      await personJpeg(join(folder, `p${i}.jpg`), { r, g: 90, b: 60 });
    const abort = new AbortController();
    const res = await fetch(`${base}/api/events`, { headers: withToken(), signal: abort.signal });
    const reader = res.body!.getReader();
    await readUntil(reader, 'retry:');

    const started = await call('import:start', { imageRoot: folder, name: 'incoming' });
    expect(started.status).toBe(200);
    const jobId = started.body.ok ? (started.body.value as { job: { id: number } }).job.id : -1;
    const text = await readUntil(reader, '"status":"done"');
    const jobs = text
      .split('\n\n')
      .filter((block) => block.startsWith('event: jobs:progress\n'))
      .map(
        (block) =>
          JSON.parse(block.slice(block.indexOf('data: ') + 6)) as {
            id: number;
            status: string;
            done: number;
          },
      );
    expect(jobs.every((j) => j.id === jobId)).toBe(true);
    expect(jobs.map((j) => j.status)).toContain('running');
    expect(jobs.at(-1)).toMatchObject({ status: 'done', done: 3 });
    abort.abort();
    await ws.jobs.idle();
  });
});

describe('media by id', () => {
  const thumbCache = (): string[] => {
    const root = join(ws.cacheDir, 'thumbs');
    return existsSync(root)
      ? readdirSync(root, { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('.webp'))
      : [];
  };

  it('serves a webp thumbnail smaller than the full image, made once and then read from the cache', async () => {
    const full = await fetch(`${base}/media/images/${images.kept}/full`, { headers: withToken() });
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/jpeg');
    const fullBytes = Buffer.from(await full.arrayBuffer());

    const first = await fetch(`${base}/media/images/${images.kept}/thumb`, { headers: withToken() });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/webp');
    const thumb = Buffer.from(await first.arrayBuffer());
    expect(thumb.length).toBeLessThan(fullBytes.length);
    expect((await sharp(thumb).metadata()).format).toBe('webp');

    const cached = thumbCache();
    expect(cached).toHaveLength(1);
    const file = join(ws.cacheDir, 'thumbs', cached[0]!);
    const madeAt = statSync(file).mtimeMs;
    const second = await fetch(`${base}/media/images/${images.kept}/thumb`, { headers: withToken() });
    expect(Buffer.from(await second.arrayBuffer()).equals(thumb)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(madeAt);
  });

  it('answers 304 to a client that already has the image', async () => {
    const first = await fetch(`${base}/media/images/${images.kept}/thumb`, { headers: withToken() });
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await fetch(`${base}/media/images/${images.kept}/thumb`, {
      headers: withToken({ 'if-none-match': etag! }),
    });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 404 for an unknown id, 400 for a bad variant and 410 when the file left the disk', async () => {
    expect((await fetch(`${base}/media/images/999999/thumb`, { headers: withToken() })).status).toBe(404);
    expect((await fetch(`${base}/media/images/${images.kept}/huge`, { headers: withToken() })).status).toBe(
      400,
    );
    unlinkSync(join(dir, 'people', 'b.jpg'));
    const gone = await fetch(`${base}/media/images/${images.vanishing}/full`, { headers: withToken() });
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain('b.jpg');
  });
});

describe('static files', () => {
  it('falls back to index.html for client-side routes, but not for missing assets', async () => {
    const route = await fetch(`${base}/jobs/3`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>CTGI Studio</title>');
    expect(route.headers.get('cache-control')).toBe('no-cache');
    const missing = await fetch(`${base}/assets/gone-123.js`);
    expect(missing.status).toBe(404);
    const favicon = await fetch(`${base}/favicon.ico`);
    expect(favicon.status).toBe(204);
  });

  it('caches hashed assets for good and revalidates by ETag', async () => {
    const res = await fetch(`${base}/assets/app-abc123.js`);
    expect(res.headers.get('cache-control')).toContain('immutable');
    // fetch asks for gzip and decodes it; the wire size shows it was compressed.
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(Number(res.headers.get('content-length'))).toBeLessThan(APP_JS.length / 10);
    expect(await res.text()).toBe(APP_JS);
    const etag = res.headers.get('etag')!;
    const again = await fetch(`${base}/assets/app-abc123.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('refuses paths that climb out of the web folder', async () => {
    for (const path of [
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/.%00/x',
    ]) {
      const res = await rawGet(path, {});
      expect(res.status, path).toBe(400);
      expect(res.body).not.toContain('not for the browser');
    }
    // Plain `..` segments are resolved by the URL parser before routing, so they stay inside.
    const dots = await rawGet('/../../secret.txt', {});
    expect(dots.body).not.toContain('not for the browser');
  });
});
