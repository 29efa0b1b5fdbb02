// Several oracle processes as the replicas of one model, the way a team runs one vLLM server per GPU
// box: each its own process (its own CPU, its own crash), the same seed (the same answers to the same
// request, whichever replica gets it), and per-process options (faults, latency, `--die-after`).
import { spawn, type ChildProcess } from 'node:child_process';
import { AppError } from '../../errors';
import type { OracleDeath, OracleStats } from './server';

export interface OracleReplicaSpec {
  /** `ctgi oracle` flags for every replica (seed, world, latency, …). */
  args?: string[];
  /** Extra flags per replica, by index (0-based): faults, `--die-after N`. */
  perReplica?: Record<number, string[]>;
}

export interface OracleReplicaProcess {
  readonly url: string;
  readonly pid: number;
  /** Resolves when the process ends; `death` is set when it died on purpose (`--die-after`). */
  readonly exited: Promise<{ code: number | null; signal: string | null; death: OracleDeath | null }>;
  stats(): Promise<OracleStats>;
  kill(signal?: NodeJS.Signals): void;
}

export interface OracleReplicas {
  readonly urls: string[];
  readonly replicas: OracleReplicaProcess[];
  close(): Promise<void>;
}

/**
 * Starts `count` oracle processes through the CLI at `cli` (bin/ctgi.mjs), each on a free port, and
 * resolves once all listen.
 */
export async function startOracleReplicas(
  cli: string,
  count: number,
  spec: OracleReplicaSpec = {},
): Promise<OracleReplicas> {
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new AppError('bad_request', `--replicas must be a whole number from 1 to 64, got ${count}.`);
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startOne(cli, [...(spec.args ?? []), ...(spec.perReplica?.[i] ?? [])]),
    ),
  );
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    for (const r of ok) r.kill('SIGTERM');
    throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }
  return {
    urls: ok.map((r) => r.url),
    replicas: ok,
    close: async () => {
      for (const r of ok) r.kill('SIGTERM');
      await Promise.all(ok.map((r) => r.exited));
    },
  };
}

function startOne(cli: string, args: string[]): Promise<OracleReplicaProcess> {
  const child: ChildProcess = spawn(process.execPath, [cli, 'oracle', '--port', '0', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let death: OracleDeath | null = null;
  const exited = new Promise<{ code: number | null; signal: string | null; death: OracleDeath | null }>(
    (resolve) => child.once('exit', (code, signal) => resolve({ code, signal, death })),
  );
  return new Promise((resolve, reject) => {
    let url: string | null = null;
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl).trim();
        out = out.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const msg = JSON.parse(line) as { url?: string; died?: OracleDeath };
        if (msg.died) death = msg.died;
        if (msg.url && url === null) {
          url = msg.url;
          const base = url;
          resolve({
            url: base,
            pid: child.pid!,
            exited,
            stats: async () => {
              const r = await fetch(`${base}/oracle/stats`);
              return (await r.json()) as OracleStats;
            },
            kill: (signal = 'SIGTERM') => {
              if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            },
          });
        }
      }
    });
    void exited.then(({ code, signal }) => {
      if (url === null)
        reject(
          new AppError(
            'unavailable',
            `An oracle replica exited before listening (${code ?? signal}): ${err.trim().slice(-500)}`,
          ),
        );
    });
  });
}
