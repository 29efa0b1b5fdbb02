// A person re-ID dataset imported through the UI as it comes (issue 16): a synthetic Market-1501 tree
// (test/fixtures/reid-trees.ts) given as the image folder, the layout detected and previewed in the import
// dialog before anything starts (persons, roles, junk, distractors, the folder left out), overridden to a
// plain folder and back, then imported and seen in the library with its persons.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReidTree } from '../fixtures/reid-trees';
import { startApp, stopApp, tempDir } from './helpers/app';
import { screenshot } from './helpers/browser';
import type { Served } from './helpers/serve';

let dir: string;
let tree: string;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  dir = tempDir('reid');
  tree = await writeReidTree('market', join(dir, 'Market-1501'));
  ({ served, browser, page, errors } = await startApp(join(dir, 'ws.sqlite'), dir));
});

afterAll(() => stopApp({ browser, served, dir }));

const text = async (id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? '';

describe('re-ID layout detection in the import dialog', () => {
  it('shows what a Market-1501 folder holds before the import starts', async () => {
    await page.getByTestId('library-empty').waitFor();
    await page.getByTestId('import-open').click();
    await page.getByTestId('import-image-root').fill(tree);
    await page.getByTestId('import-detect').click();
    const panel = page.getByTestId('import-detection');
    await panel.waitFor();
    expect(await panel.getAttribute('data-layout')).toBe('market');
    expect(await text('detect-layout')).toBe('Market-1501');
    expect(await text('detect-how')).toBe('detected');
    expect(await text('detect-evidence')).toMatch(/bounding_box_train\/, bounding_box_test\/, query\//);
    expect(await text('detect-images')).toBe('59');
    expect(await text('detect-roles')).toBe('24 · 4 · 31');
    expect(await text('detect-persons')).toBe('8');
    expect(await text('detect-cameras')).toBe('3');
    expect(await text('detect-junk')).toBe('5');
    expect(await text('detect-distractors')).toBe('6');
    expect(await text('detect-skipped')).toBe('1');
    await screenshot(page, 'import-reid-detection');
  });

  it('lets the user override the layout, and the preview follows', async () => {
    await page.getByTestId('import-layout').click();
    await page.getByRole('option', { name: 'Plain folder of images', exact: true }).click();
    const panel = page.getByTestId('import-detection');
    await expect.poll(() => panel.getAttribute('data-layout')).toBe('plain');
    expect(await text('detect-how')).toBe('as chosen');
    expect(await page.getByTestId('detect-persons').count()).toBe(0);

    await page.getByTestId('import-layout').click();
    await page.getByRole('option', { name: 'Detect the re-ID layout', exact: true }).click();
    await expect.poll(() => panel.getAttribute('data-layout')).toBe('market');
  });

  it('imports what the preview showed: persons, junk and distractors kept apart', async () => {
    await page.getByTestId('import-submit').click();
    await page.waitForURL(/#\/jobs$/);
    const job = page.getByTestId('job').first();
    await job.waitFor();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    await page.getByTestId('nav-library').click();
    await expect.poll(() => page.getByTestId('stat-images').textContent()).toBe('59');
    await expect.poll(() => page.getByTestId('stat-identities').textContent()).toBe('8');
    // The first file in walk order is a junk image of the gallery: no identity, its kind said instead.
    await page.locator('[data-index="0"][data-image-id]').click();
    const meta = page.getByRole('dialog').getByTestId('image-metadata');
    await meta.waitFor();
    const shown = (await meta.textContent()) ?? '';
    expect(shown).toContain('bounding_box_test/-1_c');
    expect(shown).toContain('junk (-1)');
    expect(shown).toMatch(/Role\s*gallery/);
    await page.keyboard.press('Escape');

    await page.getByTestId('nav-settings').click();
    const row = page.getByTestId('dataset-row');
    await row.waitFor();
    expect(await row.getByTestId('dataset-format').textContent()).toBe('Market-1501');
  });

  it('logged no errors in the page', () => {
    expect(errors.filter((e) => !/script-src|favicon|status of 404/.test(e))).toEqual([]);
  });
});
