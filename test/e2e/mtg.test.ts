// MTG end to end in the browser, as an annotator does it: a synthetic world imported by `ctgi import`,
// the oracle MLLM (`ctgi oracle`, a child process) added as an endpoint in Settings and probed green,
// a wrong URL probed red with a message that says what to do, MTG started from the Library's dialog
// (endpoints probed before Start is offered), the job paused, cancelled and resumed in Jobs until done, and an
// image's drawer showing its Q&A rounds, kept and dropped, and the pending MTG caption.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, stopApp, tempDir } from './helpers/app';
import { cutPlaceholders, screenshot } from './helpers/browser';
import { freePort, startOracle, type Oracle } from './helpers/oracle';
import { ctgi, type Served } from './helpers/serve';

const IDENTITIES = 8;
const VIEWS = 2;
const IMAGES = IDENTITIES * VIEWS;

let dir: string;
let world: string;
let oracle: Oracle;
let closedPort: number;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

async function pick(testId: string, option: string | RegExp): Promise<void> {
  await page.getByTestId(testId).click();
  await page.getByRole('option', { name: option }).click();
}

beforeAll(async () => {
  dir = tempDir('mtg');
  world = join(dir, 'world');
  await ctgi(
    [
      'synth',
      '--out',
      world,
      '--identities',
      String(IDENTITIES),
      '--views',
      String(VIEWS),
      '--seed',
      '5',
      '--no-clip',
    ],
    dir,
  );
  const ws = join(dir, 'ws.sqlite');
  await ctgi(
    [
      'import',
      '-w',
      ws,
      '--annotations',
      join(world, 'data_captions.json'),
      '--images',
      join(world, 'imgs'),
      '--name',
      'Synthetic',
    ],
    dir,
  );
  // A little latency per answer, so the batch runs long enough to be paused from the UI.
  oracle = await startOracle(world, 150);
  closedPort = await freePort();
  ({ served, browser, page, errors } = await startApp(ws, dir));
}, 120_000);

afterAll(async () => {
  oracle?.child.kill('SIGTERM');
  await stopApp({ browser, served, dir });
});

async function addEndpoint(name: string, url: string, model: string): Promise<void> {
  await page.getByTestId('endpoint-add').click();
  await page.getByTestId('endpoint-name').fill(name);
  await page.getByTestId('endpoint-url').fill(url);
  await page.getByTestId('endpoint-model').fill(model);
  await page.getByTestId('endpoint-save').click();
}

const probeRow = (name: string) => page.locator(`[data-testid=endpoint-probe-row][data-name="${name}"]`);

describe('MTG through the UI', () => {
  it('adds the oracle as an endpoint in Settings, and its probe passes every check', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('endpoints-empty').waitFor();
    await page.getByTestId('endpoint-add').click();
    // Served over HTTP there is no keychain: keys can only be pointed at, never typed in.
    const keyKinds = (await page.getByTestId('endpoint-key-kind').textContent()) ?? '';
    expect(keyKinds).toContain('Environment variable');
    expect(keyKinds).not.toContain('App keychain');
    await page.keyboard.press('Escape');

    await addEndpoint('oracle', oracle.url, 'oracle-vl');
    const result = probeRow('oracle').getByTestId('probe-result');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-ok')).toBe('true');
    const checks = result.getByTestId('probe-check');
    expect(
      await checks.evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-check')}:${e.getAttribute('data-status')}`),
      ),
    ).toEqual(['key:ok', 'reachable:ok', 'model:ok', 'chat:ok', 'vision:ok']);
    expect(await result.getByTestId('probe-advice').textContent()).toContain('oracle is ready to use');
    const row = page.locator('[data-testid=endpoint-row][data-name=oracle]');
    expect(await row.getByTestId('endpoint-role-label').textContent()).toBe('VQA + reconstructor');
  });

  it('probes a wrong URL and says what is wrong', async () => {
    await addEndpoint('wrong-port', `http://127.0.0.1:${closedPort}/v1`, 'oracle-vl');
    const result = probeRow('wrong-port').getByTestId('probe-result');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-ok')).toBe('false');
    expect(await result.locator('[data-check=reachable]').getAttribute('data-status')).toBe('failed');
    expect(await result.locator('[data-check=vision]').getAttribute('data-status')).toBe('skipped');
    const advice = (await result.getByTestId('probe-advice').textContent()) ?? '';
    expect(advice).toContain(`Cannot reach http://127.0.0.1:${closedPort}/v1`);
    expect(advice).toContain('Is the server running');
    await page.getByTestId('endpoints-table').scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-endpoints');
  });

  it('edits the default prompt set into a new version, after the server refuses a broken regex', async () => {
    const rows = page.getByTestId('prompts-row');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('defaultv1');
    await rows.first().getByTestId('prompts-edit').click();
    const editor = page.getByRole('dialog');
    const notVisible = editor.getByLabel('Not visible');
    const regexes = await notVisible.inputValue();
    await notVisible.fill(`${regexes}\n(unclosed`);
    await editor.getByTestId('prompts-save').click();
    await expect.poll(() => editor.getByTestId('prompts-error').textContent()).toContain('(unclosed');

    await notVisible.fill(regexes);
    await editor.getByLabel('Description').fill('MTG after the CTGI paper, as used by the e2e test');
    await editor.getByTestId('prompts-save').click();
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('defaultv2newest');
  });

  it('starts MTG on the dataset from the Library once both endpoints probe green', async () => {
    await page.getByTestId('nav-library').click();
    await pick('filter-dataset', 'Synthetic');
    await expect.poll(() => page.getByTestId('library-count').textContent()).toBe(`${IMAGES} images match`);
    await page.getByTestId('mtg-open').click();
    const dialog = page.getByRole('dialog');
    await expect
      .poll(() => dialog.getByTestId('mtg-scope').textContent())
      .toContain(`${IMAGES} images selected`);

    // A broken endpoint is caught before the batch, not after it: Start stays off.
    await pick('mtg-vqa', /^wrong-port/);
    await expect
      .poll(() => dialog.getByTestId('mtg-vqa-probe').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('failed');
    expect(await dialog.getByTestId('mtg-vqa-probe').textContent()).toContain('Cannot reach');
    expect(await dialog.getByTestId('mtg-start').isDisabled()).toBe(true);

    await pick('mtg-vqa', /^oracle/);
    await pick('mtg-reconstructor', /^oracle/);
    await expect
      .poll(() => dialog.getByTestId('mtg-vqa-probe').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('ok');
    // The boxes show their whole placeholders (the default of "Images at once" was cut short).
    expect(await dialog.getByTestId('mtg-concurrency').getAttribute('placeholder')).toMatch(/^\d+$/);
    expect(await cutPlaceholders(page)).toEqual([]);
    await dialog.getByTestId('mtg-concurrency').fill('2');
    expect(await dialog.getByTestId('mtg-rounds').inputValue()).toBe('6');
    expect(await dialog.getByTestId('mtg-prompts').inputValue()).toBe('default v2');
    await expect.poll(() => dialog.getByTestId('mtg-start').isEnabled()).toBe(true);
    await screenshot(page, 'mtg-dialog');

    await dialog.getByTestId('mtg-start').click();
    await page.waitForURL(/#\/jobs$/);
    const job = page.getByTestId('job').first();
    await job.waitFor();
    expect(await job.getByTestId('job-title').textContent()).toMatch(
      /^MTG captions for dataset \d+, 6 rounds$/,
    );
  });

  it('pauses the job (stored rounds are kept), cancels the paused job, and resumes it to the end', async () => {
    const job = page.getByTestId('job').first();
    const pause = job.getByTestId('job-pause');
    expect(await pause.textContent()).toBe('Pause');
    // Pause once some images are finished, to see that their work survives the pause.
    await expect
      .poll(() => job.getByTestId('job-progress').getAttribute('data-value').then(Number), {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
    await pause.click();
    await expect.poll(() => job.getAttribute('data-status')).toBe('paused');
    expect(await job.getByTestId('job-status').textContent()).toBe('paused');
    expect(await job.getByTestId('job-paused-note').textContent()).toContain('keeps its stored Q&A rounds');
    const doneWhenPaused = Number(await job.getByTestId('job-progress').getAttribute('data-value'));
    expect(doneWhenPaused).toBeGreaterThan(0);
    expect(doneWhenPaused).toBeLessThan(100);
    expect(await job.getByTestId('job-resume').textContent()).toBe('Resume');
    expect(await job.getByTestId('job-cancel').textContent()).toBe('Cancel');
    await screenshot(page, 'jobs-mtg-paused');

    // A paused job can be cancelled (for good: no Pause, no Cancel), and still be resumed later.
    await job.getByTestId('job-cancel').click();
    await expect.poll(() => job.getAttribute('data-status')).toBe('cancelled');
    expect(await job.getByTestId('job-status').textContent()).toBe('cancelled');
    expect(await job.getByTestId('job-cancel').count()).toBe(0);
    expect(await job.getByTestId('job-paused-note').count()).toBe(0);
    expect(Number(await job.getByTestId('job-progress').getAttribute('data-value'))).toBe(doneWhenPaused);

    await job.getByTestId('job-resume').click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 90_000 }).toBe('done');
    expect(await job.getByTestId('job-progress-text').textContent()).toContain(`${IMAGES} of ${IMAGES}`);
    const message = (await job.getByTestId('job-message').textContent()) ?? '';
    expect(message).toMatch(/\d+ calls \(\d+ cached\) · \d+ tokens · 0 failed/);
    await screenshot(page, 'jobs-mtg');
  });

  it("shows an image's Q&A rounds and its pending MTG caption in the drawer", async () => {
    await page.getByTestId('nav-library').click();
    await page.locator('[data-index="0"][data-image-id]').click();
    const drawer = page.getByRole('dialog');
    const evidence = drawer.getByTestId('mtg-evidence');
    await evidence.waitFor();
    expect(((await evidence.getByTestId('mtg-initial').textContent()) ?? '').length).toBeGreaterThan(10);
    const rounds = evidence.getByTestId('mtg-round');
    expect(await rounds.count()).toBeGreaterThan(0);
    expect(await rounds.count()).toBeLessThanOrEqual(6);
    // Every dropped round names its reason.
    for (const r of await evidence.locator('[data-kept=false]').all()) {
      expect(await r.getByTestId('mtg-drop-reason').textContent()).toMatch(/^dropped · /);
    }
    expect(await evidence.getByTestId('mtg-caption-status').textContent()).toBe('pending');
    expect(await evidence.textContent()).toContain('prompts default v2');
    const reconstruction = (await evidence.getByTestId('mtg-reconstruction').textContent()) ?? '';
    expect(reconstruction.length).toBeGreaterThan(10);
    // The same caption is in the drawer's caption list, waiting for review.
    const mtgCaption = drawer.getByTestId('caption').filter({ hasText: 'MTG' });
    expect(await mtgCaption.getByTestId('caption-text').textContent()).toBe(reconstruction);
    expect(await mtgCaption.getByTestId('caption-status').textContent()).toBe('pending');
    await evidence.scrollIntoViewIfNeeded();
    await screenshot(page, 'drawer-mtg');
  });

  it('logged no errors in the page', () => {
    expect(errors.filter((e) => !/script-src|favicon|status of 404|status of 400/.test(e))).toEqual([]);
  });
});
