// `ctgi serve` as a user (or a script) runs it: a child process that prints its URL, answers, and stops
// cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ctgi-serve-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  info: { url: string; token: string; port: number };
  stderr: () => string;
  exited: Promise<number | null>;
}

async function serve(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [join(repo, 'bin', 'ctgi.mjs'), 'serve', '--json', ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const firstLine = await new Promise<string>((done, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', done);
    void exited.then((code) =>
      fail(new Error(`ctgi serve exited (${code}) before printing its URL:\n${err}`)),
    );
  });
  return { child, info: JSON.parse(firstLine) as Started['info'], stderr: () => err, exited };
}

describe('ctgi serve --json', () => {
  it('prints one JSON line with the URL, answers with the token, and exits 0 on SIGTERM', async () => {
    const workspace = join(dir, 'ws.sqlite');
    const { child, info, stderr, exited } = await serve(['--workspace', workspace, '--port', '0']);
    expect(info.url).toBe(`http://127.0.0.1:${info.port}/?token=${info.token}`);

    const stats = await fetch(`http://127.0.0.1:${info.port}/api/library:stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ctgi-token': info.token },
      body: '{}',
    });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ ok: true, value: { datasets: 0, images: 0 } });
    const refused = await fetch(`http://127.0.0.1:${info.port}/api/library:stats`, { method: 'POST' });
    expect(refused.status).toBe(401);

    // `npm test` builds the renderer first, so the real app is what the URL opens.
    if (existsSync(join(repo, 'out', 'renderer', 'index.html'))) {
      const page = await fetch(info.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
    }

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr()).toContain('Stopping');
    expect(existsSync(workspace)).toBe(true);
    await expect(fetch(`http://127.0.0.1:${info.port}/`)).rejects.toThrow();
  });

  it('refuses a port that is taken, with a hint', async () => {
    const first = await serve(['--workspace', join(dir, 'a.sqlite')]);
    const child = spawn(
      process.execPath,
      [
        join(repo, 'bin', 'ctgi.mjs'),
        'serve',
        '--workspace',
        join(dir, 'b.sqlite'),
        '--port',
        String(first.info.port),
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code).toBe(2);
    expect(err).toContain(`Port ${first.info.port}`);
    expect(err).toContain('--port');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});
