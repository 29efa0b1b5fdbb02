// The library in a real browser: a seeded workspace of known rows behind `ctgi serve`, the grid's
// lazy pages, the image drawer with its captions and keyboard moves, filters and the URL that holds
// them, the theme toggle, and deleting a dataset from Settings.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, stopApp, tempDir } from './helpers/app';
import { screenshot } from './helpers/browser';
import { seededImage, seedWorkspace } from './helpers/seed';
import type { Served } from './helpers/serve';

// Functions passed to page.evaluate run in Chromium. The node tsconfig has no DOM library, so the bit
// of the page they touch is declared here, module-scoped (it adds no globals to the node build).
interface PageImage {
  complete: boolean;
  naturalWidth: number;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<PageImage>;
  querySelector(selector: string): PageImage | null;
  documentElement: { getAttribute(name: string): string | null };
};

const IMAGES = 600;
const PER_PERSON = 4;
const FILES = 40;
const expected = Array.from({ length: IMAGES }, (_, i) => seededImage(i, PER_PERSON, FILES));

let dir: string;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

const grid = (): ReturnType<Page['locator']> => page.getByTestId('image-grid');
const countText = (): ReturnType<Page['locator']> => page.getByTestId('library-count');

async function pickOption(testId: string, option: string): Promise<void> {
  await page.getByTestId(testId).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

beforeAll(async () => {
  dir = tempDir('library');
  const workspace = join(dir, 'ws.sqlite');
  await seedWorkspace(workspace, dir, {
    images: IMAGES,
    perPerson: PER_PERSON,
    files: FILES,
    datasetName: 'Seeded people',
  });
  ({ served, browser, page, errors } = await startApp(workspace, dir));
});

afterAll(() => stopApp({ browser, served, dir }));

describe('library', () => {
  it('shows the workspace totals and a grid sized by the total, fetching pages as it scrolls', async () => {
    await expect.poll(() => countText().textContent()).toBe('600 images');
    await expect.poll(() => page.getByTestId('stat-images').textContent()).toBe('600');
    await expect
      .poll(() => page.getByTestId('stat-identities').textContent())
      .toBe(String(IMAGES / PER_PERSON));
    await page.locator('[data-index="0"][data-image-id]').waitFor();
    // Only the first page (200) is on screen: the last cells are not in the DOM yet.
    expect(await page.locator('[data-index="599"]').count()).toBe(0);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[role=gridcell] img')]
        .slice(0, 8)
        .every((i) => i.complete && i.naturalWidth > 0),
    );
    await screenshot(page, 'library');

    await grid().evaluate((el) => (el.scrollTop = el.scrollHeight));
    const last = page.locator('[data-index="599"]');
    await last.waitFor();
    await expect.poll(() => last.getAttribute('data-image-id')).not.toBeNull();
    await grid().evaluate((el) => (el.scrollTop = 0));
    await page.locator('[data-index="0"][data-image-id]').waitFor();
  });

  it('opens an image in the drawer with its captions and metadata, and moves with the arrow keys', async () => {
    const index = 5; // has two captions under the seeding rule
    await page.locator(`[data-index="${index}"]`).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByTestId('caption').first().waitFor();
    const texts = await drawer.getByTestId('caption-text').allTextContents();
    expect(texts).toEqual(expected[index]!.captions.map((c) => c.text));
    expect(await drawer.getByTestId('caption-status').allTextContents()).toEqual(
      expected[index]!.captions.map((c) => c.status),
    );
    const meta = await drawer.getByTestId('image-metadata').textContent();
    expect(meta).toContain(expected[index]!.relPath);
    expect(meta).toContain('Seeded people');
    expect(meta).toContain('64 × 128 px');
    await expect.poll(() => drawer.getByTestId('drawer-position').textContent()).toBe('6 of 600');
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid=drawer-image]');
      return img !== null && img.complete && img.naturalWidth === 64;
    });
    await screenshot(page, 'drawer');

    await page.keyboard.press('ArrowRight');
    await expect.poll(() => drawer.getByTestId('drawer-position').textContent()).toBe('7 of 600');
    // Image 6 has no caption under the seeding rule.
    await drawer.getByTestId('no-captions').waitFor();
    expect(await drawer.getByTestId('image-metadata').textContent()).toContain(expected[6]!.relPath);

    await page.keyboard.press('ArrowDown');
    const cols = Number(await grid().getAttribute('aria-colcount'));
    expect(cols).toBeGreaterThan(1);
    await expect.poll(() => drawer.getByTestId('drawer-position').textContent()).toBe(`${7 + cols} of 600`);
    expect(await page.locator(`[data-index="${6 + cols}"]`).getAttribute('aria-selected')).toBe('true');

    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => drawer.getByTestId('drawer-position').textContent()).toBe(`${6 + cols} of 600`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
  });

  it('narrows the grid with filters kept in the URL, and back restores the previous list', async () => {
    const train = expected.filter((e) => e.split === 'train').length;
    await pickOption('filter-split', 'Train');
    await expect.poll(() => countText().textContent()).toBe(`${train} images match`);
    expect(page.url()).toContain('#/library?split=train');
    expect(Number(await grid().getAttribute('data-total'))).toBe(train);

    // Person 0004 is in the train split (splits cycle by person), with four images.
    await page.getByTestId('filter-person').fill('0004');
    await page.getByTestId('filter-person').press('Enter');
    await expect.poll(() => countText().textContent()).toBe('4 images match');
    await page.locator('[data-index="3"][data-image-id]').waitFor();
    expect(await page.locator('[role=gridcell]').count()).toBe(4);

    await page.goBack();
    await expect.poll(() => countText().textContent()).toBe(`${train} images match`);
    expect(await page.getByTestId('filter-person').inputValue()).toBe('');

    await page.getByTestId('filter-clear').click();
    await expect.poll(() => countText().textContent()).toBe('600 images');

    const uncaptioned = expected.filter((e) => e.captions.length === 0).length;
    await pickOption('filter-captions', 'Without captions');
    await expect.poll(() => countText().textContent()).toBe(`${uncaptioned} images match`);
    const flagged = expected.filter((e) => e.captions.some((c) => c.status === 'flagged')).length;
    await pickOption('filter-captions', 'Flagged');
    await expect.poll(() => countText().textContent()).toBe(`${flagged} images match`);

    // A filtered view opens straight from its URL.
    await page.goto(`${served.origin}/#/library?split=none&captions=accepted`);
    const both = expected.filter(
      (e) => e.split === null && e.captions.some((c) => c.status === 'accepted'),
    ).length;
    await expect.poll(() => countText().textContent()).toBe(`${both} images match`);
    await page.goto(`${served.origin}/#/library?person=nobody`);
    await page.getByTestId('library-no-match').waitFor();
  });

  it('switches to the dark theme and keeps the choice across a reload', async () => {
    await page.goto(`${served.origin}/#/library`);
    await page.locator('[data-index="0"][data-image-id]').waitFor();
    const scheme = (): Promise<string | null> =>
      page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme'));
    expect(await scheme()).toBe('light');
    await page.getByTestId('theme-toggle').click();
    await expect.poll(scheme).toBe('dark');
    await page.reload();
    await page.locator('[data-index="0"][data-image-id]').waitFor();
    expect(await scheme()).toBe('dark');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[role=gridcell] img')]
        .slice(0, 8)
        .every((i) => i.complete && i.naturalWidth > 0),
    );
    await screenshot(page, 'library-dark');
    await page.locator('[data-index="1"]').click();
    await page.getByRole('dialog').getByTestId('caption').first().waitFor();
    await screenshot(page, 'drawer-dark');
    await page.keyboard.press('Escape');
    await page.getByTestId('nav-settings').click();
    await page.locator('label', { hasText: 'Light' }).click();
    await expect.poll(scheme).toBe('light');
  });

  it('shows the workspace in Settings and deletes a dataset only after confirmation', async () => {
    await page.goto(`${served.origin}/#/settings`);
    const row = page.getByTestId('dataset-row');
    await row.waitFor();
    expect(await row.textContent()).toContain('Seeded people');
    expect(await page.getByTestId('workspace-stats').textContent()).toContain('600');
    await screenshot(page, 'settings');

    await row.getByTestId('dataset-delete').click();
    await page.getByRole('dialog').getByText('Keep it').click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await page.getByTestId('dataset-row').count()).toBe(1);

    await row.getByTestId('dataset-delete').click();
    await page.getByTestId('delete-confirm').click();
    await expect.poll(() => page.getByTestId('dataset-row').count()).toBe(0);
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-empty').waitFor();
    await expect.poll(() => page.getByTestId('stat-images').textContent()).toBe('0');
  });

  it('logged no errors in the page', () => {
    // Chromium reports CSP notes and a missing favicon as console errors; neither is the app's.
    expect(errors.filter((e) => !/script-src|favicon|status of 404/.test(e))).toEqual([]);
  });
});
