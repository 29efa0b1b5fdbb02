// Text→image search in the browser, from nothing to a result: a synthetic world with its toy CLIP
// imported by `ctgi import`, the model registered in Settings → Models, the "no embeddings" state's
// button embedding the gallery, then a description typed into the search box. The top result's drawer
// must show a person who wears what was asked for (the world's attributes.json knows).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroundTruth } from '../../src/main/synth/world';
import { startApp, stopApp, tempDir } from './helpers/app';
import { screenshot } from './helpers/browser';
import { ctgi, type Served } from './helpers/serve';

declare const document: {
  querySelectorAll(selector: string): Iterable<{ complete: boolean; naturalWidth: number }>;
};

const QUERY = 'a man in a red t-shirt and black trousers';

let dir: string;
let world: string;
let truth: GroundTruth;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  dir = tempDir('search');
  world = join(dir, 'world');
  // Seed 8 has three people in red tops over black bottoms (two men), so the top result has company.
  await ctgi(['synth', '--out', world, '--identities', '150', '--views', '2', '--seed', '8'], dir);
  truth = JSON.parse(readFileSync(join(world, 'attributes.json'), 'utf8')) as GroundTruth;
  const ws = join(dir, 'ws.sqlite');
  await ctgi(
    ['import', '-w', ws, '--annotations', join(world, 'data_captions.json'), '--images', join(world, 'imgs')],
    dir,
  );
  process.env.CTGI_ORT_PROVIDER = 'cpu'; // inherited by ctgi serve: no GPU probing on the test machine
  ({ served, browser, page, errors } = await startApp(ws, dir));
}, 120_000);

afterAll(() => stopApp({ browser, served, dir }));

describe('search through the UI', () => {
  it('sends the user to Settings when no model is registered', async () => {
    await page.getByTestId('nav-search').click();
    await page.getByTestId('search-no-models').waitFor();
    await page.getByRole('link', { name: 'Register a model' }).click();
    await page.getByTestId('models-settings').waitFor();
  });

  it('registers the toy CLIP from its folder, and shows a bad folder’s problems', async () => {
    await page.getByTestId('model-folder').fill(join(dir, 'nowhere'));
    await page.getByTestId('model-register').click();
    await expect
      .poll(() => page.getByTestId('model-register-error').textContent())
      .toMatch(/is not a folder/);

    await page.getByTestId('model-folder').fill(join(world, 'toy-clip'));
    await page.getByTestId('model-name').fill('toy');
    await page.getByTestId('model-register').click();
    const row = page.getByTestId('model-row');
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('toy');
    expect(text).toContain('77 tok');
    expect(await page.getByTestId('model-embedded').textContent()).toBe('0');
  });

  it('offers to embed the gallery, and follows the job to the end', async () => {
    await page.getByTestId('nav-search').click();
    await page.getByTestId('search-no-embeddings').waitFor();
    const images = truth.images.length;
    expect(await page.getByTestId('embed-start').textContent()).toBe(`Embed ${images} images`);
    await page.getByTestId('embed-start').click();
    // The empty state gives way to the query prompt once the job is done and the model list refreshes.
    await page.getByTestId('search-idle').waitFor({ timeout: 90_000 });
  });

  it('counts tokens while typing and warns when the model cannot read the whole query', async () => {
    const input = page.getByTestId('search-input');
    await input.fill(QUERY);
    await expect.poll(() => page.getByTestId('token-count').textContent()).toBe('13 / 77 tokens');
    expect(await page.getByTestId('token-truncated').count()).toBe(0);
    await input.fill(Array.from({ length: 20 }, () => 'a woman in a blue coat').join(', '));
    await page.getByTestId('token-truncated').waitFor();
    expect(await page.getByTestId('token-truncated').textContent()).toMatch(
      /tokens ignored · try a 248-token PES model/,
    );
  });

  it('ranks the gallery for a description, and the top result wears what was asked for', async () => {
    await page.getByTestId('search-input').fill(QUERY);
    await page.getByTestId('search-submit').click();
    const first = page.locator('[data-testid=search-grid] [data-rank="1"]');
    await first.waitFor();
    expect(await page.getByTestId('search-grid').getAttribute('data-total')).toBe(
      String(Math.min(200, truth.images.length)),
    );
    expect(await page.getByTestId('search-provider').textContent()).toBe('text tower on cpu');
    const scores = await page
      .locator('[data-testid=search-grid] [data-rank]')
      .evaluateAll((els) => els.slice(0, 12).map((e) => Number(e.getAttribute('data-score'))));
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeLessThanOrEqual(scores[i - 1]!);
    expect(await first.getByTestId('result-rank').textContent()).toBe('1');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid=search-grid] img')]
        .slice(0, 6)
        .every((i) => i.complete && i.naturalWidth > 0),
    );

    await first.click();
    const drawer = page.getByTestId('image-drawer');
    await drawer.getByTestId('image-metadata').waitFor();
    const meta = (await drawer.getByTestId('image-metadata').textContent()) ?? '';
    const path = truth.images.find((img) => meta.includes(img.file));
    expect(path, `drawer shows one of the world's images: ${meta}`).toBeDefined();
    expect(path!.attributes.top.colour).toBe('red');
    expect(path!.attributes.bottom.colour).toBe('black');
    expect(await drawer.getByTestId('caption-text').first().textContent()).toMatch(/red/);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid=drawer-image]')].every(
        (i) => i.complete && i.naturalWidth > 0,
      ),
    );
    await screenshot(page, 'search');
    // The query lives in the URL, so a reload (or a shared link) shows the same ranking.
    expect(page.url()).toContain(`q=${encodeURIComponent(QUERY).replace(/%20/g, '+')}`);
    await page.keyboard.press('Escape');
  });

  it('logged no errors in the page', () => {
    // Chromium logs CSP notes, and the deliberately bad model folder's 400, as console errors.
    expect(errors.filter((e) => !/script-src|favicon|status of 400/.test(e))).toEqual([]);
  });
});
