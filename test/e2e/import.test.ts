// Importing through the UI, as a user would: the synthetic world written by `ctgi synth`, the Import
// modal (first with a wrong path, whose server message must show), the job's live progress in Jobs,
// and the imported captions in the library drawer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, stopApp, tempDir } from './helpers/app';
import { screenshot } from './helpers/browser';
import { ctgi, type Served } from './helpers/serve';

// Page-side code runs in Chromium; the node tsconfig has no DOM library (declared here, module-scoped).
interface PageElement {
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<{ complete: boolean; naturalWidth: number }>;
  querySelector(selector: string): PageElement | null;
};

const IDENTITIES = 60;
const VIEWS = 4;

interface RstpRecord {
  id: number;
  img_path: string;
  captions: string[];
  split: string;
}

let dir: string;
let world: string;
let records: RstpRecord[];
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  dir = tempDir('import');
  world = join(dir, 'world');
  await ctgi(
    ['synth', '--out', world, '--identities', String(IDENTITIES), '--views', String(VIEWS), '--seed', '11'],
    dir,
  );
  records = JSON.parse(readFileSync(join(world, 'data_captions.json'), 'utf8')) as RstpRecord[];
  ({ served, browser, page, errors } = await startApp(join(dir, 'ws.sqlite'), dir));
});

afterAll(() => stopApp({ browser, served, dir }));

describe('import through the UI', () => {
  it('starts from an empty library that offers an import', async () => {
    await page.getByTestId('library-empty').waitFor();
    await expect.poll(() => page.getByTestId('stat-images').textContent()).toBe('0');
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('jobs-empty').waitFor();
    await page.getByTestId('nav-library').click();
  });

  it("shows the server's message when the import cannot start", async () => {
    await page.getByTestId('import-open').click();
    await page.getByTestId('import-image-root').fill(join(dir, 'no-such-folder'));
    await page.getByTestId('import-submit').click();
    const alert = page.getByTestId('import-error');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('no-such-folder');
    expect(page.url()).toContain('#/library');
  });

  it('imports the synthetic RSTPReid set and follows the job in Jobs until it is done', async () => {
    await page.getByTestId('import-image-root').fill(join(world, 'imgs'));
    await page.getByTestId('import-annotations').fill(join(world, 'data_captions.json'));
    await page.getByTestId('import-name').fill('Synthetic RSTPReid');
    await page.getByTestId('import-submit').click();

    await page.waitForURL(/#\/jobs$/);
    const job = page.getByTestId('job').first();
    await job.waitFor();
    expect(await job.getByTestId('job-title').textContent()).toContain('Synthetic RSTPReid');

    // Sample what the user sees until the job ends: the bar only ever moves forward.
    const seen: number[] = [];
    const deadline = Date.now() + 90_000;
    while ((await job.getAttribute('data-status')) !== 'done') {
      const status = await job.getAttribute('data-status');
      expect(
        status === 'failed' || status === 'cancelled',
        `job ended ${status}: ${await job.textContent()}`,
      ).toBe(false);
      expect(Date.now()).toBeLessThan(deadline);
      const value = await job.getByTestId('job-progress').getAttribute('data-value');
      seen.push(Number(value));
      // The next sample when the bar moves or the job's status changes, not on a timer. The row is looked
      // up afresh each time: the list may render it anew (a handle would keep watching the old one).
      await page.waitForFunction(
        ({ value, status }) => {
          const el = document.querySelector('[data-testid=job]');
          return (
            el === null ||
            el.getAttribute('data-status') !== status ||
            el.querySelector('[data-testid=job-progress]')?.getAttribute('data-value') !== value
          );
        },
        { value, status },
        { timeout: Math.max(1, deadline - Date.now()) },
      );
    }
    seen.push(Number(await job.getByTestId('job-progress').getAttribute('data-value')));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(100);
    const n = records.length.toLocaleString('en-US');
    expect(await job.getByTestId('job-progress-text').textContent()).toContain(`${n} of ${n}`);
    expect(await job.getByTestId('job-cancel').count()).toBe(0);
    expect(await page.getByTestId('running-jobs').count()).toBe(0);
    await screenshot(page, 'jobs');
  });

  it('shows the imported images and their captions in the library', async () => {
    await page.getByTestId('nav-library').click();
    const total = records.length.toLocaleString('en-US');
    await expect.poll(() => page.getByTestId('library-count').textContent()).toBe(`${total} images`);
    await expect.poll(() => page.getByTestId('stat-images').textContent()).toBe(total);
    await expect.poll(() => page.getByTestId('stat-identities').textContent()).toBe(String(IDENTITIES));

    await page.waitForFunction(() =>
      [...document.querySelectorAll('[role=gridcell] img')]
        .slice(0, 8)
        .every((i) => i.complete && i.naturalWidth > 0),
    );
    await screenshot(page, 'library-imported');
    await page.locator('[data-index="2"][data-image-id]').click();
    const drawer = page.getByRole('dialog');
    await drawer.getByTestId('caption').first().waitFor();
    const meta = (await drawer.getByTestId('image-metadata').textContent()) ?? '';
    const record = records.find((r) => meta.includes(r.img_path));
    expect(record, `no annotation record matches the drawer's path (${meta})`).toBeDefined();
    expect(await drawer.getByTestId('caption-text').allTextContents()).toEqual(record!.captions);
    expect(meta).toContain(record!.split);
    await screenshot(page, 'drawer-imported');
    await page.keyboard.press('Escape');

    // The annotation's splits became filters.
    const test = records.filter((r) => r.split === 'test').length;
    await page.getByTestId('filter-split').click();
    await page.getByRole('option', { name: 'Test', exact: true }).click();
    await expect.poll(() => page.getByTestId('library-count').textContent()).toBe(`${test} images match`);
  });

  it('logged no errors in the page', () => {
    // Chromium logs CSP notes, the missing favicon, and the deliberate bad import's 400 as console errors.
    expect(errors.filter((e) => !/script-src|favicon|status of 404|status of 400/.test(e))).toEqual([]);
  });
});
