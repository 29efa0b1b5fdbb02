// Cost and budget of MTG jobs, against the oracle over real HTTP: the figures `ctgi usage` and the job
// report give equal a hand count over the calls log; an estimate from a small sample comes close to what
// the job then pays (and its answers are not paid again); a budget cap pauses the job, and a new budget
// lets it finish.
import { runCli, workspaceWithOracle } from '../fixtures/cli';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MtgEstimate } from '#shared/mtg/types';
import type { UsageLine } from '#shared/llm/types';
import { startOracle, type OracleServer } from '../../src/main/synth/oracle/server';
import { makeWorld, type WorldFixture } from '../fixtures/world';

let world: WorldFixture;
let oracle: OracleServer;
beforeAll(async () => {
  world = await makeWorld({ identities: 12, views: 2 });
  oracle = await startOracle({ world: world.dir, seed: 5 });
});
afterAll(() => oracle.close());

const ctgi = runCli;

const PRICE_IN = 2.5; // USD per million prompt tokens
const PRICE_OUT = 10;

async function setup(priceIn = PRICE_IN, priceOut = PRICE_OUT): Promise<string> {
  return workspaceWithOracle(world, oracle.url, {
    prefix: 'mtg-cost-',
    concurrency: 8,
    endpointArgs: ['--price-input', String(priceIn), '--price-output', String(priceOut)],
  });
}

/** The hand count: every row of the job in the log that the server was paid for, priced one by one. */
function handCount(
  ws: string,
  jobId: number,
): { calls: number; prompt: number; completion: number; usd: number } {
  const db = new Database(ws, { readonly: true });
  try {
    const rows = db
      .prepare(`SELECT status, error_kind, prompt_tokens, completion_tokens FROM llm_calls WHERE job_id = ?`)
      .all(jobId) as {
      status: string;
      error_kind: string | null;
      prompt_tokens: number | null;
      completion_tokens: number | null;
    }[];
    let calls = 0;
    let prompt = 0;
    let completion = 0;
    let usd = 0;
    for (const r of rows) {
      const paid = r.status === 'ok' || (r.status === 'error' && r.error_kind === 'refused');
      if (!paid) continue;
      calls++;
      prompt += r.prompt_tokens ?? 0;
      completion += r.completion_tokens ?? 0;
      usd += ((r.prompt_tokens ?? 0) * PRICE_IN + (r.completion_tokens ?? 0) * PRICE_OUT) / 1e6;
    }
    return { calls, prompt, completion, usd };
  } finally {
    db.close();
  }
}

describe('MTG cost', () => {
  it('equals a hand count over the calls log; the estimate from a sample is close and its answers are reused', async () => {
    const ws = await setup();
    const est = await ctgi('mtg', '-w', ws, '--vqa', 'oracle', '--estimate', '--sample', '3', '--json');
    expect(est.code, est.err).toBe(0);
    const e = JSON.parse(est.out) as MtgEstimate;
    expect(e).toMatchObject({ images: 24, sampleImages: 3 });

    const r = await ctgi('mtg', '-w', ws, '--vqa', 'oracle', '--json');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as {
      job: { id: number };
      runs: { cachedCalls: number };
      usage: UsageLine;
    };
    const hand = handCount(ws, report.job.id);
    expect(hand.calls).toBeGreaterThan(100);
    expect(report.usage).toMatchObject({
      calls: hand.calls,
      promptTokens: hand.prompt,
      completionTokens: hand.completion,
    });
    expect(report.usage.costUsd).toBeCloseTo(hand.usd, 10);
    const byJob = await ctgi('usage', '-w', ws, '--by', 'job', '--json');
    const line = (JSON.parse(byJob.out) as UsageLine[]).find((l) => l.key === String(report.job.id));
    expect(line?.costUsd).toBeCloseTo(hand.usd, 10);
    // The endpoint's total holds the sample's calls too (made outside the job), and the days add up to it.
    const byEndpoint = JSON.parse(
      (await ctgi('usage', '-w', ws, '--by', 'endpoint', '--json')).out,
    ) as UsageLine[];
    const byDay = JSON.parse((await ctgi('usage', '-w', ws, '--by', 'day', '--json')).out) as UsageLine[];
    expect(byEndpoint[0]!.calls).toBeGreaterThan(hand.calls);
    expect(byDay.reduce((n, d) => n + d.calls, 0)).toBe(byEndpoint[0]!.calls);

    // The sample's answers were served from the cache to the job, not paid twice.
    expect(report.runs.cachedCalls).toBeGreaterThanOrEqual(Math.floor(3 * e.callsPerImage * 0.9));
    // Paid by the job and by the sample together ≈ the estimate (the sample is 3 of 24 images).
    const total = byEndpoint[0]!.costUsd!;
    console.log(
      `estimate ${e.costUsd!.toFixed(5)} USD (batch ${e.batchCostUsd!.toFixed(5)}), paid ${total.toFixed(5)} USD`,
    );
    expect(e.costUsd!).toBeGreaterThan(total * 0.7);
    expect(e.costUsd!).toBeLessThan(total * 1.3);
    expect(e.batchCostUsd!).toBeCloseTo(e.costUsd! * 0.5, 10);
  }, 120_000);

  it('pauses the job when its budget is spent, and finishes after a new budget', async () => {
    // Prices that make each image cost about a cent: a 4-cent budget stops it early.
    const ws = await setup(2500, 10_000);
    const r = await ctgi(
      'mtg',
      '-w',
      ws,
      '--vqa',
      'oracle',
      '--budget',
      '0.04',
      '--concurrency',
      '2',
      '--json',
    );
    const report = JSON.parse(r.out) as {
      job: { id: number; status: string; done: number; total: number; message: string };
    };
    expect(report.job.status).toBe('paused');
    expect(report.job.message).toMatch(/budget of \$0\.04 is spent/);
    expect(report.job.done).toBeLessThan(report.job.total);
    const spent = handCount(ws, report.job.id).usd * 1000; // priced at 1000× the hand-count prices
    expect(spent).toBeGreaterThanOrEqual(0.04);

    const again = await ctgi(
      'mtg',
      '-w',
      ws,
      '--resume',
      String(report.job.id),
      '--budget',
      '1000',
      '--json',
    );
    expect(again.code, again.err).toBe(0);
    const done = JSON.parse(again.out) as { job: { status: string; done: number; total: number } };
    expect(done.job).toMatchObject({ status: 'done', done: 24, total: 24 });
  }, 120_000);
});
