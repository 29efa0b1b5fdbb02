// `npm run bench:review-team`: a review team on one `ctgi serve` (issue 13). N reviewers (named users,
// each with their own token) walk the unreviewed queue at once, as the desk does on each keypress: the
// decision on the caption shown, then the next unreviewed caption (skipping those others hold, leasing
// the one shown). Prints decisions per second the server sustained and the keypress → next caption
// latency (decide + neighbor round trips; the desk prefetches images, so their bytes are not in it).
// The server is a separate process (`ctgi serve`), as on a GPU box; the clients are this process.
//   --reviewers N   concurrent reviewers (default 20)
//   --captions N    pending captions seeded (default 20,000)
//   --seconds S     how long to run (default 20)
//   --think-ms T    each reviewer's pause between decisions (default 400: a fast reviewer, ~2/s each);
//                   0 saturates the server (its most decisions per second, not a team's latency)
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { ApiResult } from '#shared/contract';
import type { ReviewItem } from '#shared/review/types';
import { seedWorkspace } from '../test/e2e/helpers/seed';
import { startServe } from '../test/e2e/helpers/serve';

const { values } = parseArgs({
  options: {
    reviewers: { type: 'string' },
    captions: { type: 'string' },
    seconds: { type: 'string' },
    'think-ms': { type: 'string' },
  },
});
const REVIEWERS = Number(values.reviewers ?? 20);
const CAPTIONS = Number(values.captions ?? 20_000);
const SECONDS = Number(values.seconds ?? 20);
const THINK_MS = Number(values['think-ms'] ?? 400);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const pct = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-bench-review-team-'));
  try {
    const file = join(dir, 'ws.sqlite');
    await seedWorkspace(file, dir, { images: CAPTIONS, files: 50, perPerson: 5, datasetName: 'Bench team' });
    const db = new Database(file);
    db.prepare(`UPDATE captions SET status = 'pending'`).run();
    const pending = (
      db.prepare(`SELECT count(*) AS n FROM captions WHERE is_current = 1`).get() as { n: number }
    ).n;
    db.close();
    const served = await startServe(file, dir);
    try {
      const tokens: string[] = [];
      for (let i = 0; i < REVIEWERS; i++)
        tokens.push((await served.api('users:add', { name: `bench ${i}`, role: 'annotator' })).token);
      const call = async <T>(token: string, channel: string, arg: unknown): Promise<ApiResult<T>> => {
        const res = await fetch(`${served.origin}/api/${channel}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-ctgi-token': token },
          body: JSON.stringify(arg),
        });
        return (await res.json()) as ApiResult<T>;
      };
      const walk = { filter: { statuses: ['pending'] }, direction: 'next', unreviewed: true };
      const latencies: number[] = [];
      let decisions = 0;
      let conflicts = 0;
      const until = performance.now() + SECONDS * 1000;
      const t0 = performance.now();
      await Promise.all(
        tokens.map(async (token, n) => {
          let shown = await call<ReviewItem | null>(token, 'review:neighbor', walk);
          let k = 0;
          while (shown.ok && shown.value && performance.now() < until) {
            const item = shown.value;
            const start = performance.now();
            const decided = await call(token, 'review:decide', {
              captionId: item.caption.id,
              version: item.caption.version,
              decision: (n + k++) % 4 === 0 ? 'reject' : 'accept',
            });
            if (decided.ok) decisions++;
            else conflicts++;
            shown = await call<ReviewItem | null>(token, 'review:neighbor', {
              ...walk,
              from: item.caption.id,
            });
            latencies.push(performance.now() - start);
            if (THINK_MS > 0) await sleep(THINK_MS);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      const report = {
        reviewers: REVIEWERS,
        thinkMs: THINK_MS,
        pendingAtStart: pending,
        seconds: Number(seconds.toFixed(1)),
        decisions,
        conflicts,
        decisionsPerSecond: Number((decisions / seconds).toFixed(1)),
        keypressToNextMs: {
          p50: Number(pct(latencies, 50).toFixed(1)),
          p95: Number(pct(latencies, 95).toFixed(1)),
          p99: Number(pct(latencies, 99).toFixed(1)),
        },
        goalP95Ms: 100,
        machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Number(l.toFixed(2))) },
      };
      console.log(JSON.stringify(report, null, 2));
    } finally {
      await served.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
