// The MTI evaluation's per-query rows (migration 9) on the synthetic world with the toy CLIP and the
// oracle MLLM: a job that resumes after an interruption runs only the queries that have no row (its
// MLLM sees none of the finished ones), replaces a row that no longer describes its query, reports from
// every row, and its rows go with the job.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/cli';
import {
  countEvalMtiQueries,
  insertEvalMtiQuery,
  listEvalMtiQueries,
} from '../../src/main/db/repos/eval-mti';
import { insertDataset } from '../../src/main/db/repos/datasets';
import { getJobRow, insertJob, markJobFinished, updateJobProgress } from '../../src/main/db/repos/jobs';
import { upsertEndpoint } from '../../src/main/db/repos/llm';
import {
  evalMtiReport,
  startEvalMti,
  type EvalMtiParams,
  type EvalMtiState,
} from '../../src/main/jobs/eval-mti';
import type { MtiEvalQueryResult } from '#shared/mti/types';
import { startOracle, type OracleServer } from '../../src/main/synth/oracle/server';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import { asModelId, type ModelId } from '#shared/ids';
import { mtiEvalSchema } from '#shared/mti/contract';
import { makeWorld, type WorldFixture } from '../fixtures/world';

process.env.CTGI_ORT_PROVIDER = 'cpu';

let dir: string;
let wsFile: string;
let world: WorldFixture;
const oracles: OracleServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ctgi-eval-mti-rows-'));
  wsFile = path.join(dir, 'ws.sqlite');
  world = await makeWorld({ identities: 20, views: 2 });
  const clip = await writeToyClipFolder(path.join(dir, 'toy-clip'));
  for (const args of [
    ['import', '--annotations', path.join(world.dir, 'data_captions.json'), '--images', world.imageRoot],
    ['models', '--register', clip.dir, '--name', 'toy'],
    ['embed', '--model', 'toy'],
  ]) {
    const err: string[] = [];
    const code = await main([...args, '-w', wsFile], { out: () => {}, err: (l) => err.push(l) });
    expect(code, err.join('\n')).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  for (const o of oracles) await o.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An oracle of its own behind a new endpoint: its request count is what one job asked of the MLLM. */
async function freshOracle(ws: Workspace, name: string): Promise<OracleServer> {
  const oracle = await startOracle({ world: world.dir, seed: 7 });
  oracles.push(oracle);
  upsertEndpoint(ws.db, {
    name,
    baseUrl: oracle.url,
    model: 'oracle-vl',
    role: 'both',
    temperature: 0.01,
    maxTokens: 512,
    concurrency: 8,
    requestsPerMinute: null,
    timeoutMs: 60_000,
    keyRef: { kind: 'none' },
  });
  return oracle;
}

const toyModel = (ws: Workspace): ModelId =>
  asModelId((ws.db.prepare(`SELECT id FROM models WHERE name = 'toy'`).get() as { id: number }).id);

describe('eval_mti_queries', { timeout: 120_000 }, () => {
  it('lists each example query once, also when two captions give the same query', async () => {
    const ws = openWorkspace(wsFile, { resumeJobs: false });
    try {
      await freshOracle(ws, 'oracle-examples');
      const { job } = startEvalMti(ws, {
        modelId: toyModel(ws),
        queries: 'one-attribute',
        split: 'train',
        parallel: 4,
        params: { xi: 2 },
        vqaEndpoint: 'oracle-examples',
      });
      await ws.jobs.idle();
      expect(ws.jobs.get(job.id).status, ws.jobs.get(job.id).error ?? '').toBe('done');
      // One-attribute queries of two views of one person can be the same words: here some are, among
      // the queries whose rank MTI changed (the ones the report shows as examples).
      const moved = [...listEvalMtiQueries(ws.db, job.id).values()]
        .filter((r) => r.without && r.with && r.without.first !== r.with.first)
        .map((r) => r.query);
      const distinct = [...new Set(moved)];
      expect(distinct.length).toBeLessThan(moved.length);
      // The report names each of them once, the first five in query order.
      const examples = evalMtiReport(ws, { jobId: job.id }).report!.examples.map((e) => e.query);
      expect(examples).toEqual(distinct.slice(0, 5));
    } finally {
      await ws.close();
    }
  });

  it('resumes a job with only the queries that have no row, and reports from every row', async () => {
    const ws = openWorkspace(wsFile, { resumeJobs: false });
    try {
      const modelId = toyModel(ws);
      const settings = { modelId, queries: 'captions' as const, limit: 8, parallel: 2, params: { xi: 2 } };

      // A whole evaluation, for the results each query gets and what the MLLM is asked for all of them.
      const first = await freshOracle(ws, 'oracle-first');
      const { job: whole } = startEvalMti(ws, { ...settings, vqaEndpoint: 'oracle-first' });
      await ws.jobs.idle();
      expect(ws.jobs.get(whole.id).status).toBe('done');
      const reference = listEvalMtiQueries(ws.db, whole.id);
      expect([...reference.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const allRequests = first.stats().requests;
      expect(allRequests).toBeGreaterThan(8);

      // The same evaluation interrupted after queries 0–4 (a crash or a cancel), with a row at 6 left from
      // a query that is no longer the 7th (its caption was rejected, say), against an oracle of its own so
      // that no answer comes from the first job's cache.
      const second = await freshOracle(ws, 'oracle-second');
      const params: EvalMtiParams = mtiEvalSchema.parse({ ...settings, vqaEndpoint: 'oracle-second' });
      const id = insertJob(ws.db, { kind: 'eval-mti', title: 'interrupted', params });
      const planted = new Map<number, MtiEvalQueryResult>();
      for (let q = 0; q < 5; q++) planted.set(q, { ...reference.get(q)!, ms: 100_000 + q });
      ws.db.transaction(() => {
        for (const [q, r] of planted) insertEvalMtiQuery(ws.db, id, q, r);
        insertEvalMtiQuery(ws.db, id, 6, {
          ...reference.get(6)!,
          captionId: 1_000_000,
          query: 'a query from before',
        });
        updateJobProgress(ws.db, id, {
          done: 6,
          total: 8,
          message: null,
          state: { elapsedMs: 5_000 } satisfies EvalMtiState,
        });
      })();
      markJobFinished(ws.db, id, 'cancelled', null);

      ws.jobs.resume(id);
      await ws.jobs.idle();
      const job = ws.jobs.get(id);
      expect(job.status, job.error ?? '').toBe('done');
      expect(job.done).toBe(8);
      const rows = listEvalMtiQueries(ws.db, id);
      expect([...rows.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      // The finished queries were not run again: their rows are the ones stored before.
      for (const [q, r] of planted) expect(rows.get(q)).toEqual(r);
      // The missing and the stale queries were run, with the same outcome as in the whole evaluation.
      for (const q of [5, 6, 7]) {
        const { ms: _ms, ...figures } = rows.get(q)!;
        const { ms: _ref, ...expected } = reference.get(q)!;
        expect(figures, `query ${q}`).toEqual(expected);
        expect(rows.get(q)!.ms).toBeLessThan(100_000);
      }
      // …and only they reached the MLLM.
      const resumedRequests = second.stats().requests;
      expect(resumedRequests).toBeGreaterThan(0);
      expect(resumedRequests).toBeLessThan(allRequests);
      expect(resumedRequests).toBeLessThanOrEqual([5, 6, 7].reduce((a, q) => a + rows.get(q)!.calls, 0));

      // The report is the summary of the rows, the planted ones included; the cursor holds nothing else.
      const report = evalMtiReport(ws, { jobId: id }).report!;
      expect(report.queries).toBe(8);
      expect(report.latencyMs.max).toBe(100_004);
      expect(report.ms).toBeGreaterThan(5_000);
      const callsMean = [...rows.values()].reduce((a, r) => a + r.calls, 0) / 8;
      expect(report.callsPerQuery.mean).toBeCloseTo(callsMean, 9);
      expect(Object.keys(JSON.parse(getJobRow(ws.db, id)!.state!) as EvalMtiState).sort()).toEqual([
        'elapsedMs',
        'report',
      ]);

      // A query's row exists once: a second result for it is refused, not counted twice.
      expect(() => insertEvalMtiQuery(ws.db, id, 3, reference.get(3)!)).toThrow(/UNIQUE|PRIMARY KEY/);

      // Deleting a job deletes its rows, and only its rows.
      ws.db.prepare(`DELETE FROM jobs WHERE id = ?`).run(id);
      expect(countEvalMtiQueries(ws.db, id)).toBe(0);
      expect(countEvalMtiQueries(ws.db, whole.id)).toBe(8);
    } finally {
      await ws.close();
    }
  });

  it('covers the split as it was when queued, and its title counts the queries it runs (not the limit)', async () => {
    const ws = openWorkspace(wsFile, { resumeJobs: false });
    const late: number[] = [];
    try {
      const modelId = toyModel(ws);
      await freshOracle(ws, 'oracle-scope');
      const gallery = (
        ws.db.prepare(`SELECT count(*) AS n FROM images WHERE split = 'test'`).get() as { n: number }
      ).n;
      const queries = (
        ws.db
          .prepare(
            `SELECT count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id
             WHERE i.split = 'test' AND c.source = 'human' AND c.status != 'rejected'`,
          )
          .get() as { n: number }
      ).n;
      expect(queries).toBeLessThan(1_000_000);

      // "All queries", as `ctgi eval --mti` asks for them: the title says how many that is.
      const { job: all } = startEvalMti(ws, { modelId, queries: 'captions', limit: 1_000_000 });
      expect(all.title).toBe(
        `Evaluate MTI on the test split (${queries} captions queries) with model ${modelId}`,
      );
      await ws.jobs.cancel(all.id);

      const settings = { modelId, queries: 'captions' as const, limit: 3, parallel: 2, params: { xi: 2 } };
      const { job } = startEvalMti(ws, { ...settings, vqaEndpoint: 'oracle-scope' });
      expect(job.title).toBe(`Evaluate MTI on the test split (3 captions queries) with model ${modelId}`);
      // Test images added while it is paused (or waits to resume after a crash), with vectors (copies of
      // the first gallery image's): the evaluation's gallery is still the one it was queued over.
      await ws.jobs.pause(job.id);
      const first = ws.db
        .prepare(
          `SELECT i.*, d.root, e.vector, e.model_id FROM images i JOIN datasets d ON d.id = i.dataset_id
             JOIN embeddings e ON e.image_id = i.id
           WHERE i.split = 'test' ORDER BY i.id LIMIT 1`,
        )
        .get() as Record<string, unknown>;
      const lateRoot = mkdtempSync(path.join(dir, 'late-'));
      const lateDataset = insertDataset(ws.db, {
        name: 'late',
        format: 'folder',
        root: lateRoot,
        annotationFile: null,
      });
      for (let k = 0; k < 4; k++) {
        copyFileSync(
          path.join(first.root as string, first.rel_path as string),
          path.join(lateRoot, `${k}.jpg`),
        );
        const id = Number(
          ws.db
            .prepare(
              `INSERT INTO images (dataset_id, rel_path, sha256, width, height, bytes, format, identity_id, split, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'test', 0)`,
            )
            .run(
              lateDataset,
              `${k}.jpg`,
              `late-${k}`,
              first.width,
              first.height,
              first.bytes,
              first.format,
              first.identity_id,
            ).lastInsertRowid,
        );
        ws.db
          .prepare(`INSERT INTO embeddings (model_id, image_id, vector, created_at) VALUES (?, ?, ?, 0)`)
          .run(first.model_id, id, first.vector);
        late.push(id);
      }
      ws.jobs.resume(job.id);
      await ws.jobs.idle();
      expect(ws.jobs.get(job.id).status).toBe('done');
      expect(evalMtiReport(ws, { jobId: job.id }).report).toMatchObject({ gallery, queries: 3 });
    } finally {
      if (late.length) ws.db.prepare(`DELETE FROM datasets WHERE name = 'late'`).run();
      await ws.close();
    }
  });
});
