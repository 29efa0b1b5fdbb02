// The review desk in a real browser against `ctgi serve`: review several items by keyboard, edit one,
// reject one, undo, a second window's conflicting decision, bulk-accept a filter, export, and then the
// exported file's records — plus the MTG evidence panel, the cheat sheet and the dashboard charts.
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import { insertMtgRun, savePromptSet } from '../../src/main/db/repos/mtg';
import { defaultPromptSetBody } from '../../src/main/pipelines/question-pool';
import type { ReviewItem, ReviewQueueEntry } from '#shared/review/types';
import type { ImageId } from '#shared/ids';
import { startApp, stopApp, tempDir } from './helpers/app';
import { cutPlaceholders, openPage, screenshot } from './helpers/browser';
import { seedWorkspace } from './helpers/seed';
import type { Served } from './helpers/serve';
import { tinyModelFolder } from '../fixtures/clip-tiny';

declare const document: { activeElement: { getAttribute(name: string): string | null } | null };

const IMAGES = 40;
let dir: string;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];
let queue: ReviewQueueEntry[];

/**
 * Console lines that are not failures of this page: the 409 of the conflict the test provokes, and
 * Chromium's CSP note when zod (evaluating the shared contract's schemas in the bundle) probes whether
 * `new Function` is allowed — it is not, and zod falls back to its interpreter.
 */
const unexpected = (line: string): boolean =>
  !/status of 409 \(Conflict\)/.test(line) && !/Note that 'script-src' was not explicitly set/.test(line);

const shownId = async (p: Page = page): Promise<number> =>
  Number(await p.getByTestId('review-item').getAttribute('data-caption-id'));
async function expectShown(id: number, p: Page = page): Promise<void> {
  await expect.poll(() => shownId(p), { timeout: 10_000 }).toBe(id);
}
const item = (id: number): Promise<ReviewItem> => served.api('review:item', { captionId: id });

beforeAll(async () => {
  dir = tempDir('review');
  const workspace = join(dir, 'ws.sqlite');
  await seedWorkspace(workspace, dir, {
    images: IMAGES,
    perPerson: 4,
    files: 20,
    datasetName: 'Review people',
  });
  // One generated caption with its Q&A rounds, on an image that has no dataset caption (image 3).
  const { db } = openDatabase(workspace);
  const ps = savePromptSet(db, defaultPromptSetBody());
  insertMtgRun(db, {
    imageId: 4 as ImageId,
    jobId: null,
    promptSetId: ps.id,
    status: 'done',
    error: null,
    initialCaption: 'A person standing.',
    initialCallId: null,
    reconstruction: 'A person in a yellow top and purple trousers.',
    reconstructCallId: null,
    vqa: { endpoint: 'oracle', model: 'qwen2-vl-7b' },
    reconstructor: { endpoint: 'oracle', model: 'gpt-4o' },
    params: {},
    skipped: [],
    calls: 4,
    cachedCalls: 0,
    promptTokens: 10,
    completionTokens: 10,
    elapsedMs: 5,
    rounds: [
      {
        index: 0,
        questionId: 'top',
        question: 'What colour is the top?',
        prompt: 'p',
        answer: 'Yellow.',
        kept: true,
        dropReason: null,
        dropDetail: null,
        fact: 'yellow top',
        llmCallId: null,
        cached: false,
        latencyMs: 1,
        promptTokens: 1,
        completionTokens: 1,
      },
      {
        index: 1,
        questionId: 'hat',
        question: 'Is the person wearing a hat?',
        prompt: 'p',
        answer: 'I cannot tell.',
        kept: false,
        dropReason: 'not_visible',
        dropDetail: 'says it cannot tell',
        fact: null,
        llmCallId: null,
        cached: false,
        latencyMs: 1,
        promptTokens: 1,
        completionTokens: 1,
      },
    ],
    caption: { text: 'A person in a yellow top and purple trousers.', source: 'mtg' },
  });
  db.close();
  // The server runs from a folder of its own, as `npm start` runs it from the repository: a relative
  // export folder must not land there.
  const serverCwd = join(dir, 'server-cwd');
  mkdirSync(serverCwd);
  ({ served, browser, page, errors } = await startApp(workspace, serverCwd, { route: '#/review' }));
  queue = (await served.api('review:queue', { filter: {}, limit: 100 })).items;
});

afterAll(() => stopApp({ browser, served, dir }));

describe('review desk', () => {
  it('opens on the generated captions that wait for a decision, and a new tab keeps the filter chosen', async () => {
    // The seeded library holds dataset captions (of every status) and one pending MTG caption.
    const pendingGenerated = queue.filter((c) => c.status === 'pending' && c.source !== 'human');
    expect(pendingGenerated).toHaveLength(1);
    await expectShown(pendingGenerated[0]!.captionId);
    // The count is its own query: it may still say … when the caption is on screen.
    await expect.poll(() => page.getByTestId('review-queue-count').textContent()).toBe('1 in queue');
    const pressed = (p: Page, chip: string): Promise<boolean> => p.getByTestId(chip).isChecked();
    expect(await pressed(page, 'filter-status-pending')).toBe(true);
    expect(await pressed(page, 'filter-source-mtg')).toBe(true);
    expect(await pressed(page, 'filter-source-human')).toBe(false);
    // Every filter box shows its whole placeholder ("max words" was cut to "max wor").
    expect(await cutPlaceholders(page)).toEqual([]);

    // Another filter, then a new tab of the same browser: it opens on that filter, not on the default.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page
      .getByTestId('review-filters')
      .locator('label', { hasText: /^Rejected$/ })
      .click();
    const rejected = queue.filter((c) => c.status === 'rejected');
    await expect
      .poll(() => page.getByTestId('review-queue-count').textContent())
      .toBe(`${rejected.length} in queue`);
    const tab = await page.context().newPage();
    await tab.goto(`${served.url}#/review`);
    await expectShown(rejected[0]!.captionId, tab);
    await expect
      .poll(() => tab.getByTestId('review-queue-count').textContent())
      .toBe(`${rejected.length} in queue`);
    expect(await pressed(tab, 'filter-status-rejected')).toBe(true);
    expect(await pressed(tab, 'filter-status-pending')).toBe(false);
    await tab.close();

    // Every caption, for the walk through the queue below.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect
      .poll(() => page.getByTestId('review-queue-count').textContent())
      .toBe(`${queue.length} in queue`);
  });

  it('opens on the first caption with its image, and moves with j / k', async () => {
    await expectShown(queue[0]!.captionId);
    await expect
      .poll(() =>
        page
          .getByTestId('review-image')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    await page.keyboard.press('j');
    await expectShown(queue[1]!.captionId);
    await page.keyboard.press('j');
    await expectShown(queue[2]!.captionId);
    await page.keyboard.press('k');
    await expectShown(queue[1]!.captionId);
    expect(await page.getByTestId('review-queue-count').textContent()).toBe(`${queue.length} in queue`);
  });

  it('accepts with a, edits with e + Ctrl+Enter, rejects with r, and undoes with u', async () => {
    const [, a, e, r] = queue;
    await page.keyboard.press('a');
    await expectShown(e!.captionId);
    expect((await item(a!.captionId)).caption.status).toBe('accepted');

    await page.keyboard.press('e');
    // Typed letters are commands until the editor has the focus: wait for it.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null))
      .toBe('review-editor');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('A person in a long green coat, corrected by hand.');
    await expect.poll(() => page.locator('[data-diff=added]').count()).toBeGreaterThan(0);
    await screenshot(page, 'review-editing');
    await page.keyboard.press('Control+Enter');
    await expectShown(r!.captionId);
    // The model (here: dataset) text is kept; the edit is a new, accepted row derived from it.
    const before = await item(e!.captionId);
    expect(before.caption.text).toBe(e!.text);
    const edited = (await served.api('review:queue', { filter: { text: 'corrected by hand' }, limit: 5 }))
      .items;
    expect(edited).toHaveLength(1);
    expect(edited[0]).toMatchObject({ source: 'edited', status: 'accepted', imageId: e!.imageId });

    // A fast reviewer: u right after r, while the reject is still in flight. Neither key is lost.
    await page.keyboard.press('r');
    await page.keyboard.press('u');
    // r was on screen before the keys too, so wait for the undo itself before reading the status.
    await expect.poll(() => page.getByTestId('review-history').textContent()).toContain('undid reject');
    await expectShown(r!.captionId);
    expect((await item(r!.captionId)).caption.status).toBe(r!.status);
  });

  it('tells a second window that the caption changed, and reloads it on Shift+R', async () => {
    const target = queue[3]!;
    const { page: other, errors: otherErrors } = await openPage(
      browser,
      `${served.url}#/review?caption=${target.captionId}`,
    );
    await expectShown(target.captionId, other);
    await expectShown(target.captionId);
    await page.keyboard.press('f');
    await expect.poll(async () => (await item(target.captionId)).caption.status).toBe('flagged');
    await other.keyboard.press('a');
    const alert = other.getByTestId('review-conflict');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(
      /This caption was changed in another window at \d\d:\d\d — reload to see it\./,
    );
    expect((await item(target.captionId)).caption.status).toBe('flagged');
    await screenshot(other, 'review-conflict');
    await other.keyboard.press('Shift+R');
    await alert.waitFor({ state: 'detached' });
    expect(await other.getByTestId('review-status').textContent()).toBe('flagged');
    expect(otherErrors.filter(unexpected)).toEqual([]);
    await other.context().close();
  });

  it('shows an MTG caption’s evidence: initial caption, kept and dropped rounds with the reason', async () => {
    const mtg = queue.find((q) => q.source === 'mtg')!;
    await page.goto(`${served.url}#/review?caption=${mtg.captionId}`);
    await page.reload();
    await expectShown(mtg.captionId);
    expect(await page.getByTestId('review-initial-caption').textContent()).toBe('A person standing.');
    const rounds = page.getByTestId('review-rounds').locator('tr');
    expect(await rounds.count()).toBe(2);
    expect(await rounds.nth(1).getAttribute('data-kept')).toBe('false');
    expect(await rounds.nth(1).textContent()).toContain('not visible');
    await screenshot(page, 'review-evidence');
  });

  it('bulk-accepts a filtered set after confirming its count', async () => {
    await page.getByTestId('filter-text').fill('carries nothing');
    await page.getByTestId('filter-text').press('Enter');
    const filter = { text: 'carries nothing' };
    const n = (await served.api('review:queue', { filter, limit: 0 })).total;
    expect(n).toBeGreaterThan(3);
    await expect.poll(() => page.getByTestId('review-queue-count').textContent()).toBe(`${n} in queue`);
    await page.getByTestId('bulk-accept').click();
    expect(await page.getByTestId('bulk-confirm-text').textContent()).toContain(`Accept ${n} captions`);
    await page.getByTestId('bulk-confirm').click();
    await expect
      .poll(
        async () =>
          (await served.api('review:queue', { filter: { ...filter, statuses: ['accepted'] }, limit: 0 }))
            .total,
      )
      .toBe(n);
    await page.getByRole('button', { name: 'Clear filters' }).click();
  });

  it('exports the accepted captions, and the file holds exactly them', async () => {
    const out = join(dir, 'export-out');
    await page.getByTestId('export-open').click();
    await page.getByTestId('export-folder').fill(out);
    await page.getByTestId('export-format').click();
    await page.getByRole('option', { name: 'RSTPReid (data_captions.json)' }).click();
    await page.getByTestId('export-start').click();
    const file = join(out, 'data_captions.json');
    await expect.poll(() => existsSync(file), { timeout: 30_000 }).toBe(true);
    const records = JSON.parse(readFileSync(file, 'utf8')) as {
      id: number;
      img_path: string;
      captions: string[];
      split: string;
    }[];
    const exported = records.flatMap((r) => r.captions).sort();
    const accepted = (
      await served.api('review:queue', { filter: { statuses: ['accepted'] }, limit: 1000 })
    ).items
      .map((c) => c.text)
      .sort();
    expect(exported).toEqual(accepted);
    expect(exported).toContain('A person in a long green coat, corrected by hand.');
    // The caption that was edited is not current any more: only its edit went out.
    expect(
      (await served.api('review:queue', { filter: { statuses: ['accepted'] }, limit: 1000 })).items.map(
        (c) => c.captionId,
      ),
    ).not.toContain(queue[2]!.captionId);
    for (const r of records) expect(existsSync(join(out, 'imgs', r.img_path))).toBe(true);
    // Exporting again into the same folder is refused up front, in the modal.
    await page.getByTestId('export-open').click();
    await page.getByTestId('export-folder').fill(out);
    await page.getByTestId('export-start').click();
    expect(await page.getByTestId('export-error').textContent()).toMatch(/already holds files/);
    await page.keyboard.press('Escape');
  });

  it('exports only the caption sources chosen, says how many first, and places a relative folder in the workspace folder', async () => {
    const accepted = async (sources: string[]): Promise<string[]> =>
      (
        await served.api('review:queue', { filter: { statuses: ['accepted'], sources }, limit: 1000 })
      ).items.map((c) => c.text);
    const human = await accepted(['human']);
    const edited = await accepted(['edited']);
    expect(edited.length).toBeGreaterThan(0);
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByTestId('export-open').click();
    // Every source at first, each with its count, as `ctgi export` without --sources.
    await expect
      .poll(() => page.getByTestId('export-source-human').textContent())
      .toContain(`· ${human.length}`);
    const all = await accepted(['human', 'mtg', 'edited']);
    await expect
      .poll(() => page.getByTestId('export-count').textContent())
      .toMatch(new RegExp(`^Exports ${all.length} captions of \\d+ images\\.$`));
    await page.getByTestId('export-source-human').getByRole('checkbox').uncheck();
    await page.getByTestId('export-source-mtg').getByRole('checkbox').uncheck();
    await expect
      .poll(() => page.getByTestId('export-count').textContent())
      .toBe(
        `Exports ${edited.length} caption${edited.length === 1 ? '' : 's'} of ${edited.length} image${edited.length === 1 ? '' : 's'}.`,
      );
    // A relative folder goes beside the workspace file, not into the server's own folder.
    await page.getByTestId('export-folder').fill('exports/edited-only');
    await expect
      .poll(() => page.getByTestId('export-target').textContent())
      .toBe(`→ ${join(dir, 'exports', 'edited-only')}`);
    await screenshot(page, 'export-sources');
    await page.getByTestId('export-start').click();
    const file = join(dir, 'exports', 'edited-only', 'data_captions.json');
    await expect.poll(() => existsSync(file), { timeout: 30_000 }).toBe(true);
    const records = JSON.parse(readFileSync(file, 'utf8')) as { captions: string[] }[];
    expect(records.flatMap((r) => r.captions).sort()).toEqual([...edited].sort());
    expect(readdirSync(join(dir, 'server-cwd'))).toEqual([]);
  });

  it('shows the cheat sheet on ? and the dashboard charts', async () => {
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.keyboard.press('?');
    await page.getByText('Next unreviewed (pending)').waitFor();
    await screenshot(page, 'review-cheatsheet');
    await page.keyboard.press('Escape');
    await page.getByTestId('review-tab').getByText('Dashboard').click();
    await page.getByTestId('chart-status').waitFor();
    const stats = await served.api('review:stats', {});
    expect(await page.getByTestId('dash-accepted').textContent()).toBe(String(stats.byStatus.accepted));
    expect(await page.getByTestId('chart-attributes').locator('g').count()).toBe(
      stats.attributeCoverage.length,
    );
    await screenshot(page, 'review-dashboard');
    expect(errors.filter(unexpected)).toEqual([]);
  });

  it('scores every caption with Score all once a model has embedded the images', async () => {
    // Still on the dashboard: no model yet, so it says what to do instead of offering the button.
    await expect
      .poll(() => page.getByTestId('dash-score-coverage').textContent())
      .toMatch(/register a CLIP model and embed the images/);
    const model = await served.api('models:register', { folder: tinyModelFolder(), name: 'tiny' });
    const { job: embed } = await served.api('embed:start', { modelId: model.id });
    await expect
      .poll(async () => (await served.api('jobs:get', { id: embed.id })).status, { timeout: 30_000 })
      .toBe('done');
    const total = (await served.api('review:queue', { filter: {}, limit: 0 })).total;
    await page.getByTestId('review-tab').getByText('Desk').click();
    // The desk scored the caption on screen when it was opened; the rest wait for the job.
    await expect
      .poll(() => page.getByTestId('score-coverage-text').textContent(), { timeout: 10_000 })
      .toMatch(new RegExp(`^\\d+ of ${total} scored$`));
    await page.getByTestId('score-coverage-start').click();
    await expect
      .poll(() => page.getByTestId('score-coverage-text').textContent(), { timeout: 30_000 })
      .toBe(`${total} of ${total} scored`);
    expect((await served.api('review:scoreCoverage', { filter: {} })).scored).toBe(total);
    await screenshot(page, 'review-score-all');
    // The score filter now covers the whole queue.
    expect((await served.api('review:queue', { filter: { scoreMin: -1 }, limit: 0 })).total).toBe(total);
    await page.getByTestId('review-tab').getByText('Dashboard').click();
    await page.getByTestId('chart-score').waitFor();
    expect(await page.getByTestId('dash-score-coverage-text').textContent()).toBe(
      `${total} of ${total} scored`,
    );
    await screenshot(page, 'review-dashboard-scores');
    expect(errors.filter(unexpected)).toEqual([]);
  });

  it('opens on the lowest-scored caption with "lowest score first", and j moves to the next lowest', async () => {
    // Every caption was scored by the test above; the order a plain sort gives (ties by image, then id).
    const scored = (await served.api('review:queue', { filter: {}, limit: 1000 })).items;
    expect(scored.every((c) => c.score !== null)).toBe(true);
    const lowest = [...scored].sort(
      (a, b) => a.score! - b.score! || a.imageId - b.imageId || a.captionId - b.captionId,
    );
    // Not image order in disguise: the lowest-scored caption is not the queue's first.
    expect(lowest[0]!.captionId).not.toBe(scored[0]!.captionId);
    await page.getByTestId('review-tab').getByText('Desk').click();
    await page.getByTestId('filter-order').click();
    await page.getByRole('option', { name: 'Order: lowest score first' }).click();
    await expectShown(lowest[0]!.captionId);
    await expect.poll(() => page.getByTestId('filter-order').inputValue()).toBe('Order: lowest score first');
    await page.keyboard.press('j');
    await expectShown(lowest[1]!.captionId);
    await page.keyboard.press('j');
    await expectShown(lowest[2]!.captionId);
    await page.keyboard.press('k');
    await expectShown(lowest[1]!.captionId);

    // Correcting the caption on screen (a new caption, not scored yet) goes on to the next lowest
    // score, not to the unscored end of the queue where the new caption sits.
    await page.keyboard.press('e');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null))
      .toBe('review-editor');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('A person in a corrected description, fixed in score order.');
    await page.keyboard.press('Control+Enter');
    await expectShown(lowest[2]!.captionId);
    expect(errors.filter(unexpected)).toEqual([]);
  });
});
