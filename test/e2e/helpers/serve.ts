// Starts `ctgi serve` the way a user does (a child process through bin/ctgi.mjs) and waits for its
// one JSON line. The renderer it serves is whatever `electron-vite build` left in out/renderer.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { InvokeResults } from '#shared/contract';

export const repoRoot = resolve(import.meta.dirname, '../../..');
export const resultsDir = join(repoRoot, 'test-results');

export interface Served {
  url: string;
  token: string;
  port: number;
  /** The origin without the token, for API calls the test makes itself. */
  origin: string;
  stderr(): string;
  /** One API call as the renderer makes it (token header); throws with the server's message on failure. */
  api<C extends keyof InvokeResults>(channel: C, arg: unknown): Promise<InvokeResults[C]>;
  stop(): Promise<void>;
}

export function assertRendererBuilt(): void {
  if (!existsSync(join(repoRoot, 'out', 'renderer', 'index.html'))) {
    throw new Error(
      'out/renderer is missing: run `npx electron-vite build` (or `npm run test:e2e`, which builds first).',
    );
  }
}

/** `env` is added to this process's environment (CTGI_RENDERER_DIR serves another web folder, unchecked). */
export async function startServe(
  workspace: string,
  cwd: string,
  env: Record<string, string> = {},
): Promise<Served> {
  if (env.CTGI_RENDERER_DIR === undefined) assertRendererBuilt();
  const child: ChildProcess = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'ctgi.mjs'), 'serve', '--workspace', workspace, '--port', '0', '--json'],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const line = await new Promise<string>((done, fail) => {
    createInterface({ input: child.stdout! }).once('line', done);
    void exited.then((code) =>
      fail(new Error(`ctgi serve exited (${code}) before printing its URL:\n${err}`)),
    );
  });
  const info = JSON.parse(line) as { url: string; token: string; port: number };
  return {
    ...info,
    origin: new URL(info.url).origin,
    stderr: () => err,
    async api<C extends keyof InvokeResults>(channel: C, arg: unknown): Promise<InvokeResults[C]> {
      const res = await fetch(`${new URL(info.url).origin}/api/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ctgi-token': info.token },
        body: JSON.stringify(arg),
      });
      const body = (await res.json()) as {
        ok: boolean;
        value: InvokeResults[C];
        error?: { message: string };
      };
      if (!body.ok) throw new Error(body.error?.message);
      return body.value;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `ctgi <args>` to completion; throws with its output when it fails. */
export async function ctgi(args: string[], cwd: string): Promise<string> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ctgi.mjs'), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  if (code !== 0) throw new Error(`ctgi ${args.join(' ')} exited ${code}:\n${err}\n${out}`);
  return out;
}
