// `npm run bench:mti` (synthetic): wall time of one MTI round with the oracle MLLM at a fixed latency L,
// in units of L, for the concurrent engine (checks of the top-K in parallel with early resolution, all
// questions in one call, one aggregation) against the sequential algorithm (one check after another).
// Goal: p95 ≤ 4 L for the concurrent round. Runs the real service (text tower, LLM client over HTTP,
// the searches table) one query at a time, so the figures are latencies, not throughput.
//   --latency MS (200)  --queries N (30)  --identities N (60)  --views V (3)  --k K (20)  --json
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { findGroundTruth, oneAttributeQuery } from '../src/main/pipelines/eval';
import { quantile } from '../src/main/pipelines/eval-mti';
import { startMtiSearch } from '../src/main/search/mti-service';
import { unavailableKeyStore } from '../src/main/llm/keys';
import { mtiWorld, oracleEndpoint } from './mti-world';

const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '200' },
    queries: { type: 'string', default: '30' },
    identities: { type: 'string', default: '60' },
    views: { type: 'string', default: '3' },
    k: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
});
const L = Number(values.latency);
const K = Number(values.k);

const w = await mtiWorld({ identities: Number(values.identities), views: Number(values.views) });
try {
  const db = w.ws.db;
  const conc = await oracleEndpoint(w, 'oracle-concurrent', { latencyMs: L, seed: 1 }, K);
  const seq = await oracleEndpoint(w, 'oracle-sequential', { latencyMs: L, seed: 1 }, K);
  const rows = db
    .prepare(
      `SELECT c.id, i.dataset_id, i.rel_path FROM captions c JOIN images i ON i.id = c.image_id WHERE i.split = 'test' ORDER BY c.id`,
    )
    .all() as { id: number; dataset_id: number; rel_path: string }[];
  const truth = findGroundTruth(db, [...new Set(rows.map((r) => r.dataset_id))]);
  const queries = [
    ...new Set(rows.map((r) => oneAttributeQuery(truth.get(`${r.dataset_id}\0${r.rel_path}`)!, r.id))),
  ].slice(0, Number(values.queries) * 2);
  const host = { db, keyStore: unavailableKeyStore };
  const measure = async (
    endpoint: string,
    concurrency: number,
  ): Promise<{ ms: number[]; calls: number[]; checks: number[] }> => {
    const out = { ms: [] as number[], calls: [] as number[], checks: [] as number[] };
    for (const query of queries) {
      const t0 = performance.now();
      const s = await startMtiSearch(host, {
        modelId: w.modelId,
        query,
        vqaEndpoint: endpoint,
        aggregatorEndpoint: endpoint,
        params: { k: K, xi: 2, rounds: 1, concurrency },
        results: 100,
      });
      out.ms.push(performance.now() - t0);
      const r = s.transcript.rounds[0];
      out.calls.push(r?.calls ?? 0);
      out.checks.push(r?.checks.length ?? 0);
      if (s.status !== 'done')
        throw new Error(`search "${query}" ended ${s.status}: ${s.transcript.fallback}`);
    }
    return out;
  };
  // Warm the text tower and the gallery index first, so neither side pays the opening; drop queries the
  // toy CLIP cannot rank at all ("a person with long hair": its text tower reads colour–garment pairs only).
  for (const q of [...queries]) {
    try {
      await startMtiSearch(host, {
        modelId: w.modelId,
        query: q,
        vqaEndpoint: 'oracle-concurrent',
        params: { rounds: 0 },
        results: 10,
      });
    } catch {
      queries.splice(queries.indexOf(q), 1);
    }
  }
  queries.splice(Number(values.queries));
  const a = await measure('oracle-concurrent', K);
  const b = await measure('oracle-sequential', 1);
  const stats = (xs: number[]) => {
    const s = Float64Array.from(xs).sort();
    return { p50: quantile(s, 0.5) / L, p95: quantile(s, 0.95) / L, max: s[s.length - 1]! / L };
  };
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const report = {
    synthetic: true,
    latencyMs: L,
    k: K,
    queries: queries.length,
    concurrent: { roundInL: stats(a.ms), callsPerRound: mean(a.calls), checksUntilAnchor: mean(a.checks) },
    sequential: { roundInL: stats(b.ms), callsPerRound: mean(b.calls), checksUntilAnchor: mean(b.checks) },
    goalP95InL: 4,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const f = (x: number) => x.toFixed(2);
    process.stdout.write(
      [
        `MTI round wall time (synthetic world, oracle latency L = ${L} ms, K = ${K}, ${queries.length} vague queries, one at a time)`,
        `                p50      p95      max     MLLM calls/round  checks to anchor`,
        `concurrent   ${f(report.concurrent.roundInL.p50)} L   ${f(report.concurrent.roundInL.p95)} L   ${f(report.concurrent.roundInL.max)} L   ${f(report.concurrent.callsPerRound).padStart(8)}          ${f(report.concurrent.checksUntilAnchor)}`,
        `sequential   ${f(report.sequential.roundInL.p50)} L   ${f(report.sequential.roundInL.p95)} L   ${f(report.sequential.roundInL.max)} L   ${f(report.sequential.callsPerRound).padStart(8)}          ${f(report.sequential.checksUntilAnchor)}`,
        `goal: concurrent p95 ≤ 4 L — ${report.concurrent.roundInL.p95 <= 4 ? 'met' : 'NOT met'}`,
      ].join('\n') + '\n',
    );
  }
  await conc.close();
  await seq.close();
} finally {
  await w.ws.close();
  rmSync(w.dir, { recursive: true, force: true });
}
