// Where the session credential lives in a real browser (issue 12.9): the token from the printed URL is
// held by the page (sessionStorage, per origin and port) and sent as a header; no cookie carries it, so
// another server on 127.0.0.1 never receives it; images load by signed URLs without the token; live
// updates arrive over the header-authenticated stream; a page on another port of this host gets nothing.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopApp, tempDir } from './helpers/app';
import { launchBrowser, openPage } from './helpers/browser';
import { seedWorkspace } from './helpers/seed';
import { startServe, type Served } from './helpers/serve';

interface PageImage {
  complete: boolean;
  naturalWidth: number;
  getAttribute(name: string): string | null;
}
declare const document: { querySelectorAll(selector: string): Iterable<PageImage> };
declare const sessionStorage: { getItem(key: string): string | null };

const IMAGES = 40;
let dir: string;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];
/** Another local server, as a developer's other tools run on 127.0.0.1: it records what browsers send it. */
let other: { server: Server; origin: string; cookies: string[] };

const countText = (): ReturnType<Page['locator']> => page.getByTestId('library-count');
const thumbsLoaded = (): Promise<unknown> =>
  page.waitForFunction(() => {
    const first = [...document.querySelectorAll('[role=gridcell] img')].slice(0, 4);
    return first.length === 4 && first.every((i) => i.complete && i.naturalWidth > 0);
  });

beforeAll(async () => {
  dir = tempDir('session');
  const workspace = join(dir, 'ws.sqlite');
  await seedWorkspace(workspace, dir, { images: IMAGES, files: 10, datasetName: 'Seeded people' });
  served = await startServe(workspace, dir);

  const cookies: string[] = [];
  const server = createServer((req, res) => {
    cookies.push(req.headers.cookie ?? '');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>another local tool</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  other = { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cookies };

  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser, served.url));
});

afterAll(async () => {
  if (other) await new Promise((r) => other.server.close(r));
  await stopApp({ browser, served, dir });
});

describe('the session in the browser', () => {
  it('holds the token in the page for its tab, not in a cookie nor the address bar, and survives a reload', async () => {
    await expect.poll(() => countText().textContent()).toBe(`${IMAGES} images`);
    await thumbsLoaded();
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate(() => sessionStorage.getItem('ctgi.token'))).toBe(served.token);
    expect(await page.context().cookies()).toEqual([]);

    const apiCalls: { url: string; token: string | null; cookie: string | null }[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/'))
        void r
          .allHeaders()
          .then((h) =>
            apiCalls.push({ url: r.url(), token: h['x-ctgi-token'] ?? null, cookie: h.cookie ?? null }),
          );
    });
    await page.reload();
    await expect.poll(() => countText().textContent()).toBe(`${IMAGES} images`);
    await thumbsLoaded();
    expect(apiCalls.length).toBeGreaterThan(0);
    for (const c of apiCalls) {
      expect(c.token, c.url).toBe(served.token);
      expect(c.cookie, c.url).toBeNull();
      expect(c.url).not.toContain(served.token);
    }
  });

  it('loads images by signed, expiring URLs that do not hold the token', async () => {
    await thumbsLoaded();
    const srcs = await page.evaluate(() =>
      [...document.querySelectorAll('[role=gridcell] img')].map((i) => i.getAttribute('src') ?? ''),
    );
    expect(srcs.length).toBeGreaterThan(0);
    for (const src of srcs) {
      expect(src).toMatch(/^\/media\/images\/\d+\/thumb\?exp=\d+&sig=[\w-]{43}$/);
      expect(src).not.toContain(served.token);
    }
    const unsigned = (await fetch(`${served.origin}${srcs[0]!.slice(0, srcs[0]!.indexOf('?'))}`)).status;
    expect(unsigned).toBe(401);
  });

  it('gets live updates over the stream that the token header opened', async () => {
    const incoming = join(dir, 'incoming');
    mkdirSync(incoming);
    for (const f of ['f000.png', 'f001.png']) copyFileSync(join(dir, 'data', 'c00000', f), join(incoming, f));
    await served.api('import:start', { imageRoot: incoming, name: 'incoming' });
    // The library refreshes on library:changed, which only the event stream delivers.
    await expect.poll(() => countText().textContent(), { timeout: 30_000 }).toBe(`${IMAGES + 2} images`);
  });

  it('lets a tab opened without the token borrow it from an open tab of the app, and no one else', async () => {
    await expect.poll(() => countText().textContent()).toMatch(/^\d+ images$/);
    const count = await countText().textContent();
    const second = await page.context().newPage();
    await second.goto(`${served.origin}/#/library`);
    await expect
      .poll(() => second.getByTestId('library-count').textContent(), { timeout: 30_000 })
      .toBe(count);
    expect(await second.evaluate(() => sessionStorage.getItem('ctgi.token'))).toBe(served.token);
    await second.close();
    // A browser with no tab of this session open has nothing to borrow from.
    const stranger = await browser.newContext();
    const lone = await stranger.newPage();
    await lone.goto(`${served.origin}/#/library`);
    await lone.getByText('This tab has no access token. Open the URL that `ctgi serve` printed').waitFor();
    expect(await lone.evaluate(() => sessionStorage.getItem('ctgi.token'))).toBeNull();
    await stranger.close();
  });

  it('sends nothing of the session to another server on this host, and its page gets refusals', async () => {
    const foreign = await page.context().newPage();
    // The browser blocks the answers to such a page (CORP), so the DevTools protocol reports what went
    // over the wire: the headers Chromium sent and the status the server gave.
    const cdp = await page.context().newCDPSession(foreign);
    await cdp.send('Network.enable');
    const sent = new Map<string, Record<string, string>>();
    const status = new Map<string, number>();
    const urls = new Map<string, string>();
    cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
    cdp.on('Network.requestWillBeSentExtraInfo', (e) =>
      sent.set(e.requestId, e.headers as Record<string, string>),
    );
    cdp.on('Network.responseReceivedExtraInfo', (e) => status.set(e.requestId, e.statusCode));
    await foreign.goto(`${other.origin}/`);
    expect(other.cookies.join('\n')).not.toContain(served.token);
    // What a page on another port of 127.0.0.1 can try: a POST, a stream, an image of the app.
    await foreign.evaluate(async (app) => {
      await Promise.allSettled([
        fetch(`${app}/api/library:stats`, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          headers: { 'content-type': 'text/plain' },
          body: '{}',
        }),
        fetch(`${app}/api/events`, { mode: 'no-cors', credentials: 'include' }),
        fetch(`${app}/media/images/1/full`, { mode: 'no-cors', credentials: 'include' }),
      ]);
    }, served.origin);
    const toApp = (): string[] => [...urls].filter(([, u]) => u.startsWith(served.origin)).map(([id]) => id);
    await expect.poll(() => toApp().filter((id) => status.has(id) && sent.has(id)).length).toBe(3);
    const seen = Object.fromEntries(
      toApp().map((id) => {
        const headers = sent.get(id)!;
        const cookie = Object.entries(headers).find(([k]) => k.toLowerCase() === 'cookie')?.[1] ?? '';
        expect(cookie).not.toContain(served.token);
        return [
          new URL(urls.get(id)!).pathname,
          [headers['Sec-Fetch-Site'] ?? headers['sec-fetch-site'], status.get(id)],
        ];
      }),
    );
    expect(seen).toEqual({
      '/api/library:stats': ['same-site', 403],
      '/api/events': ['same-site', 403],
      '/media/images/1/full': ['same-site', 403],
    });
    await foreign.close();
    expect(errors).toEqual([]);
  });
});
