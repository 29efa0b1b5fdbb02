// Footage in the browser: synthetic footage processed by `ctgi footage` (toy detector) and embedded
// (toy CLIP), then the Footage view (cameras on a timeline, processed coverage, the camera-pattern
// preview, tracks per camera), a search result opened on its frame with its box, stepping through its
// track, and the camera and time filters; then an MTI search (the oracle MLLM, reading the crops' pixels)
// whose re-ranked footage hits show by track with camera and time, under the same filters.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FootageTruth } from '../../src/main/synth/footage';
import { FOOTAGE_PATTERN } from '../../src/main/synth/footage';
import { launchBrowser, openPage, screenshot } from './helpers/browser';
import { startOracle, type Oracle } from './helpers/oracle';
import { ctgi, startServe, type Served } from './helpers/serve';

declare const document: {
  querySelector(selector: string): { complete: boolean; naturalWidth: number } | null;
};

let dir: string;
let videos: string;
let truth: FootageTruth;
let served: Served;
let oracle: Oracle;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-e2e-footage-'));
  const syn = join(dir, 'syn');
  await ctgi(['synth', '--footage', syn, '--seconds', '12'], dir);
  videos = join(syn, 'videos');
  truth = JSON.parse(readFileSync(join(videos, 'footage-truth.json'), 'utf8')) as FootageTruth;
  const ws = join(dir, 'ws.sqlite');
  process.env.CTGI_ORT_PROVIDER = 'cpu'; // inherited by ctgi serve: no GPU probing on the test machine
  await ctgi(['detectors', '-w', ws, '--register', join(syn, 'toy-detector')], dir);
  await ctgi(['models', '-w', ws, '--register', join(syn, 'toy-clip')], dir);
  await ctgi(
    [
      'footage',
      '-w',
      ws,
      '--folder',
      videos,
      '--detector',
      'toy-detector',
      '--camera-pattern',
      FOOTAGE_PATTERN,
      '--utc-offset',
      '0',
    ],
    dir,
  );
  await ctgi(['embed', '-w', ws, '--model', 'toy-clip'], dir);
  oracle = await startOracle(null, 0);
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
  served = await startServe(ws, dir);
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser, served.url));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  oracle?.child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const frameLoaded = (): Promise<unknown> =>
  page.waitForFunction(() => {
    const i = document.querySelector('[data-testid=frame-image]');
    return i !== null && i.complete && i.naturalWidth > 0;
  });

describe('footage through the UI', () => {
  it('shows the cameras on a timeline, fully processed, with their tracks', async () => {
    await page.getByTestId('nav-footage').click();
    await page.getByTestId('footage-folder-card').waitFor();
    const rows = page.getByTestId('camera-row');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-camera')))).toEqual(
      truth.cameras.map((c) => c.name),
    );
    const bars = page.getByTestId('recording-bar');
    expect(await bars.count()).toBe(truth.cameras.length);
    expect(
      await bars.evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-status'), e.getAttribute('data-processed')]),
      ),
    ).toEqual(truth.cameras.map(() => ['done', '1.00']));
    expect(await page.getByTestId('camera-stats').first().textContent()).toMatch(
      /1 rec · 12 s\/12 s · \d+ tracks/,
    );

    await rows.nth(1).click();
    const tracks = page.getByTestId('track-item');
    await tracks.first().waitFor();
    await screenshot(page, 'footage-view');
    await tracks.first().click();
    await frameLoaded();
    await expect.poll(() => page.getByTestId('frame-camera').textContent()).toBe(truth.cameras[1]!.name);
    await page.keyboard.press('Escape');
  });

  it('previews what a camera pattern reads from the folder’s file names, and says what is wrong with a bad one', async () => {
    await page.getByTestId('footage-folder').fill(videos);
    await page.getByTestId('footage-pattern').fill(FOOTAGE_PATTERN);
    await expect
      .poll(() => page.getByTestId('pattern-camera').allTextContents())
      .toEqual(truth.cameras.map((c) => c.name));
    expect(await page.getByTestId('pattern-preview').textContent()).toContain(truth.cameras[0]!.startLocal);
    await page.getByTestId('footage-pattern').fill('{camera}_{date:YYYYMMDD');
    await expect.poll(() => page.getByTestId('pattern-problems').textContent()).toMatch(/is not closed/);
    expect(await page.getByTestId('footage-run').isDisabled()).toBe(true);
    await page.getByTestId('footage-pattern').fill('{camera}_{time:HHmmss}_{date:YYYYMMDD}');
    await expect
      .poll(() => page.locator('[data-testid=pattern-row][data-ok=false]').count())
      .toBe(truth.cameras.length);
  });

  it('starts a footage job from the form on another folder and shows it processed', async () => {
    // A second site: one recording of cam01, in a folder named after another camera (the pattern wins).
    const site = join(dir, 'site-b');
    mkdirSync(join(site, 'entrance'), { recursive: true });
    copyFileSync(
      join(videos, truth.cameras[0]!.file),
      join(site, 'entrance', truth.cameras[0]!.file.split('/')[1]!),
    );
    await page.getByTestId('footage-folder').fill(site);
    await page.getByTestId('footage-pattern').fill(FOOTAGE_PATTERN);
    await expect
      .poll(() => page.getByTestId('pattern-camera').allTextContents())
      .toEqual([truth.cameras[0]!.name]);
    await page.getByTestId('footage-run').click();
    await expect
      .poll(() => page.getByTestId('footage-started').textContent())
      .toMatch(/^Started footage job #\d+/);
    const card = page.getByTestId('footage-folder-card').filter({ hasText: site });
    await expect
      .poll(() => card.getByTestId('recording-bar').getAttribute('data-processed'), { timeout: 90_000 })
      .toBe('1.00');
    expect(await card.getByTestId('camera-row').getAttribute('data-camera')).toBe(truth.cameras[0]!.name);
  });

  it('opens a search result on its frame with its box, and steps through its track', async () => {
    const person = truth.people[0]!;
    const q = `a person in a ${person.attributes.top.colour} ${person.attributes.top.type}`;
    await page.goto(`${served.url.split('#')[0]}#/search?q=${encodeURIComponent(q)}`);
    const first = page.locator('[data-testid=search-grid] [data-rank="1"]');
    await first.waitFor();
    const label = (await first.getByTestId('result-footage').textContent()) ?? '';
    expect(label).toMatch(/^cam0\d \d\d:\d\d:\d\d$/);
    await first.click();
    await frameLoaded();
    const viewer = page.getByTestId('frame-viewer');
    const camera = (await page.getByTestId('frame-camera').textContent()) ?? '';
    expect(label.startsWith(camera)).toBe(true);
    const cam = truth.cameras.find((c) => c.name === camera)!;
    const time = (await page.getByTestId('frame-time').textContent()) ?? '';
    // The frame's wall-clock time is within the recording (UTC, as the names say).
    const t = Date.parse(`${time.replace(' ', 'T')}Z`);
    const start = Date.parse(`${cam.startLocal}Z`);
    expect(t).toBeGreaterThanOrEqual(start);
    expect(t).toBeLessThanOrEqual(start + 12_000);
    const box = ((await page.getByTestId('frame-box').getAttribute('data-box')) ?? '').split(',').map(Number);
    expect(box).toHaveLength(4);
    expect(box[2]! > box[0]! && box[3]! > box[1]!).toBe(true);
    expect(box[2]!).toBeLessThanOrEqual(truth.width + 1);
    // The box is drawn over the frame, where the picture is.
    const drawn = await page.getByTestId('frame-box').boundingBox();
    const img = await page.getByTestId('frame-image').boundingBox();
    expect(drawn!.x).toBeGreaterThanOrEqual(img!.x - 1);
    expect(drawn!.x + drawn!.width).toBeLessThanOrEqual(img!.x + img!.width + 1);
    await screenshot(page, 'footage-frame');

    const position = (await page.getByTestId('frame-position').textContent()) ?? '';
    const [, at, of] = /crop (\d+) of (\d+)/.exec(position)!;
    if (Number(of) > 1) {
      const dir = Number(at) < Number(of) ? 'frame-next' : 'frame-prev';
      await page.getByTestId(dir).click();
      await expect
        .poll(() => page.getByTestId('frame-position').textContent())
        .toMatch(new RegExp(`crop ${dir === 'frame-next' ? Number(at) + 1 : Number(at) - 1} of ${of}`));
      await frameLoaded();
      await expect.poll(() => page.getByTestId('frame-camera').textContent()).toBe(camera);
    }
    await viewer.press('Escape');
  });

  it('filters by camera and time range, and groups results by track', async () => {
    const cam = truth.cameras[2]!;
    await page.getByTestId('filter-cameras').click();
    await page.getByRole('option', { name: cam.name }).click();
    await page.keyboard.press('Escape');
    await expect
      .poll(async () => [
        ...new Set((await page.getByTestId('result-footage').allTextContents()).map((s) => s.slice(0, 5))),
      ])
      .toEqual([cam.name]);

    const start = Date.parse(`${cam.startLocal}Z`);
    const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
    await page.getByTestId('filter-from').fill(iso(start + 3000));
    await page.getByTestId('filter-to').fill(iso(start + 7000));
    await expect
      .poll(async () => {
        const times = (await page.getByTestId('result-footage').allTextContents()).map((s) => s.slice(6));
        return (
          times.length > 0 &&
          times.every((x) => x >= iso(start + 3000).slice(11) && x <= iso(start + 7000).slice(11))
        );
      })
      .toBe(true);

    await page.getByText('By track').click();
    await page.getByTestId('track-results').waitFor();
    const cards = page.getByTestId('track-card');
    expect(await cards.count()).toBeGreaterThan(0);
    expect(new Set(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-camera'))))).toEqual(
      new Set([cam.name]),
    );
    await cards.first().click();
    await frameLoaded();
    await expect.poll(() => page.getByTestId('frame-camera').textContent()).toBe(cam.name);
    await screenshot(page, 'footage-filters');
    await page.keyboard.press('Escape');
  });

  it('shows an MTI search’s footage hits by track with camera and time, filtered, each opening on its frame', async () => {
    const person = truth.people[1]!;
    const q = `a person in a ${person.attributes.top.colour} ${person.attributes.top.type}`;
    await page.goto(`${served.url.split('#')[0]}#/search?tab=mti&q=${encodeURIComponent(q)}`);
    await page.getByTestId('mti-start').click();
    const panel = page.getByTestId('mti-panel');
    await expect
      .poll(async () => ['done', 'fallback'].includes((await panel.getAttribute('data-status')) ?? ''), {
        timeout: 60_000,
      })
      .toBe(true);
    const id = Number(/[?&]search=(\d+)/.exec(page.url())?.[1]);
    const saved = await served.api('searches:get', { id });
    expect(saved.tracks?.length).toBeGreaterThan(0);
    // Every re-ranked crop says where and when it was seen.
    const labels = await page.getByTestId('mti-footage').allTextContents();
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.every((l) => /^cam0\d \d\d:\d\d:\d\d$/.test(l))).toBe(true);

    // By track: the saved search's track groups, in the order of their best fused hit.
    await page.getByTestId('search-group').getByText('By track').click();
    const cards = page.getByTestId('track-card');
    await page.getByTestId('track-results').waitFor();
    expect(await cards.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-track-id'))))).toEqual(
      saved.tracks!.map((t) => t.trackId),
    );

    // One camera and a time window: only that camera's tracks with a hit seen in the window are left.
    const cam = truth.cameras[0]!;
    const start = Date.parse(`${cam.startLocal}Z`);
    const [from, to] = [start + 2000, start + 9000];
    const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
    await page.getByTestId('filter-cameras').click();
    await page.getByRole('option', { name: cam.name }).click();
    await page.keyboard.press('Escape');
    await page.getByTestId('filter-from').fill(iso(from));
    await page.getByTestId('filter-to').fill(iso(to));
    const seen = (r: (typeof saved.results)[number]): boolean =>
      r.footage?.camera === cam.name &&
      r.footage.timeMs !== null &&
      r.footage.timeMs >= Math.floor(from / 1000) * 1000 &&
      r.footage.timeMs <= to;
    const kept = saved.tracks!.filter((t) => t.ranks.some((rank) => seen(saved.results[rank - 1]!)));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(saved.tracks!.length);
    await expect
      .poll(() => cards.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-track-id')))))
      .toEqual(kept.map((t) => t.trackId));
    expect(new Set(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-camera'))))).toEqual(
      new Set([cam.name]),
    );
    await screenshot(page, 'footage-mti-tracks');

    // A track opens on its best kept crop's frame, with the box, in that camera.
    await cards.first().click();
    await frameLoaded();
    await expect.poll(() => page.getByTestId('frame-camera').textContent()).toBe(cam.name);
    const box = ((await page.getByTestId('frame-box').getAttribute('data-box')) ?? '').split(',').map(Number);
    expect(box[2]! > box[0]! && box[3]! > box[1]!).toBe(true);
    await page.keyboard.press('Escape');

    // Back to crops: the grid holds the same filtered hits, each labelled with the camera.
    await page.getByTestId('search-group').getByText('Crops').click();
    await expect
      .poll(async () => {
        const shown = await page.getByTestId('mti-footage').allTextContents();
        return shown.length > 0 && shown.every((l) => l.startsWith(`${cam.name} `));
      })
      .toBe(true);
  });

  it('shows in Settings which FFmpeg footage runs, and how to choose another on this machine', async () => {
    await page.getByTestId('nav-settings').click();
    const card = page.getByTestId('video-tools');
    await card.waitFor();
    await expect.poll(() => card.textContent()).toMatch(/ffmpeg\s*\S+\s*(shipped with the app|the system's)/);
    expect(await card.textContent()).toContain('ctgi video-tools --ffmpeg PATH --ffprobe PATH');
    await page.getByTestId('nav-footage').click();
  });

  it('logged no errors in the page', () => {
    expect(errors.filter((e) => !/script-src|favicon/.test(e))).toEqual([]);
  });
});
