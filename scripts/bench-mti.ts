// `npm run bench:mti` (synthetic): wall time and MLLM calls of one MTI round with the oracle MLLM at a fixed
// latency L, for several anchor-check concurrencies (`checkConcurrency`: 1 is the sequential algorithm,
// K checks the whole top-K at once). The anchor is the first "yes" in rank order at every setting, so the
// rows differ only in latency (round time in units of L) and cost (calls per round). Goal: p95 ≤ 4 L for
// the default. Runs the real service (text tower, LLM client over HTTP, the searches table) one query at
// a time, so the figures are latencies, not throughput.
//   --latency MS (200)  --queries N (30)  --identities N (60)  --views V (3)  --k K (20)
//   --concurrency 1,5,20  --json
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { findGroundTruth, oneAttributeQuery } from '../src/main/pipelines/eval';
import { quantile } from '../src/main/pipelines/metrics';
import { startMtiSearch } from '../src/main/search/mti-service';
import { unavailableKeyStore } from '../src/main/llm/keys';
import { MTI_DEFAULTS } from '#shared/mti/types';
import { mtiWorld, oracleEndpoint } from './mti-world';

const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '200' },
    queries: { type: 'string', default: '30' },
    identities: { type: 'string', default: '60' },
    views: { type: 'string', default: '3' },
    k: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '1,5,20' },
    json: { type: 'boolean', default: false },
  },
});
const L = Number(values.latency);
const K = Number(values.k);
const settings = values.concurrency.split(',').map(Number);
if (settings.some((c) => !Number.isInteger(c) || c < 1))
  throw new Error(`--concurrency takes positive integers, e.g. 1,5,20; got "${values.concurrency}".`);

const w = await mtiWorld({ identities: Number(values.identities), views: Number(values.views) });
try {
  const db = w.ws.db;
  // One oracle (and URL) per setting: the llm_calls cache is keyed by endpoint, so no setting is served
  // another's answers from the cache. The endpoint admits K requests at once, so it never limits a setting.
  const oracles = new Map<number, Awaited<ReturnType<typeof oracleEndpoint>>>();
  for (const c of settings)
    oracles.set(c, await oracleEndpoint(w, `oracle-c${c}`, { latencyMs: L, seed: 1 }, K));
  const rows = db
    .prepare(
      `SELECT c.id, i.dataset_id, i.rel_path FROM captions c JOIN images i ON i.id = c.image_id WHERE i.split = 'test' ORDER BY c.id`,
    )
    .all() as { id: number; dataset_id: number; rel_path: string }[];
  const truth = findGroundTruth(db, [...new Set(rows.map((r) => r.dataset_id))]);
  const queries = [
    ...new Set(rows.map((r) => oneAttributeQuery(truth.get(`${r.dataset_id}\0${r.rel_path}`)!, r.id))),
  ].slice(0, Number(values.queries) * 2);
  const host = {
    db,
    encoders: w.ws.services.encoders,
    vectors: w.ws.services.vectors,
    sessions: w.ws.mti,
    keyStore: unavailableKeyStore,
  };
  const measure = async (
    checkConcurrency: number,
  ): Promise<{ ms: number[]; calls: number[]; checks: number[]; anchors: (number | null)[] }> => {
    const out = {
      ms: [] as number[],
      calls: [] as number[],
      checks: [] as number[],
      anchors: [] as (number | null)[],
    };
    for (const query of queries) {
      const t0 = performance.now();
      const s = await startMtiSearch(host, {
        modelId: w.modelId,
        query,
        vqaEndpoint: `oracle-c${checkConcurrency}`,
        aggregatorEndpoint: `oracle-c${checkConcurrency}`,
        params: { k: K, xi: 2, rounds: 1, checkConcurrency },
        results: 100,
      });
      out.ms.push(performance.now() - t0);
      const r = s.transcript.rounds[0];
      out.calls.push(r?.calls ?? 0);
      out.checks.push(r?.checks.length ?? 0);
      out.anchors.push(r?.anchor?.imageId ?? null);
      if (s.status !== 'done')
        throw new Error(`search "${query}" ended ${s.status}: ${s.transcript.fallback}`);
    }
    return out;
  };
  // Warm the text tower and the gallery index first, so no setting pays the opening; drop queries the
  // toy CLIP cannot rank at all ("a person with long hair": its text tower reads colour–garment pairs only).
  for (const q of [...queries]) {
    try {
      await startMtiSearch(host, {
        modelId: w.modelId,
        query: q,
        vqaEndpoint: `oracle-c${settings[0]}`,
        params: { rounds: 0 },
        results: 10,
      });
    } catch {
      queries.splice(queries.indexOf(q), 1);
    }
  }
  queries.splice(Number(values.queries));
  const stats = (xs: number[]) => {
    const s = Float64Array.from(xs).sort();
    return { p50: quantile(s, 0.5) / L, p95: quantile(s, 0.95) / L, max: s[s.length - 1]! / L };
  };
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const results: {
    checkConcurrency: number;
    roundInL: ReturnType<typeof stats>;
    callsPerRound: number;
    checksUntilAnchor: number;
  }[] = [];
  let reference: (number | null)[] | null = null;
  for (const c of settings) {
    const m = await measure(c);
    // The knob must not change what MTI finds: the same anchor for every query at every setting.
    if (reference && m.anchors.some((a, i) => a !== reference![i]))
      throw new Error(
        `checkConcurrency ${c} chose another anchor than checkConcurrency ${settings[0]} for some query.`,
      );
    reference ??= m.anchors;
    results.push({
      checkConcurrency: c,
      roundInL: stats(m.ms),
      callsPerRound: mean(m.calls),
      checksUntilAnchor: mean(m.checks),
    });
  }
  const report = {
    synthetic: true,
    latencyMs: L,
    k: K,
    queries: queries.length,
    defaultCheckConcurrency: MTI_DEFAULTS.checkConcurrency,
    results,
    goalP95InL: 4,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const f = (x: number) => x.toFixed(2);
    process.stdout.write(
      [
        `MTI round (synthetic world, oracle latency L = ${L} ms, K = ${K}, ${queries.length} vague queries, one at a time; same anchors at every setting)`,
        `checks at once    p50       p95       max     MLLM calls/round  checks to anchor`,
        ...results.map(
          (r) =>
            `${String(r.checkConcurrency).padStart(8)}${r.checkConcurrency === 1 ? ' (seq)' : '      '}  ${f(r.roundInL.p50).padStart(5)} L   ${f(r.roundInL.p95).padStart(5)} L   ${f(r.roundInL.max).padStart(5)} L   ${f(r.callsPerRound).padStart(8)}          ${f(r.checksUntilAnchor)}`,
        ),
        ...results
          .filter((r) => r.checkConcurrency === MTI_DEFAULTS.checkConcurrency)
          .map(
            (r) =>
              `goal: p95 ≤ 4 L at the default (${r.checkConcurrency} at once) — ${r.roundInL.p95 <= 4 ? 'met' : 'NOT met'}`,
          ),
      ].join('\n') + '\n',
    );
  }
  for (const o of oracles.values()) await o.close();
} finally {
  await w.ws.close();
  rmSync(w.dir, { recursive: true, force: true });
}
