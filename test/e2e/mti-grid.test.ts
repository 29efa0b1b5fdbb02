// MTI's re-ranked grid at the largest ranking the API keeps with a search: `mti:start` returns its top
// `results` rows in one array (no paging), at most 1,000. A seeded gallery of 1,200 crops is embedded
// with the toy CLIP, a search is started through the API for 1,000 rows (no MLLM round, so no endpoint
// is ever called), and the saved search is opened in the Conversation tab. The grid must hold a
// screenful of cells, never the 1,000, and scrolling to the end must show the last rank with its scores,
// which opens in the drawer like any other. Stepping through the drawer with the arrow keys moves by the
// grid's own columns and scrolls the grid along, so the open image stays outlined on screen.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MtiSearch } from '#shared/mti/types';
import { stopApp, tempDir } from './helpers/app';
import { launchBrowser, openPage, screenshot } from './helpers/browser';
import { seedWorkspace } from './helpers/seed';
import { ctgi, startServe, type Served } from './helpers/serve';

// Page-side code runs in Chromium; the node tsconfig has no DOM library, so what it touches is declared
// here, module-scoped.
interface PageElement {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
  querySelectorAll(selector: string): ArrayLike<unknown>;
}
declare const document: { querySelector(selector: string): PageElement | null };
declare const performance: { now(): number };
declare function requestAnimationFrame(cb: (t: number) => void): number;

const GALLERY = 1_200;
/** `mti:start`'s cap on the rows kept with a search (src/shared/mti/contract.ts). */
const RESULTS = 1_000;
const QUERY = 'a person in a red top and blue trousers';

let dir: string;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];
let search: MtiSearch;

/** A steady rAF-driven scroll of the grid to its bottom, counting the cells in the DOM at every frame. */
function scrollToBottom(
  p: Page,
  durationMs: number,
): Promise<{ maxCells: number; minCells: number; reachedEnd: boolean }> {
  return p.evaluate(async (ms) => {
    const grid = document.querySelector('[data-testid=mti-grid]')!;
    const end = grid.scrollHeight - grid.clientHeight;
    let maxCells = 0;
    let minCells = Infinity;
    await new Promise<void>((done) => {
      const start = performance.now();
      const tick = (now: number): void => {
        const cells = grid.querySelectorAll('[role=gridcell]').length;
        maxCells = Math.max(maxCells, cells);
        minCells = Math.min(minCells, cells);
        const t = Math.min(1, (now - start) / ms);
        grid.scrollTop = Math.round(end * t);
        if (t < 1) requestAnimationFrame(tick);
        else done();
      };
      requestAnimationFrame(tick);
    });
    return { maxCells, minCells, reachedEnd: Math.abs(grid.scrollTop - end) <= 1 };
  }, durationMs);
}

/** How the drawer counts a position: "1,000 of 1,000". */
const position = (rank: number): string =>
  `${rank.toLocaleString('en-US')} of ${RESULTS.toLocaleString('en-US')}`;

/** Whether the cell lies wholly inside the grid's scrolled viewport (not merely in the DOM). */
async function onScreen(rank: number): Promise<boolean> {
  const grid = await page.getByTestId('mti-grid').boundingBox();
  const cell = await page.getByTestId('mti-grid').locator(`[data-rank="${rank}"]`).boundingBox();
  if (!grid || !cell) return false;
  return cell.y >= grid.y && cell.y + cell.height <= grid.y + grid.height;
}

/** The ranks of the cells in the DOM, in DOM order. */
const ranksInDom = (): Promise<number[]> =>
  page
    .locator('[data-testid=mti-grid] [data-rank]')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rank'))));

beforeAll(async () => {
  dir = tempDir('mti-grid');
  const ws = join(dir, 'ws.sqlite');
  await seedWorkspace(ws, dir, { images: GALLERY, files: 50, perPerson: 4, datasetName: 'MTI grid' });
  // The smallest synthetic world, for its toy CLIP only; the gallery is the seeded one.
  await ctgi(['synth', '--out', join(dir, 'world'), '--identities', '2', '--views', '1', '--seed', '3'], dir);
  process.env.CTGI_ORT_PROVIDER = 'cpu';
  await ctgi(['models', '-w', ws, '--register', join(dir, 'world', 'toy-clip'), '--name', 'toy'], dir);
  await ctgi(['embed', '-w', ws, '--model', 'toy'], dir);
  // A search needs an endpoint to name; with no round to run it is never called.
  await ctgi(
    [
      'endpoints',
      '-w',
      ws,
      '--save',
      'unused',
      '--base-url',
      'http://127.0.0.1:9/v1',
      '--model',
      'none',
      '--role',
      'both',
      '--no-key',
    ],
    dir,
  );
  served = await startServe(ws, dir);
  const [model] = await served.api('models:list', {});
  search = await served.api('mti:start', {
    modelId: model!.id,
    query: QUERY,
    params: { rounds: 0 },
    results: RESULTS,
  });
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser, served.url));
}, 120_000);

afterAll(() => stopApp({ browser, served, dir }));

describe('the MTI grid at the API’s largest ranking', { timeout: 60_000 }, () => {
  it('keeps the whole ranking with the search', () => {
    expect(search.status).toBe('done');
    expect(search.results).toHaveLength(RESULTS);
    expect(search.results.at(-1)!.rank).toBe(RESULTS);
  });

  it('opens the saved search with a screenful of cells in the DOM, from rank 1', async () => {
    await page.evaluate(`location.hash = '#/search?tab=mti&search=${search.id}'`);
    const grid = page.getByTestId('mti-grid');
    await grid.locator('[data-rank="1"]').waitFor();
    expect(await grid.getAttribute('data-total')).toBe(String(RESULTS));
    expect(await page.getByTestId('mti-summary').textContent()).toContain(`Top ${RESULTS}`);

    const ranks = await ranksInDom();
    expect(ranks[0]).toBe(1);
    // Consecutive ranks in reading order: the rows on screen and a few beyond, nothing else.
    expect(ranks).toEqual(ranks.map((_, i) => i + 1));
    expect(ranks.length).toBeLessThan(100);

    const first = grid.locator('[data-rank="1"]');
    const top = search.results[0]!;
    expect(await first.getAttribute('data-image-id')).toBe(String(top.image.id));
    expect(await first.getByTestId('mti-rank').textContent()).toBe('1');
    expect(await first.getByTestId('mti-score-base').textContent()).toBe(top.base.toFixed(3));
    expect(await first.getByTestId('mti-score-refined').textContent()).toBe('—');
    expect(await first.getByTestId('mti-score-fused').textContent()).toBe(top.fused.toFixed(3));
    expect(await first.getByTestId('mti-pick-anchor').count()).toBe(1);
  });

  it('scrolls to the last rank with a bounded DOM', async () => {
    const run = await scrollToBottom(page, 3_000);
    console.log(
      `[mti-grid] ${RESULTS} rows, cells in the DOM while scrolling: ${run.minCells}–${run.maxCells}`,
    );
    expect(run.reachedEnd).toBe(true);
    // Virtualized: the plain grid held all 1,000 cells; this one a screenful plus its overscan.
    expect(run.maxCells).toBeLessThan(100);
    expect(run.minCells).toBeGreaterThan(0);

    const grid = page.getByTestId('mti-grid');
    const last = grid.locator(`[data-rank="${RESULTS}"]`);
    await last.waitFor();
    await expect.poll(() => last.isVisible()).toBe(true);
    const bottom = search.results.at(-1)!;
    expect(await last.getAttribute('data-image-id')).toBe(String(bottom.image.id));
    expect(await last.getByTestId('mti-rank').textContent()).toBe(String(RESULTS));
    expect(await last.getByTestId('mti-score-base').textContent()).toBe(bottom.base.toFixed(3));
    expect(await last.getByTestId('mti-score-fused').textContent()).toBe(bottom.fused.toFixed(3));
    // The top of the ranking has left the DOM; what is there is the tail, in order.
    expect(await grid.locator('[data-rank="1"]').count()).toBe(0);
    const ranks = await ranksInDom();
    expect(ranks.at(-1)).toBe(RESULTS);
    expect(ranks).toEqual(ranks.map((_, i) => RESULTS - ranks.length + 1 + i));
    await expect
      .poll(
        () =>
          last.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    await screenshot(page, 'mti-grid-1000-bottom');
  });

  it('opens the last rank in the drawer', async () => {
    await page.getByTestId('mti-grid').locator(`[data-rank="${RESULTS}"]`).click();
    await expect.poll(() => page.getByTestId('drawer-position').textContent()).toBe('1,000 of 1,000');
    await expect
      .poll(() => page.getByTestId('drawer-image').getAttribute('src'))
      .toMatch(new RegExp(`/${search.results.at(-1)!.image.id}/full\\?`));
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('drawer-position').count()).toBe(0);
  });

  it('steps through the drawer by the grid’s rows, scrolling the open image into view', async () => {
    // Wider than the default page: a row here is more than the 4 cells the default width fits, so a step
    // of a fixed size could not pass for a row.
    await page.setViewportSize({ width: 1800, height: 900 });
    const grid = page.getByTestId('mti-grid');
    await expect.poll(async () => Number(await grid.getAttribute('aria-colcount'))).toBeGreaterThan(4);
    await grid.evaluate((el) => ((el as unknown as PageElement).scrollTop = 0));
    await grid.locator('[data-rank="1"]').click();
    await expect.poll(() => page.getByTestId('drawer-position').textContent()).toBe(position(1));
    const cols = Number(await grid.getAttribute('aria-colcount'));
    const rowsInDom = (await ranksInDom()).length / cols;

    // Down twice as many rows as the DOM held at the top: the selection must leave that first screenful.
    const steps = Math.ceil(rowsInDom * 2);
    let rank = 1;
    const expectOpen = async (): Promise<void> => {
      await expect.poll(() => page.getByTestId('drawer-position').textContent()).toBe(position(rank));
      const cell = grid.locator(`[data-rank="${rank}"]`);
      await expect.poll(() => cell.getAttribute('aria-selected')).toBe('true');
      await expect.poll(() => onScreen(rank)).toBe(true);
      expect(await grid.locator('[aria-selected=true]').count()).toBe(1);
      await expect
        .poll(() => page.getByTestId('drawer-image').getAttribute('src'))
        .toMatch(new RegExp(`/${search.results[rank - 1]!.image.id}/full\\?`));
    };
    for (let i = 0; i < steps; i++) {
      await page.keyboard.press('ArrowDown');
      rank += cols;
      await expectOpen();
    }
    // The grid scrolled with the selection: the top of the ranking has left the DOM.
    expect(await grid.locator('[data-rank="1"]').count()).toBe(0);
    expect(await grid.evaluate((el) => (el as unknown as PageElement).scrollTop)).toBeGreaterThan(0);

    // Across a row's end the next rank is the first cell of the row below.
    for (let i = 0; i < cols; i++) {
      await page.keyboard.press('ArrowRight');
      rank += 1;
      await expectOpen();
    }
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('ArrowUp');
      rank -= cols;
      await expectOpen();
    }
    await screenshot(page, 'mti-grid-drawer-stepped');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('drawer-position').count()).toBe(0);
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(errors).toEqual([]);
  });
});
