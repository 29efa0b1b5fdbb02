// The core of the packaged app's `--smoke` self-test (src/main/smoke.ts), run here in Node with the Node
// build of better-sqlite3 passed as `nativeBinding` — the same call the Electron shell makes with its
// Electron build. The window half of the smoke test needs Electron and is not run here.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSmoke } from '../../src/main/smoke';

const require = createRequire(import.meta.url);
const binding = join(
  dirname(require.resolve('better-sqlite3/package.json')),
  'build',
  'Release',
  'better_sqlite3.node',
);
const dir = mkdtempSync(join(tmpdir(), 'ctgi-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runSmoke', () => {
  it('opens a workspace, registers the toy CLIP, imports and embeds one image, finds it again, then runs the check', async () => {
    const log: string[] = [];
    let checked = 0;
    const report = await runSmoke({
      dir: join(dir, 'ok'),
      nativeBinding: binding,
      log: (l) => log.push(l),
      check: async (ws) => {
        checked = ws.db.prepare('SELECT count(*) FROM images').pluck().get() as number;
      },
    });
    expect(report).toMatchObject({ images: 1, embedded: 1, provider: expect.any(String) });
    expect(Number.isFinite(report.score)).toBe(true);
    expect(checked).toBe(1);
    expect(log.join('\n')).toMatch(/SQLite 3\.\d+/);
  });

  it('fails with the step that broke: a missing native binding, a failing check', async () => {
    await expect(
      runSmoke({ dir: join(dir, 'bad-binding'), nativeBinding: join(dir, 'missing.node') }),
    ).rejects.toThrow(/missing\.node/);
    await expect(
      runSmoke({
        dir: join(dir, 'bad-check'),
        nativeBinding: binding,
        check: () => Promise.reject(new Error('the window sees 0 images, not 1')),
      }),
    ).rejects.toThrow('the window sees 0 images');
  });
});
