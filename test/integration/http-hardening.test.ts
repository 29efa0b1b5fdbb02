// What the pen-test of `ctgi serve` found (issue 12.7, 12.9, 12.10), each against a real server on
// loopback: event streams per client, where the session credential may travel, foreign Origins, and
// symbolic links that lead out of the web folder or a dataset.
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asDatasetId, type ImageId } from '#shared/ids';
import { MEDIA_URL_MAX_LEAD_S, mediaKeyFor, mediaPath, signMediaPath } from '#shared/media-url';
import { startHttpServer, type RunningHttpServer } from '../../src/main/api/http';
import { getDatasetRow, insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { insertImage } from '../../src/main/db/repos/images';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

const SECRET = 'root:x:0:0:CTGI-HARDENING-SECRET';
let dir: string;
let ws: Workspace;
let server: RunningHttpServer;
let base: string;
const images: { real: ImageId; swapped: ImageId } = {} as never;

function addImage(rel: string, body: Buffer, datasetId: number): ImageId {
  return insertImage(ws.db, {
    datasetId: asDatasetId(datasetId),
    relPath: rel,
    sha256: createHash('sha256').update(body).digest('hex'),
    width: 32,
    height: 64,
    bytes: body.length,
    format: 'png',
    identityId: null,
    camera: null,
    split: null,
  });
}

const header = (extra: Record<string, string> = {}): Record<string, string> => ({
  'x-ctgi-token': server.token,
  ...extra,
});

function post(
  channel: string,
  body: unknown,
  headers: Record<string, string>,
  at: RunningHttpServer = server,
): Promise<Response> {
  return fetch(`http://127.0.0.1:${at.port}/api/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function signed(id: number, variant: 'thumb' | 'full', exp: number): string {
  const path = mediaPath(id, variant);
  return `${path}?exp=${exp}&sig=${signMediaPath(mediaKeyFor(server.token), path, exp)}`;
}
const nowS = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-hardening-'));
  writeFileSync(join(dir, 'passwd'), SECRET);
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'inner.txt'), SECRET);

  const web = join(dir, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>CTGI Studio</title>');
  writeFileSync(join(web, 'assets', 'app-1.js'), 'console.log(1);');
  // Planted links: a file and a folder that lead out of the web folder, and one that stays inside.
  symlinkSync(join(dir, 'passwd'), join(web, 'leak.txt'));
  symlinkSync(join(dir, 'outside'), join(web, 'assets', 'linked'), 'dir');
  symlinkSync(join(web, 'assets', 'app-1.js'), join(web, 'alias.js'));

  ws = openWorkspace(join(dir, 'ws.sqlite'), { resumeJobs: false });
  const root = join(dir, 'people');
  mkdirSync(root);
  const datasetId = insertDataset(ws.db, { name: 'people', format: 'folder', root, annotationFile: null });
  updateDatasetStatus(ws.db, datasetId, 'ready');
  const png = await sharp({
    create: { width: 32, height: 64, channels: 3, background: { r: 200, g: 20, b: 20 } },
  })
    .png()
    .toBuffer();
  writeFileSync(join(root, 'a.png'), png);
  images.real = addImage('a.png', png, datasetId);
  // Imported as an image, then swapped for a link to a secret outside the dataset.
  images.swapped = addImage('b.png', png, datasetId);
  symlinkSync(join(dir, 'passwd'), join(root, 'b.png'));

  server = await startHttpServer(ws, { staticDir: web });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

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

const busListeners = (name: string): number =>
  (ws.bus as unknown as { emitter: EventEmitter }).emitter.listenerCount(name);

describe('event streams (12.7)', () => {
  it("refuses a client's streams beyond the cap with 429 and a message, and frees a slot when one closes", async () => {
    const capped = await startHttpServer(ws, { maxStreamsPerClient: 3 });
    const url = `http://127.0.0.1:${capped.port}/api/events`;
    const token = { 'x-ctgi-token': capped.token };
    try {
      const aborts = [new AbortController(), new AbortController(), new AbortController()];
      for (const a of aborts) {
        const res = await fetch(url, { headers: token, signal: a.signal });
        expect(res.status).toBe(200);
        await readUntil(res.body!.getReader(), 'retry:');
      }
      const refused = await fetch(url, { headers: token });
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({
        ok: false,
        error: { message: expect.stringMatching(/3 event streams.*close/i) },
      });
      aborts[0]!.abort();
      await expect
        .poll(async () => {
          const res = await fetch(url, { headers: token });
          const status = res.status;
          await res.body?.cancel();
          return status;
        })
        .toBe(200);
    } finally {
      await capped.close();
    }
  });

  it('fans 150 streams out from one subscription per event, with no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const many = await startHttpServer(ws, { maxStreamsPerClient: 200 });
    const before = busListeners('library:changed');
    const abort = new AbortController();
    try {
      const readers = await Promise.all(
        Array.from({ length: 150 }, async () => {
          const res = await fetch(`http://127.0.0.1:${many.port}/api/events`, {
            headers: { 'x-ctgi-token': many.token },
            signal: abort.signal,
          });
          expect(res.status).toBe(200);
          const reader = res.body!.getReader();
          await readUntil(reader, 'retry:');
          return reader;
        }),
      );
      expect(busListeners('library:changed')).toBeLessThanOrEqual(before + 1);
      ws.bus.emit('library:changed', { datasetId: asDatasetId(7) });
      const got = await Promise.all(readers.map((r) => readUntil(r, '"datasetId":7')));
      expect(got.every((t) => t.includes('event: library:changed'))).toBe(true);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      abort.abort();
      await many.close();
      process.off('warning', onWarning);
    }
    await expect.poll(() => busListeners('library:changed')).toBe(before);
  });
  it('drops a stream whose client stopped reading, instead of buffering for it without bound', async () => {
    const before = busListeners('library:changed');
    const sock = connect(server.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(
      `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nx-ctgi-token: ${server.token}\r\n\r\n`,
    );
    sock.pause();
    try {
      await expect.poll(() => busListeners('library:changed')).toBe(before + 1);
      // ~60 bytes per event: 4 MiB waiting in the server's buffer, plus what the sockets hold.
      for (let sent = 0; busListeners('library:changed') > before && sent < 1_000_000; sent += 1000) {
        for (let i = 0; i < 1000; i++)
          ws.bus.emit('library:changed', { datasetId: asDatasetId(123_456_789) });
        await new Promise((r) => setImmediate(r));
      }
      expect(busListeners('library:changed')).toBe(before);
    } finally {
      sock.destroy();
    }
  });
});

describe('the session credential (12.9)', () => {
  it('never sets a cookie, and a cookie holding the token opens nothing', async () => {
    const page = await fetch(`${base}/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toBeNull();
    for (const cookie of [`ctgi_token_${server.port}=${server.token}`, `ctgi_token=${server.token}`]) {
      expect((await post('library:stats', {}, { cookie })).status, cookie).toBe(401);
      expect((await fetch(`${base}/api/events`, { headers: { cookie } })).status, cookie).toBe(401);
      const media = await fetch(`${base}${mediaPath(images.real, 'thumb')}`, { headers: { cookie } });
      expect(media.status, cookie).toBe(401);
    }
  });

  it('serves the page and its assets without a credential (they hold no data), so a reload works', async () => {
    for (const path of ['/', '/assets/app-1.js', '/jobs/3']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
    }
    expect((await post('library:stats', {}, {})).status).toBe(401);
  });

  it('takes the token from its header only on the API and event routes', async () => {
    const query = await fetch(`${base}/api/library:stats?token=${server.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(query.status).toBe(401);
    expect((await post('library:stats', {}, { authorization: `Bearer ${server.token}` })).status).toBe(401);
    expect((await fetch(`${base}/api/events?token=${server.token}`)).status).toBe(401);
    expect((await post('library:stats', {}, header())).status).toBe(200);
  });

  it('serves media by a signed URL for that very image until it expires, or with the header', async () => {
    const exp = nowS() + 600;
    const ok = await fetch(`${base}${signed(images.real, 'thumb', exp)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/webp');
    expect((await fetch(`${base}${mediaPath(images.real, 'full')}`, { headers: header() })).status).toBe(200);

    const path = mediaPath(images.real, 'thumb');
    const good = signed(images.real, 'thumb', exp);
    const sig = new URL(good, base).searchParams.get('sig')!;
    const refused = {
      unsigned: path,
      expired: signed(images.real, 'thumb', nowS() - 1),
      'too far ahead': signed(images.real, 'thumb', nowS() + MEDIA_URL_MAX_LEAD_S + 600),
      tampered: `${path}?exp=${exp}&sig=${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`,
      'expiry changed': `${path}?exp=${exp + 1}&sig=${sig}`,
      'another image': `${mediaPath(images.swapped, 'thumb')}?exp=${exp}&sig=${sig}`,
      'another variant': `${mediaPath(images.real, 'full')}?exp=${exp}&sig=${sig}`,
      'token in the query': `${path}?token=${server.token}`,
      'signed by another key': `${path}?exp=${exp}&sig=${signMediaPath(mediaKeyFor('guess'), path, exp)}`,
    };
    for (const [why, url] of Object.entries(refused)) {
      const res = await fetch(`${base}${url}`);
      expect(res.status, why).toBe(401);
    }
  });

  it('refuses every call from a foreign Origin or a cross-site fetch, even with the token, and changes nothing', async () => {
    const victim = insertDataset(ws.db, {
      name: 'victim',
      format: 'folder',
      root: dir,
      annotationFile: null,
    });
    const foreign: Record<string, string>[] = [
      { origin: 'http://127.0.0.1:1' },
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const extra of foreign) {
      const res = await post('datasets:delete', { id: victim }, header(extra));
      expect(res.status, JSON.stringify(extra)).toBe(403);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(getDatasetRow(ws.db, victim)).toBeDefined();
      expect((await fetch(`${base}/api/events`, { headers: header(extra) })).status).toBe(403);
      const media = await fetch(`${base}${signed(images.real, 'thumb', nowS() + 600)}`, { headers: extra });
      expect(media.status).toBe(403);
    }
    const own = await post('library:stats', {}, header({ origin: base, 'sec-fetch-site': 'same-origin' }));
    expect(own.status).toBe(200);
  });
});

describe('symbolic links (12.10)', () => {
  it('refuses a link planted in the web folder that leads out of it, and serves one that stays inside', async () => {
    for (const path of ['/leak.txt', '/assets/linked/inner.txt']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(403);
      expect(await res.text()).not.toContain(SECRET);
    }
    const alias = await fetch(`${base}/alias.js`);
    expect(alias.status).toBe(200);
    expect(await alias.text()).toBe('console.log(1);');
  });

  it('refuses an image whose file was swapped for a link that leaves its dataset', async () => {
    for (const variant of ['full', 'thumb'] as const) {
      const res = await fetch(`${base}${mediaPath(images.swapped, variant)}`, { headers: header() });
      expect(res.status, variant).toBe(403);
      const text = await res.text();
      expect(text).not.toContain(SECRET);
      expect(text).toContain('b.png');
    }
  });
});
