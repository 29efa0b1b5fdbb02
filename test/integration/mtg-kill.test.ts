// A real process, really killed: `ctgi mtg` gets SIGKILL in the middle of a job (no cleanup, no
// shutdown hook) while requests are in flight, and `ctgi mtg --resume` must finish it with one caption
// per image and every round stored.
//
// What a kill costs is bounded, and the bound is what `ctgi mtg --help` promises: every answer the killed
// process had logged (llm_calls) is served from the cache, so only the calls in flight at the kill — sent,
// and not yet answered or not yet logged — can be asked and paid for again, and there are at most as many
// as the endpoint's concurrency. The kill lands while answers are still coming in, so some may be on the
// wire, unlogged, at that moment.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fixtures/fake-openai';
import { imageFolder, requestKey, scriptedAnswer } from './mtg-helpers';

const N = 240;
const CLI = join(process.cwd(), 'bin/ctgi.mjs');

let fake: FakeOpenAi;
let root: string;
beforeAll(async () => {
  fake = await startFakeOpenAi();
  root = await imageFolder(N, 'mtg-kill-imgs-');
});
afterAll(() => fake.close());

function ctgi(args: string[]): {
  kill: (s: NodeJS.Signals) => void;
  exit: Promise<{ code: number | null; signal: string | null; out: string; err: string }>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    kill: (s) => child.kill(s),
    exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, err }))),
  };
}

function query<T>(ws: string, sql: string): T {
  const db = new Database(ws, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).get() as T;
  } finally {
    db.close();
  }
}

async function waitFor(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ctgi mtg survives being killed', () => {
  it('SIGKILL mid-job, then --resume: one caption per image, no round lost, only calls in flight asked again', async () => {
    const ws = join(mkdtempSync(join(tmpdir(), 'mtg-kill-ws-')), 'ws.sqlite');
    expect((await ctgi(['import', '--workspace', ws, '--folder', root]).exit).code).toBe(0);
    const saved = await ctgi([
      'endpoints',
      '--workspace',
      ws,
      '--save',
      'fake',
      '--base-url',
      fake.url,
      '--model',
      'fake-vl',
      '--concurrency',
      '16',
      '--no-key',
    ]).exit;
    expect(saved.code, saved.err).toBe(0);

    const answered = new Map<string, number>();
    // 'open': answer all. 'questions': reconstructions (text-only) hang while image questions are still
    // answered, so every image in flight has paid answers only the resumed process can reuse.
    let gate: 'open' | 'questions' = 'open';
    let held = 0;
    fake.onChat = (body) => {
      if (gate === 'questions' && !JSON.stringify(body.messages).includes('image_url')) {
        held++;
        return { hang: true };
      }
      const key = requestKey(body);
      answered.set(key, (answered.get(key) ?? 0) + 1);
      return { content: scriptedAnswer(body) };
    };

    const chatsBefore = fake.chats.length;
    const first = ctgi(['mtg', '--workspace', ws, '--vqa', 'fake', '--rounds', '6']);
    let runs = 0;
    await waitFor(() => {
      try {
        runs = query<{ n: number }>(ws, `SELECT count(*) AS n FROM mtg_runs`).n;
      } catch {
        runs = 0; // not migrated yet
      }
      return runs >= 40;
    });
    gate = 'questions';
    await waitFor(() => held >= 4); // reconstructions are in flight, unanswered; questions still answered
    first.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 200)); // requests already on the wire reach the server

    // In flight at the kill: requests the server received whose outcome the killed process never logged
    // (every attempt it saw the end of is one llm_calls row, answer or error).
    const sent = fake.chats.length - chatsBefore;
    const logged = query<{ n: number }>(
      ws,
      `SELECT count(*) AS n FROM llm_calls WHERE status IN ('ok', 'error')`,
    ).n;
    const inFlight = sent - logged;
    expect(inFlight).toBeGreaterThanOrEqual(held);
    expect(inFlight).toBeLessThanOrEqual(16); // the endpoint's concurrency

    const mid = query<{ runs: number; captions: number; job: number; status: string }>(
      ws,
      `SELECT (SELECT count(*) FROM mtg_runs) AS runs, (SELECT count(*) FROM captions WHERE source = 'mtg') AS captions,
         (SELECT id FROM jobs WHERE kind = 'mtg') AS job, (SELECT status FROM jobs WHERE kind = 'mtg') AS status`,
    );
    expect(mid.status).toBe('running');
    expect(mid.runs).toBeGreaterThanOrEqual(40);
    expect(mid.runs).toBeLessThan(N);
    expect(mid.captions).toBe(mid.runs);

    gate = 'open';
    const resumed = await ctgi(['mtg', '--workspace', ws, '--resume', String(mid.job), '--json']).exit;
    expect(resumed.code, resumed.err).toBe(0);
    const report = JSON.parse(resumed.out) as {
      job: { status: string; done: number; total: number; attempts: number };
      runs: { done: number; failed: number };
    };
    expect(report.job).toMatchObject({ status: 'done', done: N, total: N, attempts: 2 });
    expect(report.runs).toMatchObject({ done: N, failed: 0 });

    const end = query<{ images: number; captioned: number; captions: number; short: number; rounds: number }>(
      ws,
      `SELECT (SELECT count(*) FROM images) AS images,
         (SELECT count(DISTINCT image_id) FROM captions WHERE source = 'mtg') AS captioned,
         (SELECT count(*) FROM captions WHERE source = 'mtg') AS captions,
         (SELECT count(*) FROM mtg_runs r WHERE (SELECT count(*) FROM qa_rounds q WHERE q.run_id = r.id) <> 6) AS short,
         (SELECT count(*) FROM qa_rounds) AS rounds`,
    );
    expect(end).toEqual({ images: N, captioned: N, captions: N, short: 0, rounds: 6 * N });
    // Paid twice: only calls that were in flight at the kill, never more.
    const twice = [...answered.values()].filter((n) => n > 1).length;
    console.log(`killed with ${inFlight} calls in flight (${held} unanswered); ${twice} answered twice`);
    expect(twice).toBeLessThanOrEqual(inFlight);
    // And the resumed process really did reuse the killed one's answers rather than asking again.
    const hits = query<{ n: number }>(ws, `SELECT count(*) AS n FROM llm_calls WHERE status = 'hit'`).n;
    expect(hits).toBeGreaterThan(0);
  });
});
