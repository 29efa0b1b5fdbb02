// MTG through the Batch API, against the oracle's /v1/files + /v1/batches over real HTTP with the real
// openai client: the same captions as synchronous mode; partial failures and an expired batch retried as
// smaller batches; and a process SIGKILLed between submitting a batch and its completion that, resumed,
// polls the batch it already submitted (the oracle counts the batches it was given: no second submission).
import { spawn } from 'node:child_process';
import { runCli, workspaceWithOracle } from '../fixtures/cli';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOracle, type OracleOptions, type OracleServer } from '../../src/main/synth/oracle/server';
import { makeWorld, type WorldFixture } from '../fixtures/world';

const CLI = join(process.cwd(), 'bin/ctgi.mjs');
let world: WorldFixture;
const oracles: OracleServer[] = [];
beforeAll(async () => {
  world = await makeWorld({ identities: 10, views: 2 });
});
afterAll(async () => {
  for (const o of oracles) await o.close();
});

const ctgi = runCli;

async function setup(opts: OracleOptions = {}): Promise<{ ws: string; oracle: OracleServer }> {
  const oracle = await startOracle({ world: world.dir, seed: 3, ...opts });
  oracles.push(oracle);
  const ws = await workspaceWithOracle(world, oracle.url, { prefix: 'mtg-batch-', concurrency: 8 });
  return { ws, oracle };
}

function captions(ws: string): Map<number, string> {
  const db = new Database(ws, { readonly: true });
  try {
    const rows = db
      .prepare(`SELECT image_id AS id, text FROM captions WHERE source = 'mtg' ORDER BY image_id`)
      .all() as { id: number; text: string }[];
    return new Map(rows.map((r) => [r.id, r.text]));
  } finally {
    db.close();
  }
}

function batches(
  ws: string,
): { round: number; try: number; status: string; request_count: number; provider_batch_id: string }[] {
  const db = new Database(ws, { readonly: true });
  try {
    return db
      .prepare(`SELECT round, try, status, request_count, provider_batch_id FROM llm_batches ORDER BY id`)
      .all() as never;
  } finally {
    db.close();
  }
}

describe('MTG in batch mode', () => {
  it('gives the same captions as synchronous mode, round by round, with every call in a batch', async () => {
    const a = await setup();
    const b = await setup({ batch: { completionDelayMs: 50 } });
    expect((await ctgi('mtg', '-w', a.ws, '--vqa', 'oracle')).code).toBe(0);
    const r = await ctgi('mtg', '-w', b.ws, '--vqa', 'oracle', '--batch', '--batch-poll-ms', '20', '--json');
    expect(r.code, r.err).toBe(0);
    const sync = captions(a.ws);
    expect(sync.size).toBe(20);
    expect(captions(b.ws)).toEqual(sync);
    // No call went the synchronous way, and each round went out once.
    expect(b.oracle.stats().requests).toBe(0);
    const rows = batches(b.ws);
    expect(rows.length).toBe(b.oracle.stats().batch.batches);
    expect(rows.every((x) => x.status === 'collected' && x.try === 1)).toBe(true);
    // Round 0 asks every image's first question at once.
    expect(rows[0]!.request_count).toBe(20);
    const db = new Database(b.ws, { readonly: true });
    try {
      const c = db
        .prepare(
          `SELECT count(*) AS n, sum(batch_id IS NOT NULL) AS batched FROM llm_calls WHERE status = 'ok'`,
        )
        .get() as {
        n: number;
        batched: number;
      };
      expect(c.batched).toBe(c.n);
    } finally {
      db.close();
    }
  }, 120_000);

  it('matches synchronous mode with --verify too (more calls per round, one more dependent wave)', async () => {
    const a = await setup();
    const b = await setup({ batch: { completionDelayMs: 10 } });
    expect((await ctgi('mtg', '-w', a.ws, '--vqa', 'oracle', '--verify')).code).toBe(0);
    const r = await ctgi(
      'mtg',
      '-w',
      b.ws,
      '--vqa',
      'oracle',
      '--verify',
      '--batch',
      '--batch-poll-ms',
      '10',
    );
    expect(r.code, r.err).toBe(0);
    expect(captions(b.ws)).toEqual(captions(a.ws));
    expect(b.oracle.stats().requests).toBe(0);
  }, 120_000);

  it('sends failed lines and an expired batch again as smaller batches, and still matches synchronous mode', async () => {
    const a = await setup();
    const b = await setup({ batch: { completionDelayMs: 20, errorRate: 0.1, expireFirst: 1 } });
    expect((await ctgi('mtg', '-w', a.ws, '--vqa', 'oracle')).code).toBe(0);
    const r = await ctgi('mtg', '-w', b.ws, '--vqa', 'oracle', '--batch', '--batch-poll-ms', '20');
    expect(r.code, r.err).toBe(0);
    expect(captions(b.ws)).toEqual(captions(a.ws));
    const rows = batches(b.ws);
    const retries = rows.filter((x) => x.try > 1);
    expect(retries.length).toBeGreaterThan(0);
    const first = rows.find((x) => x.round === 0 && x.try === 1)!;
    const second = rows.find((x) => x.round === 0 && x.try === 2)!;
    // The expired first batch: half its lines were answered; only the rest went out again.
    expect(second.request_count).toBeLessThan(first.request_count);
    expect(b.oracle.stats().batch.resubmittedAnswered).toBe(0);
  }, 120_000);

  it('survives SIGKILL between submit and completion: the resumed job polls the same batch, never a second one', async () => {
    const { ws, oracle } = await setup({ batch: { completionDelayMs: 1500 } });
    const child = spawn(
      process.execPath,
      [CLI, 'mtg', '-w', ws, '--vqa', 'oracle', '--batch', '--batch-poll-ms', '50'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    // Killed while round 1 is submitted and not yet complete (round 0 went through before).
    const end = Date.now() + 60_000;
    for (;;) {
      const rows = (() => {
        try {
          return batches(ws);
        } catch {
          return [];
        }
      })();
      if (rows.some((x) => x.round === 1 && x.provider_batch_id !== null && x.status !== 'collected')) break;
      if (Date.now() > end) throw new Error('round 1 was never submitted');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const before = oracle.stats().batch.batches;
    expect(before).toBe(2);

    const db = new Database(ws, { readonly: true });
    const jobId = (db.prepare(`SELECT id FROM jobs WHERE kind = 'mtg'`).get() as { id: number }).id;
    db.close();
    const r = await ctgi('mtg', '-w', ws, '--resume', String(jobId));
    expect(r.code, r.err).toBe(0);
    expect(captions(ws).size).toBe(20);
    const rows = batches(ws);
    // Round 1 was polled and collected, not created again: one oracle batch per llm_batches row, and no
    // line that had been answered was ever submitted again.
    expect(rows.filter((x) => x.round === 1)).toHaveLength(1);
    expect(oracle.stats().batch.batches).toBe(rows.length);
    expect(oracle.stats().batch.resubmittedAnswered).toBe(0);
    expect(new Set(rows.map((x) => x.provider_batch_id)).size).toBe(rows.length);
  }, 120_000);

  it('--batch-export / --batch-import round-trip through files in the OpenAI batch format (as vLLM run_batch)', async () => {
    const a = await setup();
    const b = await setup();
    expect((await ctgi('mtg', '-w', a.ws, '--vqa', 'oracle')).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'mtg-offline-'));
    // What vLLM's offline runner does with the request file: each line's body to the model, one output line each.
    const runOffline = async (input: string, output: string): Promise<number> => {
      const lines = readFileSync(input, 'utf8').split('\n').filter(Boolean);
      const out: string[] = [];
      for (const [i, line] of lines.entries()) {
        const req = JSON.parse(line) as { custom_id: string; method: string; url: string; body: unknown };
        expect(req).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
        const res = await fetch(`${b.oracle.url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(req.body),
        });
        out.push(
          JSON.stringify({
            id: `vllm-${i}`,
            custom_id: req.custom_id,
            response: { status_code: res.status, request_id: `vllm-batch-${i}`, body: await res.json() },
            error: null,
          }),
        );
      }
      writeFileSync(output, `${out.join('\n')}\n`);
      return lines.length;
    };
    let round = 0;
    let r = await ctgi(
      'mtg',
      '-w',
      b.ws,
      '--vqa',
      'oracle',
      '--batch-export',
      join(dir, 'r0.jsonl'),
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    let report = JSON.parse(r.out) as { job: { id: number; status: string } };
    const jobId = report.job.id;
    const sizes: number[] = [];
    while (report.job.status === 'paused') {
      expect(existsSync(join(dir, `r${round}.jsonl`))).toBe(true);
      sizes.push(await runOffline(join(dir, `r${round}.jsonl`), join(dir, `o${round}.jsonl`)));
      r = await ctgi(
        'mtg',
        '-w',
        b.ws,
        '--resume',
        String(jobId),
        '--batch-import',
        join(dir, `o${round}.jsonl`),
        '--batch-export',
        join(dir, `r${round + 1}.jsonl`),
        '--json',
      );
      expect(r.code, r.err).toBe(0);
      report = JSON.parse(r.out) as typeof report;
      round++;
      expect(round).toBeLessThan(30);
    }
    expect(report.job.status).toBe('done');
    expect(sizes[0]).toBe(20); // round 0: every image's first question
    expect(captions(b.ws)).toEqual(captions(a.ws));
    // Every answer came through the files: the job itself sent nothing.
    expect(b.oracle.stats().requests).toBe(sizes.reduce((n, x) => n + x, 0));
  }, 180_000);
});
