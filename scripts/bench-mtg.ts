// npm run bench:mtg — how many model calls per second the MTG orchestrator sustains, database writes
// included (llm_calls per call; run + rounds + caption + job progress per image, one transaction each).
// The MLLM is a scripted OpenAI-compatible server in a child process (so its CPU is not ours), answering
// at a fixed latency. Each run uses a fresh workspace, so no answer comes from the cache except in the
// row that says so.
//
//   npx tsx scripts/bench-mtg.ts [--images 400] [--slow-images 320] [--verify] [--json]
//   npm run bench:mtg -- --replicas 1,2,4 [--latency 200] [--replica-concurrency 8] [--images-per-replica 60]
// --replicas runs the same MTG job against pools of 1, 2, 4 … scripted servers (each its own process, each
// with the given concurrency), saved as one endpoint with replicas: sustained calls/s per pool size, against
// the goal of ≥ 0.9 × N × the single-replica figure.
// --verify runs MTG with its verification step: more calls per image (one check per kept answer) in
// one more dependent wave; calls/s stays the measure.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { upsertEndpoint } from '../src/main/db/repos/llm';
import { startImport } from '../src/main/jobs/import';
import { startMtg } from '../src/main/jobs/mtg';
import { openWorkspace, type Workspace } from '../src/main/workspace';
import { startFakeOpenAi } from '../test/fixtures/fake-openai';
import { imageFolder, scriptedAnswer } from '../test/integration/mtg-helpers';

const SELF = fileURLToPath(import.meta.url);

async function serve(latencyMs: number): Promise<void> {
  const fake = await startFakeOpenAi({ latencyMs });
  fake.onChat = (body) => ({ content: scriptedAnswer(body) });
  process.stdout.write(`${fake.url}\n`);
}

function startServer(latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), child }));
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
}

interface Row {
  scenario: string;
  images: number;
  calls: number;
  cached: number;
  seconds: number;
  callsPerSecond: number;
  /** Paid calls/s between the 10th and 90th percentile of answers (no ramp-up, no drain). */
  sustained: number | null;
  goal: string;
  met: boolean;
}

async function prepare(n: number): Promise<{ ws: Workspace; datasetId: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-bench-mtg-'));
  const root = await imageFolder(n, 'ctgi-bench-mtg-imgs-');
  const ws = openWorkspace(join(dir, 'ws.sqlite'));
  const { datasetId } = await startImport(ws, { imageRoot: root });
  await ws.jobs.idle();
  return { ws, datasetId, dir };
}

let verify = false;

async function runJob(
  ws: Workspace,
  datasetId: number,
  endpoint: string,
  redo: boolean,
): Promise<{ calls: number; cached: number; seconds: number; sustained: number | null }> {
  const t0 = performance.now();
  const { job } = startMtg(ws, {
    datasetId: datasetId as never,
    vqaEndpoint: endpoint,
    reconstructorEndpoint: endpoint,
    rounds: 6,
    redo,
    verify,
  });
  await ws.jobs.idle();
  const seconds = (performance.now() - t0) / 1000;
  const j = ws.jobs.get(job.id);
  if (j.status !== 'done' || j.issueCount > 0)
    throw new Error(`bench job ended ${j.status} with ${j.issueCount} issues: ${j.error ?? ''}`);
  const r = ws.db
    .prepare(`SELECT sum(calls) AS calls, sum(cached_calls) AS cached FROM mtg_runs WHERE job_id = ?`)
    .get(job.id) as { calls: number; cached: number };
  // Sustained rate: paid calls answered between the 10th and 90th percentile of the job, which leaves
  // out the ramp-up and the drain (the last images' three dependent steps cannot fill 32 slots).
  const at = (
    ws.db
      .prepare(
        `SELECT created_at AS t FROM llm_calls WHERE status = 'ok' AND created_at >= ? ORDER BY created_at`,
      )
      .all(Date.now() - seconds * 1000 - 50) as { t: number }[]
  ).map((x) => x.t);
  const lo = Math.floor(at.length * 0.1);
  const hi = Math.floor(at.length * 0.9);
  const sustained = at.length > 20 && at[hi]! > at[lo]! ? (hi - lo) / ((at[hi]! - at[lo]!) / 1000) : null;
  return { ...r, seconds, sustained };
}

function endpoint(
  ws: Workspace,
  name: string,
  url: string,
  concurrency: number,
  replicas: string[] = [],
): string {
  upsertEndpoint(ws.db, {
    name,
    baseUrl: url,
    replicas: replicas.map((baseUrl) => ({ baseUrl, concurrency })),
    model: 'fake-vl',
    role: 'both',
    temperature: 0.01,
    maxTokens: 64,
    concurrency,
    requestsPerMinute: null,
    timeoutMs: 30_000,
    keyRef: { kind: 'none' },
  });
  return name;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '400' },
      'slow-images': { type: 'string', default: '320' },
      json: { type: 'boolean' },
      serve: { type: 'string' },
      verify: { type: 'boolean' },
      replicas: { type: 'string' },
      latency: { type: 'string', default: '200' },
      'replica-concurrency': { type: 'string', default: '8' },
      'images-per-replica': { type: 'string', default: '60' },
    },
  });
  if (values.serve !== undefined) return serve(Number(values.serve));
  verify = values.verify === true;
  if (values.replicas !== undefined)
    return benchReplicas(
      values.replicas.split(',').map(Number),
      Number(values.latency),
      Number(values['replica-concurrency']),
      Number(values['images-per-replica']),
      values.json === true,
    );
  const rows: Row[] = [];

  const fast = await startServer(0);
  const a = await prepare(Number(values.images));
  try {
    const ep = endpoint(a.ws, 'bench-fast', fast.url, 32);
    const r = await runJob(a.ws, a.datasetId, ep, false);
    const rate = (r.calls - r.cached) / r.seconds;
    rows.push({
      scenario: '0 ms latency, concurrency 32',
      images: Number(values.images),
      ...r,
      callsPerSecond: rate,
      goal: '≥ 300 calls/s (whole job)',
      met: rate >= 300,
    });
    const h = await runJob(a.ws, a.datasetId, ep, true);
    rows.push({
      scenario: 'same again, all from cache',
      images: Number(values.images),
      ...h,
      sustained: null,
      callsPerSecond: h.calls / h.seconds,
      goal: '(cache hits, not paid)',
      met: true,
    });
  } finally {
    await a.ws.close();
    fast.child.kill();
    rmSync(a.dir, { recursive: true, force: true });
  }

  const slow = await startServer(200);
  const b = await prepare(Number(values['slow-images']));
  try {
    const ep = endpoint(b.ws, 'bench-slow', slow.url, 32);
    const r = await runJob(b.ws, b.datasetId, ep, false);
    const rate = (r.calls - r.cached) / r.seconds;
    const steady = r.sustained ?? rate;
    rows.push({
      scenario: '200 ms latency, concurrency 32',
      images: Number(values['slow-images']),
      ...r,
      callsPerSecond: rate,
      goal: `≥ 90% of 160/s: sustained ${((100 * steady) / 160).toFixed(1)}%, whole job ${((100 * rate) / 160).toFixed(1)}%`,
      met: steady >= 0.9 * 160,
    });
  } finally {
    await b.ws.close();
    slow.child.kill();
    rmSync(b.dir, { recursive: true, force: true });
  }

  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  if (values.json) {
    console.log(JSON.stringify({ rows, peakRssMiB }, null, 2));
    return;
  }
  const table = [
    ['scenario', 'images', 'calls', 'cached', 'seconds', 'calls/s', 'sustained', 'goal', 'met'],
    ...rows.map((r) => [
      r.scenario,
      String(r.images),
      String(r.calls),
      String(r.cached),
      r.seconds.toFixed(2),
      r.callsPerSecond.toFixed(0),
      r.sustained === null ? '-' : r.sustained.toFixed(0),
      r.goal,
      r.met ? 'yes' : 'NO',
    ]),
  ];
  const w = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  console.log(
    'MTG orchestrator throughput (scripted MLLM in a child process; calls/s counts paid calls, DB writes included)',
  );
  for (const [i, row] of table.entries()) {
    console.log(row.map((c, k) => c.padEnd(w[k]!)).join('  '));
    if (i === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  }
  console.log(`peak RSS of the orchestrator process: ${peakRssMiB.toFixed(0)} MiB`);
  console.log(
    'Caption quality (attribute recall/precision, synthetic world): npx tsx scripts/eval-mtg-quality.ts',
  );
}

async function benchReplicas(
  counts: number[],
  latencyMs: number,
  perReplica: number,
  imagesPerReplica: number,
  json: boolean,
): Promise<void> {
  if (counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--replicas takes whole numbers ≥ 1, e.g. 1,2,4; got ${counts.join(',')}`);
  const rows: {
    replicas: number;
    images: number;
    calls: number;
    seconds: number;
    callsPerSecond: number;
    sustained: number | null;
    perReplica: number[];
  }[] = [];
  for (const n of counts) {
    const servers = await Promise.all(Array.from({ length: n }, () => startServer(latencyMs)));
    const images = imagesPerReplica * n;
    const w = await prepare(images);
    try {
      const urls = servers.map((x) => x.url);
      const ep = endpoint(w.ws, 'bench-pool', urls[0]!, perReplica, urls.slice(1));
      const r = await runJob(w.ws, w.datasetId, ep, false);
      const spread = w.ws.db
        .prepare(
          `SELECT replica, count(*) AS n FROM llm_calls WHERE status = 'ok' GROUP BY replica ORDER BY replica`,
        )
        .all() as { replica: string; n: number }[];
      rows.push({
        replicas: n,
        images,
        calls: r.calls - r.cached,
        seconds: r.seconds,
        callsPerSecond: (r.calls - r.cached) / r.seconds,
        sustained: r.sustained,
        perReplica: urls.map((u) => spread.find((x) => x.replica === u)?.n ?? 0),
      });
    } finally {
      await w.ws.close();
      for (const x of servers) x.child.kill();
      rmSync(w.dir, { recursive: true, force: true });
    }
  }
  const one = rows.find((r) => r.replicas === 1);
  const base = one ? (one.sustained ?? one.callsPerSecond) : null;
  const judged = rows.map((r) => {
    const steady = r.sustained ?? r.callsPerSecond;
    const goal = base === null ? null : 0.9 * r.replicas * base;
    return { ...r, goal, met: goal === null ? null : steady >= goal };
  });
  if (json) {
    console.log(JSON.stringify({ latencyMs, perReplica, rows: judged }, null, 2));
    return;
  }
  console.log(
    `MTG on replica pools: scripted servers in child processes, ${latencyMs} ms latency, concurrency ${perReplica} each ` +
      `(one server's ceiling ${((perReplica * 1000) / Math.max(1, latencyMs)).toFixed(0)} calls/s)`,
  );
  const table = [
    [
      'replicas',
      'images',
      'calls',
      'seconds',
      'calls/s',
      'sustained',
      'goal (0.9×N×one)',
      'met',
      'calls per replica',
    ],
    ...judged.map((r) => [
      String(r.replicas),
      String(r.images),
      String(r.calls),
      r.seconds.toFixed(2),
      r.callsPerSecond.toFixed(1),
      r.sustained === null ? '-' : r.sustained.toFixed(1),
      r.goal === null ? '(no 1-replica row)' : `≥ ${r.goal.toFixed(1)}`,
      r.met === null ? '-' : r.met ? 'yes' : 'NO',
      r.perReplica.join(' / '),
    ]),
  ];
  const wd = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const [i, row] of table.entries()) {
    console.log(row.map((c, k) => c.padEnd(wd[k]!)).join('  '));
    if (i === 0) console.log(wd.map((k) => '-'.repeat(k)).join('  '));
  }
}

await main();
