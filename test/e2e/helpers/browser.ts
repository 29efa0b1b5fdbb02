// Debian's Chromium driven by playwright-core: no browser download, no display, no GPU.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { resultsDir } from './serve';

/** The Chromium binary the tests drive: `$CTGI_CHROMIUM`, else Debian's. Read at each launch. */
export const chromiumPath = (): string => process.env.CTGI_CHROMIUM || '/usr/bin/chromium';

/**
 * The binary, or an error that says what the tests need (the README says the same): without it
 * Playwright fails with a launcher message about its own browser downloads, which do not apply here.
 */
export function requireChromium(): string {
  const path = chromiumPath();
  let runnable = false;
  try {
    accessSync(path, constants.X_OK);
    runnable = statSync(path).isFile();
  } catch {
    runnable = false;
  }
  if (!runnable) {
    throw new Error(
      `The end-to-end tests need Chromium, and there is no runnable Chromium at ${path}. ` +
        'Install it (Debian/Ubuntu: apt-get install -y chromium), or set CTGI_CHROMIUM to the path of a Chromium binary.',
    );
  }
  return path;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = requireChromium();
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** A fresh page at a desktop size, with the page's console errors collected for the test to check. */
export async function openPage(
  browser: Browser,
  url: string,
  opts: { colorScheme?: 'light' | 'dark' } = {},
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { page, errors };
}

export const screenshotsDir = join(resultsDir, 'screenshots');

/**
 * Resolves when nothing on the page moves: every finite CSS transition and animation (a drawer sliding in,
 * a modal fading in) has finished and every image in view has loaded. Spinners and other endless
 * animations are left out. What a test waits on before it looks at the page, instead of a fixed pause.
 */
export async function untilStill(page: Page, timeout = 10_000): Promise<void> {
  // A function, not a string: the app's CSP refuses string evaluation. Its DOM is typed here by hand,
  // because this file is compiled without the DOM's types.
  await page.waitForFunction(
    () => {
      const w = globalThis as unknown as PageWindow;
      const moving = w.document.getAnimations().some((a) => {
        const t = a.effect?.getComputedTiming();
        return a.playState === 'running' && t !== undefined && t.iterations !== Infinity;
      });
      const loading = [...w.document.images].some((i) => {
        const r = i.getBoundingClientRect();
        const inView =
          r.width > 0 && r.bottom > 0 && r.top < w.innerHeight && r.right > 0 && r.left < w.innerWidth;
        return inView && !i.complete;
      });
      return !moving && !loading;
    },
    undefined,
    { timeout, polling: 'raf' },
  );
}

/** What untilStill and followRequests touch of the page's window. */
interface PageWindow {
  innerWidth: number;
  innerHeight: number;
  requestAnimationFrame(cb: () => void): number;
  document: {
    getAnimations(): { playState: string; effect: { getComputedTiming(): { iterations?: number } } | null }[];
    images: Iterable<{
      complete: boolean;
      getBoundingClientRect(): { width: number; top: number; bottom: number; left: number; right: number };
    }>;
  };
}

/**
 * Follows the page's fetches and image loads (not its event stream, which stays open); `quiet()` resolves
 * when none is in flight, still none after a frame in the page (so that what a response started, such as
 * an image preload, has been counted). What a test waits on where a user would let the app catch up.
 */
export function followRequests(page: Page): { quiet(): Promise<void> } {
  const inFlight = new Set<Request>();
  let wake: (() => void) | null = null;
  page.on('request', (r) => {
    if (['fetch', 'xhr', 'image'].includes(r.resourceType())) inFlight.add(r);
  });
  const end = (r: Request): void => {
    if (inFlight.delete(r) && inFlight.size === 0) wake?.();
  };
  page.on('requestfinished', end);
  page.on('requestfailed', end);
  return {
    async quiet() {
      for (;;) {
        if (inFlight.size > 0) await new Promise<void>((r) => (wake = r));
        await page.evaluate(
          () =>
            new Promise<void>((r) => (globalThis as unknown as PageWindow).requestAnimationFrame(() => r())),
        );
        if (inFlight.size === 0) return;
      }
    },
  };
}

/**
 * A screenshot of the page once it is still (untilStill), under test-results/screenshots/<name>.png. A
 * screenshot is a record, not a check: a page that keeps moving (a job's bar advancing) is taken as it is.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await untilStill(page).catch((err: Error) => {
    if (err.name !== 'TimeoutError') throw err;
    console.warn(`screenshot ${name}: the page was still moving after 10 s; taken as it is`);
  });
  mkdirSync(screenshotsDir, { recursive: true });
  const path = join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * The visible, empty inputs on the page whose placeholder is wider than the box it is drawn in, as
 * "placeholder (text px > box px)". Measured with the placeholder's own font on a canvas: Chromium's
 * scrollWidth leaves the placeholder out, so it cannot tell.
 */
export function cutPlaceholders(page: Page): Promise<string[]> {
  // A string, because this file is compiled without the DOM's types.
  return page.evaluate(`(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    const cut = [];
    for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
      if (el.value !== '' || el.getClientRects().length === 0) continue;
      const ph = getComputedStyle(el, '::placeholder');
      ctx.font = ph.fontStyle + ' ' + ph.fontWeight + ' ' + ph.fontSize + ' ' + ph.fontFamily;
      const text = ctx.measureText(el.placeholder).width;
      const st = getComputedStyle(el);
      const box = el.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
      if (text > box) cut.push(el.placeholder + ' (' + Math.ceil(text) + ' px > ' + Math.floor(box) + ' px)');
    }
    return cut;
  })()`);
}
