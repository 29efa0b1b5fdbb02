// Two people on one `ctgi serve` in two browser contexts (issue 13.1): each opens their own link, the
// desk shows who is signed in and records decisions under that name (never a typed one); a person who
// is not an admin does not see People; a revoked link lands on the login page, where pasting a valid
// link signs in. The token stays in sessionStorage and a header, never a cookie (issue 12.9).
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewQueueEntry } from '#shared/review/types';
import { stopApp, tempDir } from './helpers/app';
import { launchBrowser, openPage } from './helpers/browser';
import { seedWorkspace } from './helpers/seed';
import { startServe, type Served } from './helpers/serve';

let dir: string;
let served: Served;
let browser: Browser;
const links: Record<string, string> = {};

beforeAll(async () => {
  dir = tempDir('team');
  const workspace = join(dir, 'ws.sqlite');
  await seedWorkspace(workspace, dir, { images: 24, files: 6, datasetName: 'Team people' });
  served = await startServe(workspace, dir);
  for (const [name, role] of [
    ['Alice', 'annotator'],
    ['Bob', 'reviewer'],
  ] as const) {
    const { token } = await served.api('users:add', { name, role });
    links[name] = `${served.origin}/#token=${encodeURIComponent(token)}`;
  }
  browser = await launchBrowser();
});

afterAll(() => stopApp({ browser, served, dir }));

async function openAs(name: string, captionId: number): Promise<Page> {
  const { page } = await openPage(browser, links[name]!);
  // The link's fragment is read and dropped: the token is not left in the address bar.
  await expect.poll(() => page.url()).not.toContain('token');
  await page.goto(`${served.origin}/#/review?caption=${captionId}`);
  await page.getByTestId('review-signed-in').waitFor();
  return page;
}

describe('a team in the browser', () => {
  it('shows each person as themselves, side by side, and records their decisions under their name', async () => {
    const queue = (await served.api('review:queue', { filter: {}, limit: 5 })).items as ReviewQueueEntry[];
    const first = queue[0]!;
    const alice = await openAs('Alice', first.captionId);
    const bob = await openAs('Bob', queue[1]!.captionId);
    expect(await alice.getByTestId('review-signed-in').textContent()).toContain('Alice');
    expect(await bob.getByTestId('review-signed-in').textContent()).toContain('Bob');
    expect(await alice.context().cookies()).toEqual([]);

    await alice.keyboard.press('a');
    await expect
      .poll(async () => (await served.api('review:item', { captionId: first.captionId })).caption.status)
      .toBe('accepted');
    const history = await served.api('review:history', { captionId: first.captionId });
    expect(history[0]).toMatchObject({ reviewer: 'Alice', action: 'accept' });

    // Alice pulls a batch: the caption she holds shows Bob who is on it.
    const aliceToken = decodeURIComponent(links.Alice!.split('#token=')[1]!);
    const res = await fetch(`${served.origin}/api/review:pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ctgi-token': aliceToken },
      body: JSON.stringify({ size: 1 }),
    });
    const held = ((await res.json()) as { value: { captionIds: number[] } }).value.captionIds[0]!;
    await bob.goto(`${served.origin}/#/review?caption=${held}`);
    await bob.reload();
    await expect.poll(() => bob.getByTestId('review-lease').textContent()).toBe('being reviewed by Alice');

    // People is for admins: Bob (a reviewer) is told so, and the owner's API lists both.
    await bob.goto(`${served.origin}/#/settings`);
    await expect.poll(() => bob.getByText('Only an admin of this server').count()).toBe(1);
    await alice.context().close();
    await bob.context().close();
  });

  it('sends a revoked person to the login page, where a valid link signs in', async () => {
    const { page } = await openPage(browser, links.Alice!);
    await expect.poll(() => page.url()).not.toContain('token');
    await served.api('users:revoke', { name: 'Alice' });
    await page.reload();
    await page.getByTestId('login-page').waitFor();
    expect(await page.getByTestId('login-reason').textContent()).toMatch(/revoked/);
    await page.getByTestId('login-link').fill(links.Bob!);
    await page.getByTestId('login-submit').click();
    const queue = (await served.api('review:queue', { filter: {}, limit: 1 })).items as ReviewQueueEntry[];
    await page.goto(`${served.origin}/#/review?caption=${queue[0]!.captionId}`);
    await expect.poll(() => page.getByTestId('review-signed-in').textContent()).toContain('Bob');
    await page.context().close();
  });

  it('shows a disagreement on the double-review share to a reviewer, who settles it', async () => {
    await served.api('team:setShare', { share: 1 });
    const tokens: Record<string, string> = {};
    for (const name of ['Carol', 'Dan'])
      tokens[name] = (await served.api('users:add', { name, role: 'annotator' })).token;
    const queue = (await served.api('review:queue', { filter: { statuses: ['pending'] }, limit: 1 }))
      .items as ReviewQueueEntry[];
    const target = queue[0]!;
    for (const [name, decision] of [
      ['Carol', 'accept'],
      ['Dan', 'reject'],
    ] as const) {
      const res = await fetch(`${served.origin}/api/review:decide`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ctgi-token': tokens[name]! },
        body: JSON.stringify({ captionId: target.captionId, version: target.version, decision }),
      });
      expect(res.status).toBe(200);
    }
    const { page } = await openPage(browser, links.Bob!);
    await expect.poll(() => page.url()).not.toContain('token');
    await page.goto(`${served.origin}/#/review?tab=dashboard`);
    const item = page.getByTestId('adjudication-item');
    await item.waitFor();
    expect(await item.textContent()).toMatch(/Carol: accept.*Dan: reject/);
    await item.getByRole('button', { name: 'Reject' }).click();
    await expect
      .poll(async () => (await served.api('review:item', { captionId: target.captionId })).caption.status)
      .toBe('rejected');
    const history = await served.api('review:history', { captionId: target.captionId });
    expect(history[0]).toMatchObject({ reviewer: 'Bob', action: 'reject' });
    await page.context().close();
  });
});
