// MTI in the browser, as an analyst uses it: a synthetic world with its toy CLIP imported, registered and
// embedded through `ctgi`, the oracle MLLM (a child process that looks at the pixels and knows the
// world) saved as the endpoint, then a vague description sent from the Search page's Conversation tab.
// The transcript must show the anchor checks with a Yes, the questions and answers, the refined query; the
// grid the three score parts. Answering a question in place of the MLLM rewrites q̂ and re-ranks; Back
// restores the step before; the saved search reopens from the list with its transcript. The MTI report
// tab runs the evaluation as a job (progress bar, Cancel) and shows with/without metrics, also after a reload.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MtiSearch } from '#shared/mti/types';
import { startApp, stopApp, tempDir } from './helpers/app';
import { screenshot } from './helpers/browser';
import { freePort, startOracle, type Oracle } from './helpers/oracle';
import { ctgi, type Served } from './helpers/serve';

// Seed 7's world has two people in pink t-shirts (and others in pink shirts and sweaters): vague on purpose.
const QUERY = 'a person with a pink t-shirt';

let dir: string;
let oracle: Oracle;
let slow: Oracle;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

const panel = () => page.getByTestId('mti-panel');
const refinedValue = () => panel().getByTestId('mti-refined-input').inputValue();

/** The search the URL names, as saved: the whole ranking, where the virtualized grid holds a screenful. */
async function savedSearch(): Promise<MtiSearch> {
  const id = Number(/[?&]search=(\d+)/.exec(page.url())?.[1]);
  expect(id).toBeGreaterThan(0);
  return served.api('searches:get', { id });
}

/** The saved ranking: image and fused score per row, in rank order. */
const ranking = async (): Promise<string[]> =>
  (await savedSearch()).results.map((r) => `${r.image.id}:${r.fused.toFixed(4)}`);

/** Waits until every cell in the grid shows the row of `order` its rank names (and some cells are there). */
async function expectGridShows(order: string[]): Promise<void> {
  const shown = () =>
    page.locator('[data-testid=mti-grid] [data-rank]').evaluateAll((els) =>
      els.map((e) => ({
        rank: Number(e.getAttribute('data-rank')),
        row: `${e.getAttribute('data-image-id')}:${Number(e.getAttribute('data-fused')).toFixed(4)}`,
      })),
    );
  await expect
    .poll(async () => {
      const cells = await shown();
      return cells.length > 0 && cells.every((c) => order[c.rank - 1] === c.row);
    })
    .toBe(true);
}
/** Waits until the panel has finished its call (no live card) and reports a settled status. */
async function settled(): Promise<string> {
  await expect
    .poll(
      async () =>
        (await page.getByTestId('mti-live').count()) === 0 &&
        (await panel().getAttribute('data-status')) !== 'running',
      { timeout: 60_000 },
    )
    .toBe(true);
  return (await panel().getAttribute('data-status')) ?? '';
}

beforeAll(async () => {
  dir = tempDir('mti');
  const world = join(dir, 'world');
  const ws = join(dir, 'ws.sqlite');
  await ctgi(['synth', '--out', world, '--identities', '40', '--views', '3', '--seed', '7'], dir);
  await ctgi(
    ['import', '-w', ws, '--annotations', join(world, 'data_captions.json'), '--images', join(world, 'imgs')],
    dir,
  );
  process.env.CTGI_ORT_PROVIDER = 'cpu';
  await ctgi(['models', '-w', ws, '--register', join(world, 'toy-clip'), '--name', 'toy'], dir);
  await ctgi(['embed', '-w', ws, '--model', 'toy'], dir);
  // A little latency per answer, so the live steps are on screen long enough to be seen; the slow one
  // answers late enough for Cancel to be pressed mid-round.
  oracle = await startOracle(world, 40);
  slow = await startOracle(world, 1500);
  await ctgi(
    [
      'endpoints',
      '-w',
      ws,
      '--save',
      'oracle',
      '--base-url',
      oracle.url,
      '--model',
      'oracle-vl',
      '--role',
      'both',
      '--concurrency',
      '20',
      '--no-key',
    ],
    dir,
  );
  await ctgi(
    [
      'endpoints',
      '-w',
      ws,
      '--save',
      'slow',
      '--base-url',
      slow.url,
      '--model',
      'oracle-vl',
      '--role',
      'both',
      '--concurrency',
      '4',
      '--no-key',
    ],
    dir,
  );
  // Sorted after "oracle", so it is never the default: the analyst picks it to see a failing endpoint.
  await ctgi(
    [
      'endpoints',
      '-w',
      ws,
      '--save',
      'unreachable',
      '--base-url',
      `http://127.0.0.1:${await freePort()}/v1`,
      '--model',
      'oracle-vl',
      '--role',
      'both',
      '--timeout',
      '2',
      '--no-key',
    ],
    dir,
  );
  ({ served, browser, page, errors } = await startApp(ws, dir));
}, 180_000);

afterAll(async () => {
  oracle?.child.kill('SIGTERM');
  slow?.child.kill('SIGTERM');
  await stopApp({ browser, served, dir });
});

describe('MTI through the UI', { timeout: 120_000 }, () => {
  it('offers the conversation tab, and does not start without a description', async () => {
    await page.getByTestId('nav-search').click();
    await page.getByTestId('search-tab').getByText('Conversation (MTI)').click();
    await page.getByTestId('mti-idle').waitFor();
    expect(await page.getByTestId('search-submit').textContent()).toBe('Ask the MLLM');
    expect(await page.getByTestId('search-submit').isDisabled()).toBe(true);
    expect(await page.getByTestId('mti-start').isDisabled()).toBe(true);
  });

  it('offers to ask about the text in the box as soon as it is typed, and not once it is cleared', async () => {
    const start = page.getByTestId('mti-start');
    await page.getByTestId('search-input').fill(QUERY);
    await expect.poll(() => start.isEnabled()).toBe(true);
    expect(await start.textContent()).toBe(`Ask the MLLM about “${QUERY}”`);
    await page.getByTestId('search-input').fill('');
    await expect.poll(() => start.isDisabled()).toBe(true);
    expect(await start.textContent()).toBe('Type a description first');
  });

  it('runs MTI on a vague query and shows the anchor check, the questions and the refined query', async () => {
    await page.getByTestId('search-input').fill(QUERY);
    await page.getByTestId('search-submit').click();
    // The live card (with Cancel) shows while the oracle answers.
    await page.getByTestId('mti-live').waitFor();
    expect(await settled()).toBe('done');

    expect(await panel().getByTestId('mti-query').textContent()).toContain(QUERY);
    const round = panel().locator('[data-testid=mti-round][data-round="1"]');
    const verdicts = await round.getByTestId('mti-verdict').allTextContents();
    expect(verdicts).toContain('Yes');
    expect(
      await round
        .locator('[data-testid=mti-check][data-anchor=true] [data-testid=mti-verdict]')
        .textContent(),
    ).toBe('Yes');
    expect(await round.getByTestId('mti-anchor').textContent()).toMatch(/Anchor: #\d+/);
    const questions = round.getByTestId('mti-question');
    expect(await questions.count()).toBeGreaterThan(0);
    const answers = await questions.getByTestId('mti-answer').allTextContents();
    expect(answers.every((a) => a.trim() !== '' && a !== '—')).toBe(true);
    const refined = await refinedValue();
    expect(refined.length).toBeGreaterThan(QUERY.length);
    expect(refined).toMatch(/pink/);

    // Each cell shows S(q,v), S(q̂,v) and the fused score the rank follows, in fused order.
    const grid = page.getByTestId('mti-grid');
    const first = grid.locator('[data-rank="1"]');
    expect(await first.getByTestId('mti-score-base').textContent()).toMatch(/^-?\d\.\d{3}$/);
    expect(await first.getByTestId('mti-score-refined').textContent()).toMatch(/^-?\d\.\d{3}$/);
    const fused = await grid
      .locator('[data-rank]')
      .evaluateAll((els) => els.slice(0, 20).map((e) => Number(e.getAttribute('data-fused'))));
    for (let i = 1; i < fused.length; i++) expect(fused[i]!).toBeLessThanOrEqual(fused[i - 1]!);
    expect(page.url()).toMatch(/search=\d+/);
    await screenshot(page, 'mti-panel');
  });

  let before: { refined: string; order: string[] } = { refined: '', order: [] };
  it('answers a question in place of the MLLM, and q̂ and the ranking follow', async () => {
    before = { refined: await refinedValue(), order: await ranking() };
    expect(before.order).toHaveLength(100);
    await expectGridShows(before.order);
    // The colour of the lower garment: an answer the refined description must carry.
    const q = panel()
      .locator('[data-testid=mti-round][data-round="1"] [data-testid=mti-question]')
      .filter({ hasText: /colour is the garment on the person.s lower body/ });
    const original = (await q.getByTestId('mti-answer').textContent()) ?? '';
    const mine = /green/i.test(original) ? 'purple' : 'green';
    await q.getByTestId('mti-answer-instead').click();
    await q.getByTestId('mti-answer-input').fill(mine);
    await q.getByTestId('mti-answer-submit').click();
    expect(await settled()).toBe('done');
    const after = panel()
      .locator('[data-testid=mti-round][data-round="1"] [data-testid=mti-question]')
      .filter({ hasText: /colour is the garment on the person.s lower body/ });
    expect(await after.getByTestId('mti-answer').textContent()).toBe(mine);
    expect(await after.getByTestId('mti-by').textContent()).toBe('you');
    await expect.poll(refinedValue).not.toBe(before.refined);
    expect(await refinedValue()).toContain(mine);
    const reranked = await ranking();
    expect(reranked).toHaveLength(before.order.length);
    expect(reranked).not.toEqual(before.order);
    await expectGridShows(reranked);
  });

  it('goes back one step to the MLLM’s answer and q̂', async () => {
    await panel().getByTestId('mti-back').click();
    expect(await settled()).toBe('done');
    await expect.poll(refinedValue).toBe(before.refined);
    expect(await ranking()).toEqual(before.order);
    await expectGridShows(before.order);
    expect(await panel().getByTestId('mti-back').isDisabled()).toBe(true);
  });

  it('reopens the saved search from the list with its transcript', async () => {
    await page.getByTestId('search-tab').getByText('Ranking').click();
    await page.getByTestId('search-tab').getByText('Conversation (MTI)').click();
    await page.getByTestId('mti-saved').click();
    const row = page.getByTestId('mti-saved-row').first();
    await row.waitFor();
    expect(await row.textContent()).toContain(QUERY);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('mti-saved-row').count()).toBe(0);
    // Leave the search first, so the reopened transcript must come from the saved row.
    await page.evaluate("location.hash = '#/search?tab=mti'");
    await page.getByTestId('mti-idle').waitFor();
    await page.getByTestId('mti-saved').click();
    await page.getByTestId('mti-saved-row').first().click();
    await panel().locator('[data-testid=mti-round][data-round="1"]').waitFor();
    expect(await refinedValue()).toBe(before.refined);
    expect(await panel().getByTestId('mti-verdict').allTextContents()).toContain('Yes');
    expect(await ranking()).toEqual(before.order);
    await expectGridShows(before.order);
  });

  it('evaluates MTI on the split as a job and shows the report, also after a reload', async () => {
    await page.getByTestId('search-tab').getByText('MTI report').click();
    await page.getByTestId('mti-report-limit').fill('16');
    await page.getByTestId('mti-report-xi').fill('2');
    await page.getByTestId('mti-report-check-concurrency').fill('5');
    await page.getByTestId('mti-report-run').click();
    const report = page.getByTestId('mti-report');
    await report.waitFor({ timeout: 90_000 });
    await expect.poll(() => page.getByTestId('mti-report-job').count()).toBe(0);
    const metrics = (await page.getByTestId('mti-report-metrics').textContent()) ?? '';
    expect(metrics).toContain('Query alone');
    expect(metrics).toContain('With MTI');
    expect(await report.textContent()).toContain('16 one-attribute queries');
    expect(await report.textContent()).toContain('5 checks at once');
    expect(await page.getByTestId('mti-report-histogram').textContent()).toMatch(/ξ = 2/);
    await screenshot(page, 'mti-report');

    // The report is stored with the job: a reload shows it again without evaluating anew.
    await page.reload();
    await page.getByTestId('mti-report').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('mti-report').textContent()).toContain('16 one-attribute queries');
    expect(await page.getByTestId('mti-report-job').count()).toBe(0);
  });

  it('cancels a running evaluation from the report view', async () => {
    await page.getByTestId('mti-report-endpoint').click();
    await page.getByRole('option', { name: /slow/ }).click();
    await page.getByTestId('mti-report-limit').fill('12');
    await page.getByTestId('mti-report-run').click();
    const job = page.getByTestId('mti-report-job');
    // While it runs: a progress bar of the queries done, with Cancel (the slow oracle takes 1.5 s a call).
    await page.getByTestId('mti-report-progress').waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => (await job.textContent()) ?? '', { timeout: 20_000 })
      .toMatch(/Evaluating: \d+ of 12 queries/);
    // A new evaluation replaces the previous report on screen.
    expect(await page.getByTestId('mti-report').count()).toBe(0);
    await page.getByTestId('mti-report-cancel').click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 30_000 }).toBe('cancelled');
    expect(await job.textContent()).toMatch(/Cancelled after \d+ of 12 queries/);
    expect(await page.getByTestId('mti-report-resume').isVisible()).toBe(true);
    expect(await page.getByTestId('mti-report-run').isEnabled()).toBe(true);
    expect(await page.getByTestId('mti-report').count()).toBe(0);
  });

  it('cancels a running search and keeps the plain ranking', async () => {
    await page.getByTestId('search-tab').getByText('Conversation (MTI)').click();
    await page.getByTestId('mti-endpoint').click();
    await page.getByRole('option', { name: /slow/ }).click();
    await page.getByTestId('search-input').fill(QUERY);
    await page.getByTestId('search-submit').click();
    const cancel = page.getByTestId('mti-cancel');
    await cancel.waitFor();
    // Enabled once the first step names the search (the first answered check).
    await expect.poll(() => cancel.isEnabled(), { timeout: 20_000 }).toBe(true);
    await cancel.click();
    expect(await settled()).toBe('cancelled');
    expect(await panel().getByTestId('mti-fallback').textContent()).toMatch(/Cancelled during round 1/);
    // The grid is virtualized: its cells appear once it has measured itself, a frame or two later.
    await expect.poll(() => page.locator('[data-testid=mti-grid] [data-rank]').count()).toBeGreaterThan(0);
  });

  it('falls back to the plain ranking, and says why, when the endpoint fails', async () => {
    await page.getByTestId('mti-endpoint').click();
    await page.getByRole('option', { name: /unreachable/ }).click();
    await page.getByTestId('search-input').fill(QUERY);
    await page.getByTestId('search-submit').click();
    expect(await settled()).toBe('fallback');
    const why = (await panel().getByTestId('mti-fallback').textContent()) ?? '';
    expect(why).toMatch(
      /The MLLM failed during round 1 \(.+\)\. Showing the ranking of the steps completed before it \(the query alone\)/,
    );
    expect(await page.getByTestId('mti-status').textContent()).toBe('fallback');
    // The plain ranking: no q̂ part, every row where S(q, v) alone puts it.
    const rows = page.locator('[data-testid=mti-grid] [data-rank]');
    await expect
      .poll(() =>
        rows.evaluateAll(
          (els) =>
            els.length > 0 &&
            els.every((e) => e.getAttribute('data-rank') === e.getAttribute('data-base-rank')),
        ),
      )
      .toBe(true);
    await expect.poll(() => rows.first().getByTestId('mti-score-refined').textContent()).toBe('—');
    // And so is the whole saved ranking, beyond the rows on screen.
    await expect.poll(async () => (await savedSearch()).status).toBe('fallback');
    const saved = (await savedSearch()).results;
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.every((r) => r.rank === r.baseRank && r.refined === null)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('says once that there is no anchor when the MLLM turns down every candidate', async () => {
    // Nobody in seed 7's world wears a green cap: the oracle answers no for every candidate. Started
    // from the button in the middle, which asks about what the box holds.
    await page.evaluate("location.hash = '#/search?tab=mti'");
    await page.getByTestId('mti-idle').waitFor();
    await page.getByTestId('mti-endpoint').click();
    await page.getByRole('option', { name: /^oracle/ }).click();
    await page.getByTestId('search-input').fill('a man wearing a green cap');
    await page.getByTestId('mti-start').click();
    expect(await settled()).toBe('done');
    const note = panel().locator('[data-testid=mti-round][data-round="1"] [data-testid=mti-no-anchor]');
    expect(await note.textContent()).toBe(
      'No anchor: the MLLM said no to all 20 candidates, so the ranking stays as it was.',
    );
    expect(errors).toEqual([]);
  });
});
