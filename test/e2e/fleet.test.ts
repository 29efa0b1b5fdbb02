// MLLM work beyond one server, as the UI shows it: an endpoint with two oracle replicas (`ctgi oracle
// --replicas 2`, separate processes) and prices; MTG run from the command line, some images synchronously
// (spread over both replicas) and the rest through the Batch API, round by round. Settings lists each
// server of the endpoint with its calls, and the probe checks every one; Jobs shows what each job cost and
// the batch job's rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, stopApp, tempDir } from './helpers/app';
import { screenshot } from './helpers/browser';
import { ctgi, repoRoot, type Served } from './helpers/serve';

let dir: string;
let replicas: { urls: string[]; child: ChildProcess };
let served: Served;
let browser: Browser;
let page: Page;

async function startReplicas(world: string): Promise<{ urls: string[]; child: ChildProcess }> {
  const args = ['oracle', '--world', world, '--replicas', '2', '--batch-delay-ms', '200', '--json'];
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ctgi.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const line = await new Promise<string>((done, fail) => {
    createInterface({ input: child.stdout! }).once('line', done);
    child.once('exit', (code) => fail(new Error(`ctgi oracle --replicas exited (${code}):\n${err}`)));
  });
  return { urls: (JSON.parse(line) as { urls: string[] }).urls, child };
}

beforeAll(async () => {
  dir = tempDir('fleet');
  const world = join(dir, 'world');
  await ctgi(['synth', '--out', world, '--identities', '6', '--views', '2', '--seed', '9', '--no-clip'], dir);
  const ws = join(dir, 'ws.sqlite');
  await ctgi(
    ['import', '-w', ws, '--annotations', join(world, 'data_captions.json'), '--images', join(world, 'imgs')],
    dir,
  );
  replicas = await startReplicas(world);
  await ctgi(
    [
      'endpoints',
      '-w',
      ws,
      '--save',
      'pool',
      '--base-url',
      replicas.urls[0]!,
      '--replica',
      replicas.urls[1]!,
      '--model',
      'oracle-vl',
      '--concurrency',
      '4',
      '--no-key',
      '--price-input',
      '2.5',
      '--price-output',
      '10',
    ],
    dir,
  );
  await ctgi(['mtg', '-w', ws, '--vqa', 'pool', '--images', '1,2,3,4,5,6'], dir);
  await ctgi(['mtg', '-w', ws, '--vqa', 'pool', '--batch', '--batch-poll-ms', '50'], dir);
  ({ served, browser, page } = await startApp(ws, dir));
}, 180_000);

afterAll(async () => {
  replicas?.child.kill('SIGTERM');
  await stopApp({ browser, served, dir });
});

describe('replicas, batches and cost in the UI', () => {
  it('Settings lists both servers of the endpoint with their calls, and the probe checks each', async () => {
    await page.getByTestId('nav-settings').click();
    const row = page.locator('[data-testid=endpoint-row][data-name=pool]');
    await row.waitFor();
    await expect.poll(() => row.getByTestId('endpoint-server-count').textContent()).toBe('2 servers');
    const list = page.locator('[data-testid=replica-list][data-name=pool]');
    const rows = list.getByTestId('replica-row');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-url')))).toEqual(
      replicas.urls,
    );
    // The synchronous job spread its calls over both servers; none failed.
    for (const i of [0, 1]) {
      expect(Number(await rows.nth(i).getByTestId('replica-calls').textContent())).toBeGreaterThan(0);
      await expect.poll(() => rows.nth(i).getByTestId('replica-errors').textContent()).toBe('0');
    }
    await row.getByTestId('endpoint-probe').click();
    const result = page
      .locator('[data-testid=endpoint-probe-row][data-name=pool]')
      .getByTestId('probe-result');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await result.locator('[data-check=replicas]').getAttribute('data-status')).toBe('ok');
    // Health is known once something has called or probed the servers from this process.
    await expect
      .poll(() => rows.getByTestId('replica-health').allTextContents(), { timeout: 10_000 })
      .toEqual(['healthy', 'healthy']);
    await screenshot(page, 'settings-replicas');
  });

  it('Jobs shows each MTG job’s cost, and the batch job’s rounds, all done', async () => {
    await page.getByTestId('nav-jobs').click();
    const jobs = page.getByTestId('job');
    await expect.poll(() => jobs.count()).toBe(3); // the import and the two MTG jobs
    const batchJob = jobs.first();
    const rounds = batchJob.getByTestId('job-batch');
    await expect.poll(() => rounds.count()).toBeGreaterThanOrEqual(2);
    expect(await rounds.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')))).toEqual(
      Array(await rounds.count()).fill('done'),
    );
    expect(await rounds.first().getAttribute('data-round')).toBe('0');
    const cost = (await batchJob.getByTestId('job-cost').textContent()) ?? '';
    expect(cost).toMatch(/batched\) · [\d,]+ tokens · \$\d/);
    const syncCost = (await jobs.nth(1).getByTestId('job-cost').textContent()) ?? '';
    expect(syncCost).toMatch(/^Paid: [\d,]+ calls · [\d,]+ tokens · \$\d/);
    expect(await jobs.nth(1).getByTestId('job-batches').count()).toBe(0);
    await screenshot(page, 'jobs-batch-rounds');
  });

  it('the MTG dialog estimates the cost from a small sample before the job starts', async () => {
    await page.getByTestId('nav-library').click();
    await page.getByTestId('mtg-open').click();
    const dialog = page.getByRole('dialog');
    for (const box of ['mtg-vqa', 'mtg-reconstructor']) {
      await dialog.getByTestId(box).click();
      await page.getByRole('option', { name: /^pool/ }).click();
    }
    await dialog.getByTestId('mtg-redo').check(); // every image has its caption already
    await dialog.getByTestId('mtg-estimate').click();
    const result = dialog.getByTestId('mtg-estimate-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.textContent()).toMatch(
      /^About [\d,]+ tokens for 12 images \([\d.]+ calls each, from 3 run now and kept\): \$\d+\.\d\d, or \$\d+\.\d\d through the Batch API\.$/,
    );
    await screenshot(page, 'mtg-estimate');
  });
});
