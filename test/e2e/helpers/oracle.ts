// The oracle MLLM as the e2e tests use it: `ctgi oracle --json` in a child process, which prints one
// line with its URL once it listens; and a port nothing listens on, for endpoints that must fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './serve';

export interface Oracle {
  url: string;
  child: ChildProcess;
}

/** `worldDir` null: the oracle knows only what the pixels show (footage crops have no attributes file). */
export async function startOracle(worldDir: string | null, latencyMs: number): Promise<Oracle> {
  const args = [
    'oracle',
    ...(worldDir === null ? [] : ['--world', worldDir]),
    ...['--port', '0', '--latency-ms', String(latencyMs), '--json'],
  ];
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ctgi.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const line = await new Promise<string>((done, fail) => {
    createInterface({ input: child.stdout! }).once('line', done);
    child.once('exit', (code) => fail(new Error(`ctgi oracle exited (${code}) before listening:\n${err}`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

/** A port nothing listens on: bound once, then released. */
export function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}
