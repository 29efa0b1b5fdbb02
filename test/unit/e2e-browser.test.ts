// The e2e suite's first words when Chromium is missing: what the tests need and how to give it to them,
// not Playwright's launcher error about browser downloads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser } from '../e2e/helpers/browser';

const saved = process.env.CTGI_CHROMIUM;
afterEach(() => {
  if (saved === undefined) delete process.env.CTGI_CHROMIUM;
  else process.env.CTGI_CHROMIUM = saved;
});

const NEED =
  'The end-to-end tests need Chromium, and there is no runnable Chromium at PATH. Install it (Debian/Ubuntu: apt-get install -y chromium), or set CTGI_CHROMIUM to the path of a Chromium binary.';

describe('launching the e2e browser', () => {
  it('says the tests need Chromium when CTGI_CHROMIUM names nothing', async () => {
    process.env.CTGI_CHROMIUM = '/nonexistent/chromium';
    await expect(launchBrowser()).rejects.toThrow(NEED.replace('PATH', '/nonexistent/chromium'));
  });

  it('says the same of a file that cannot be run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgi-chromium-'));
    try {
      const file = join(dir, 'chromium');
      writeFileSync(file, 'not a browser', { mode: 0o644 });
      process.env.CTGI_CHROMIUM = file;
      await expect(launchBrowser()).rejects.toThrow(NEED.replace('PATH', file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
