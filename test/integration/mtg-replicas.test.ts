// MTG on a pool of oracle replicas (separate processes, the same seed), one of which dies mid-job
// (`--die-after`: it stops listening and drops every connection, answered or not). The job must finish
// with a caption for every image, the calls in flight on the dead replica go to the others under the same
// request key, and the answers paid twice are at most the calls that replica had in flight when it died.
import { mkdtempSync } from 'node:fs';
import { runCli } from '../fixtures/cli';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointReplicas, probeEndpointByName } from '../../src/main/llm/endpoints';
import { startOracleReplicas, type OracleReplicas } from '../../src/main/synth/oracle/replicas';
import { openWorkspace } from '../../src/main/workspace';
import { makeWorld, type WorldFixture } from '../fixtures/world';

const CLI = join(process.cwd(), 'bin/ctgi.mjs');
let world: WorldFixture;
const pools: OracleReplicas[] = [];
beforeAll(async () => {
  world = await makeWorld({ identities: 20, views: 2 });
});
afterAll(async () => {
  for (const p of pools) await p.close();
});

const ctgi = runCli;

async function workspaceWith(urls: string[]): Promise<string> {
  const ws = join(mkdtempSync(join(tmpdir(), 'mtg-replicas-')), 'ws.sqlite');
  const imported = await ctgi(
    'import',
    '-w',
    ws,
    '--annotations',
    join(world.dir, 'data_captions.json'),
    '--images',
    world.imageRoot,
  );
  expect(imported.code, imported.err).toBe(0);
  const saved = await ctgi(
    'endpoints',
    '-w',
    ws,
    '--save',
    'pool',
    '--base-url',
    urls[0]!,
    ...urls.slice(1).flatMap((u) => ['--replica', u]),
    '--model',
    'oracle-vl',
    '--concurrency',
    '6',
    '--no-key',
  );
  expect(saved.code, saved.err).toBe(0);
  return ws;
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

describe('MTG on replicas', () => {
  it('finishes when one replica dies mid-job: every image captioned, nothing paid twice beyond its calls in flight', async () => {
    const pool = await startOracleReplicas(CLI, 3, {
      args: ['--world', world.dir, '--seed', '11', '--latency-ms', '15'],
      perReplica: { 1: ['--die-after', '40'] },
    });
    pools.push(pool);
    const ws = await workspaceWith(pool.urls);
    const r = await ctgi('mtg', '-w', ws, '--vqa', 'pool', '--json');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { runs: { done: number; failed: number } };
    expect(report.runs).toMatchObject({ done: 40, failed: 0 });
    expect(captions(ws).size).toBe(40);

    const dead = await pool.replicas[1]!.exited;
    expect(dead.death, 'the replica died on purpose').not.toBeNull();
    const survivors = await Promise.all([pool.replicas[0]!.stats(), pool.replicas[2]!.stats()]);
    const answered = dead.death!.answered + survivors[0].answered + survivors[1].answered;

    const db = new Database(ws, { readonly: true });
    try {
      const paid = db
        .prepare(`SELECT count(DISTINCT request_hash) AS n FROM llm_calls WHERE status = 'ok'`)
        .get() as { n: number };
      const byReplica = db
        .prepare(
          `SELECT replica, sum(status = 'ok') AS ok, sum(status = 'error') AS errors FROM llm_calls
           WHERE replica IS NOT NULL GROUP BY replica ORDER BY replica`,
        )
        .all() as { replica: string; ok: number; errors: number }[];
      const deadRow = byReplica.find((x) => x.replica === pool.urls[1]);
      // It answered what it answered before dying, and its failures are on the books under its name.
      expect(deadRow?.ok).toBe(dead.death!.answered);
      expect(deadRow?.errors).toBeGreaterThan(0);
      for (const u of [pool.urls[0], pool.urls[2]])
        expect(byReplica.find((x) => x.replica === u)?.ok).toBeGreaterThan(0);
      const twice = answered - paid.n;
      console.log(
        `replica died after ${dead.death!.answered} answers with ${dead.death!.inFlight} in flight; ` +
          `${answered} answers served, ${paid.n} distinct requests paid, ${twice} answered twice`,
      );
      expect(twice).toBeGreaterThanOrEqual(0);
      expect(twice).toBeLessThanOrEqual(dead.death!.inFlight);
    } finally {
      db.close();
    }
  }, 120_000);

  it('gives the same captions as one server (replicas share the seed and the cache key)', async () => {
    const one = await startOracleReplicas(CLI, 1, { args: ['--world', world.dir, '--seed', '11'] });
    const three = await startOracleReplicas(CLI, 3, { args: ['--world', world.dir, '--seed', '11'] });
    pools.push(one, three);
    const a = await workspaceWith(one.urls);
    const b = await workspaceWith(three.urls);
    expect((await ctgi('mtg', '-w', a, '--vqa', 'pool')).code).toBe(0);
    expect((await ctgi('mtg', '-w', b, '--vqa', 'pool')).code).toBe(0);
    const ca = captions(a);
    expect(ca.size).toBe(40);
    expect(captions(b)).toEqual(ca);
    const stats = await Promise.all(three.replicas.map((x) => x.stats()));
    // The load was spread: every replica answered a fair share.
    for (const s of stats)
      expect(s.answered).toBeGreaterThan(0.15 * stats.reduce((n, x) => n + x.answered, 0));
  }, 120_000);

  it('probe checks every replica and names the one that is down; ctgi endpoints lists per-replica figures', async () => {
    const pool = await startOracleReplicas(CLI, 2, { args: ['--world', world.dir, '--seed', '11'] });
    pools.push(pool);
    pool.replicas[1]!.kill('SIGKILL');
    await pool.replicas[1]!.exited;
    const ws = await workspaceWith(pool.urls);
    const p = await ctgi('endpoints', '-w', ws, '--probe', 'pool', '--json');
    expect(p.code).toBe(1);
    const probe = JSON.parse(p.out) as {
      ok: boolean;
      checks: { name: string; status: string; detail: string }[];
      advice: string;
    };
    const replicas = probe.checks.find((c) => c.name === 'replicas');
    expect(replicas?.status).toBe('failed');
    expect(replicas?.detail).toContain(pool.urls[1]);
    expect(replicas?.detail).not.toContain(`${pool.urls[0]}:`);
    expect(probe.advice).toContain(pool.urls[1]);

    // A probe tells the workspace's pool: the dead server is out (and probed), the other one healthy.
    const open = openWorkspace(ws, { resumeJobs: false });
    try {
      const found = await probeEndpointByName(open.db, 'pool', open.services.keys, open.services.llm);
      expect(found.ok).toBe(false);
      const live = endpointReplicas(open.db, 'pool', open.services.llm);
      expect(live.map((r) => [r.baseUrl, r.healthy])).toEqual([
        [pool.urls[0], true],
        [pool.urls[1], false],
      ]);
    } finally {
      await open.close();
    }

    // Another workspace opening (another `ctgi` process) has no live health, only the calls log's figures.
    const listed = await ctgi('endpoints', '-w', ws);
    expect(listed.out).toContain(pool.urls[0]);
    expect(listed.out).not.toContain('OUT (being probed)');
    expect(listed.out).toMatch(
      new RegExp(`${pool.urls[1]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*errors`),
    );
  }, 60_000);
});
