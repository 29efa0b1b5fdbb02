// The set-up every end-to-end file shares: a temporary folder, `ctgi serve` on a workspace in it, Chromium,
// and one page with its console errors collected; and the tear-down that undoes all of it in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage } from './browser';
import { startServe, type Served } from './serve';

/** A new folder for one test file, `ctgi-e2e-<name>-…` under the system's temporary folder. */
export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `ctgi-e2e-${name}-`));

export interface OpenApp {
  served: Served;
  browser: Browser;
  page: Page;
  /** The page's errors (uncaught exceptions, console errors), for a test to check at the end. */
  errors: string[];
}

/**
 * Serves `workspace` (from `cwd`, as a user starts `ctgi serve` there), launches Chromium and opens the app
 * at `route` (e.g. `#/review`; default: the app's first page).
 */
export async function startApp(
  workspace: string,
  cwd: string,
  opts: { route?: string; env?: Record<string, string> } = {},
): Promise<OpenApp> {
  const served = await startServe(workspace, cwd, opts.env);
  const browser = await launchBrowser();
  const { page, errors } = await openPage(browser, `${served.url}${opts.route ?? ''}`);
  return { served, browser, page, errors };
}

/** Closes what `startApp` opened and removes the folder; any part may be missing (a set-up that failed). */
export async function stopApp(app: { browser?: Browser; served?: Served; dir?: string }): Promise<void> {
  await app.browser?.close();
  await app.served?.stop();
  if (app.dir) rmSync(app.dir, { recursive: true, force: true });
}
