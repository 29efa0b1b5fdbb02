// `npx tsx scripts/bench-eval-mti-job.ts` (synthetic): what the `eval-mti` job costs to persist. Runs
// `ctgi eval --mti` (the job, in the foreground, as a user would) over every one-attribute query of a
// synthetic world's test split against the oracle MLLM at 0 ms latency, and prints the wall time, the
// bytes this process handed to write(2) during the evaluation (SQLite's WAL and checkpoints: what a
// per-query cursor rewrite costs) and the size of the job's cursor at the end.
//   --identities N (300)  --views V (3)  --parallel P (4)
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { main } from '../src/main/cli';
import { mtiWorld, oracleEndpoint } from './mti-world';

const { values } = parseArgs({
  options: {
    identities: { type: 'string', default: '300' },
    views: { type: 'string', default: '3' },
    parallel: { type: 'string', default: '4' },
  },
});

/** Bytes this process has passed to write(2) so far (Linux). */
const wchar = (): number => Number(/wchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);

const w = await mtiWorld({ identities: Number(values.identities), views: Number(values.views) });
try {
  const oracle = await oracleEndpoint(w, 'oracle', { wrongRate: 0.1, seed: 3, latencyMs: 0 });
  const out: string[] = [];
  const err: string[] = [];
  const args = [
    'eval',
    '--model',
    'toy',
    '--mti',
    '--vqa',
    'oracle',
    '--queries',
    'one-attribute',
    '--xi',
    '2',
  ];
  const w0 = wchar();
  const t0 = performance.now();
  const code = await main([...args, '--parallel', values.parallel, '--json', '-w', w.wsFile], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  const seconds = (performance.now() - t0) / 1000;
  const written = wchar() - w0;
  await oracle.close();
  if (code !== 0) throw new Error(`ctgi ${args.join(' ')} failed (${code}): ${err.join('\n')}`);
  const report = JSON.parse(out.join('\n')) as { queries: number };
  const job = w.ws.db
    .prepare(`SELECT id, length(state) AS cursor FROM jobs WHERE kind = 'eval-mti' ORDER BY id DESC LIMIT 1`)
    .get() as { id: number; cursor: number };
  const rows = (
    w.ws.db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'eval_mti_queries'`).get() as {
      n: number;
    }
  ).n
    ? (
        w.ws.db.prepare(`SELECT count(*) AS n FROM eval_mti_queries WHERE job_id = ?`).get(job.id) as {
          n: number;
        }
      ).n
    : null;
  process.stdout.write(
    `${report.queries} queries: ${seconds.toFixed(1)} s wall, ${(written / 1e6).toFixed(1)} MB written, ` +
      `final cursor ${job.cursor} bytes${rows === null ? '' : `, ${rows} rows in eval_mti_queries`}\n`,
  );
} finally {
  await w.ws.close();
  rmSync(w.dir, { recursive: true, force: true });
}
