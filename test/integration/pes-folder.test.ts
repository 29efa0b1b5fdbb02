import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch, createHandlers } from '../../src/main/api/handlers';
import { main } from '../../src/main/cli';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

const dir = mkdtempSync(join(tmpdir(), 'ctgi-pes-folder-'));
const opened: Workspace[] = [];
afterAll(async () => {
  for (const ws of opened) await ws.close();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('ctgi pes on a model folder', () => {
  it('writes a complete 248-token folder, registers it, and the workspace counts up to 248 tokens', async () => {
    const base = join(dir, 'toy-clip');
    await writeToyClipFolder(base);
    const workspace = join(dir, 'ws.sqlite');
    const { io, out, err } = capture();
    const code = await main(
      ['pes', '--in', base, '--out', join(dir, 'toy-clip-248'), '--register', '--workspace', workspace],
      io,
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/context 77 → 248/);
    expect(out.join('\n')).toMatch(/Registered as model #1/);
    const manifest = JSON.parse(readFileSync(join(dir, 'toy-clip-248', 'ctgi-model.json'), 'utf8'));
    expect(manifest).toMatchObject({ contextLength: 248 });
    expect(manifest.name).toMatch(/\(PES 248\)$/);
    // The source folder is untouched and no staging folder is left behind.
    expect(JSON.parse(readFileSync(join(base, 'ctgi-model.json'), 'utf8')).contextLength).toBe(77);
    expect(existsSync(join(dir, '.toy-clip-248.pes-' + process.pid))).toBe(false);

    const ws = openWorkspace(workspace, { resumeJobs: false });
    opened.push(ws);
    const handlers = createHandlers(ws);
    const longQuery = Array.from({ length: 20 }, () => 'a man in a red t-shirt').join(' and ');
    const tokens = await dispatch(handlers, 'search:tokens', { modelId: 1, query: longQuery });
    expect(tokens).toMatchObject({ ok: true, value: { contextLength: 248, truncated: false } });
    expect((tokens as { value: { count: number } }).value.count).toBeGreaterThan(77);
  });

  it('refuses to overwrite without --force, and refuses a folder that is already 248 tokens', async () => {
    const { io, err } = capture();
    expect(await main(['pes', '--in', join(dir, 'toy-clip'), '--out', join(dir, 'toy-clip-248')], io)).toBe(
      2,
    );
    expect(err.join('\n')).toMatch(/--force/);
    const second = capture();
    expect(
      await main(['pes', '--in', join(dir, 'toy-clip-248'), '--out', join(dir, 'twice')], second.io),
    ).toBe(2);
    expect(second.err.join('\n')).toMatch(
      /stretches a 77-token text encoder; this model's manifest says 248/,
    );
  });
});
