// MTG against the oracle when it answers 200 with malformed JSON or empty choices (issue 12.2): those
// answers are asked again like a 5xx, so at a 20 % fault rate the images still get their captions; and a
// run whose images keep failing ends `done-with-failures` and `ctgi mtg` exits 3, not 0.
import { runCli, workspaceWithOracle } from '../fixtures/cli';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOracle, type OracleServer } from '../../src/main/synth/oracle/server';
import { makeWorld, type WorldFixture } from '../fixtures/world';

let world: WorldFixture;
const oracles: OracleServer[] = [];
beforeAll(async () => {
  world = await makeWorld({ identities: 12, views: 2 });
});
afterAll(async () => {
  for (const o of oracles) await o.close();
});

const ctgi = runCli;

/** A workspace with the world imported and an endpoint for an oracle with these fault rates. */
async function setup(faults: { malformedRate: number; emptyRate: number }): Promise<string> {
  const oracle = await startOracle({ world: world.dir, seed: 11, faults });
  oracles.push(oracle);
  return workspaceWithOracle(world, oracle.url, { prefix: 'mtg-faults-', concurrency: 16 });
}

describe('MTG with an MLLM that sends malformed and empty answers', () => {
  it('asks them again: at a 20 % fault rate the images get their captions and the job exits 0', async () => {
    const ws = await setup({ malformedRate: 0.1, emptyRate: 0.1 });
    const r = await ctgi('mtg', '-w', ws, '--vqa', 'oracle', '--json');
    const report = JSON.parse(r.out) as {
      job: { status: string; done: number; total: number };
      runs: { done: number; failed: number; calls: number };
    };
    // A failure now needs five bad answers in a row to one critical call (0.2^5 per call).
    expect(report.runs.failed).toBeLessThanOrEqual(1);
    expect(report.runs.done + report.runs.failed).toBe(24);
    expect(report.job).toMatchObject({ done: 24, total: 24 });
    expect(r.code).toBe(report.runs.failed === 0 ? 0 : 3);
    const db = new Database(ws, { readonly: true });
    try {
      const calls = db
        .prepare(
          `SELECT sum(status = 'error' AND error_kind = 'bad_response') AS bad, sum(status = 'ok' AND attempt > 1) AS retried,
             sum(status = 'ok') AS ok FROM llm_calls`,
        )
        .get() as { bad: number; retried: number; ok: number };
      console.log(
        `20 % faults: ${report.runs.failed} of 24 images failed; ${calls.bad} bad answers asked again, ${calls.ok} answers`,
      );
      // Each bad answer is logged as its own attempt, and never served as an answer.
      expect(calls.bad).toBeGreaterThan(report.runs.calls * 0.1);
      expect(calls.retried).toBeGreaterThan(0);
      const dropped = db.prepare(`SELECT count(*) AS n FROM qa_rounds WHERE drop_reason = 'error'`).get() as {
        n: number;
      };
      expect(dropped.n).toBeLessThanOrEqual(2);
    } finally {
      db.close();
    }
  });

  it('ends done-with-failures and exits 3 when answers stay malformed, naming the retry', async () => {
    const ws = await setup({ malformedRate: 1, emptyRate: 0 });
    const r = await ctgi('mtg', '-w', ws, '--vqa', 'oracle', '--images', '1,2', '--rounds', '1');
    expect(r.code, r.err).toBe(3);
    expect(r.out).toMatch(/^MTG #\d+ done-with-failures: 0 captions \(pending review\), 2 failed;/);
    expect(r.out).toMatch(/ctgi mtg --retry-failed \d+/);
    const db = new Database(ws, { readonly: true });
    try {
      // Every image's first call was tried 1 + 4 times, each attempt logged.
      const attempts = db
        .prepare(`SELECT max(attempt) AS n, count(*) AS rows FROM llm_calls WHERE status = 'error'`)
        .get() as { n: number; rows: number };
      expect(attempts).toEqual({ n: 5, rows: 10 });
    } finally {
      db.close();
    }
  });
});
