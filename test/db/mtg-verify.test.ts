// MTG's verification option where it meets storage: the qa_rounds table accepts the new drop reason
// after migration 7 without losing the rows written before it, and a job started with `verify` records
// the choice with the run's parameters and stores the pairs its checks denied.
import { asWritableDb } from '../../src/main/db/types';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/main/db/migrate';
import { migrations } from '../../src/main/db/migrations';
import { upsertEndpoint } from '../../src/main/db/repos/llm';
import { listMtgRunsForImage } from '../../src/main/db/repos/mtg';
import { startImport } from '../../src/main/jobs/import';
import { startMtg } from '../../src/main/jobs/mtg';
import { ORACLE_MODELS, startOracle } from '../../src/main/synth/oracle/server';
import { generateWorld, IMAGE_ROOT } from '../../src/main/synth/world';
import { openWorkspace } from '../../src/main/workspace';
import type { ImageId } from '#shared/ids';

const insertRound = (db: Database.Database, idx: number, reason: string | null): void => {
  db.prepare(
    `INSERT INTO qa_rounds (run_id, idx, question_id, question, prompt, answer, kept, drop_reason, drop_detail, fact)
     VALUES (1, ?, 'shoes', 'What colour are the shoes?', 'p', 'White.', ?, ?, NULL, NULL)`,
  ).run(idx, reason === null ? 1 : 0, reason);
};

describe("migration 7: drop reason 'unverified'", () => {
  it('keeps the rounds stored before it and accepts the new reason after it', () => {
    const db = asWritableDb(new Database(':memory:'));
    db.pragma('foreign_keys = OFF'); // a bare round, without the run, image and job it would hang from
    migrate(db, migrations.slice(0, 6), null);
    insertRound(db, 0, 'negative');
    expect(() => insertRound(db, 1, 'unverified')).toThrow(/CHECK constraint/);
    migrate(db, migrations, null);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.prepare(`SELECT idx, drop_reason FROM qa_rounds`).all()).toEqual([
      { idx: 0, drop_reason: 'negative' },
    ]);
    insertRound(db, 1, 'unverified');
    expect(() => insertRound(db, 2, 'made-up')).toThrow(/CHECK constraint/);
  });
});

describe('mtg job with verify', { timeout: 60_000 }, () => {
  it("stores verify with the run's parameters and the denied pairs as 'unverified' rounds", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ctgi-mtg-verify-'));
    await generateWorld({ identities: 6, views: 1, seed: 3, outDir: join(tmp, 'world') });
    const oracle = await startOracle({
      world: join(tmp, 'world'),
      wrongRate: 0.3,
      hallucinationRate: 0,
      seed: 3,
    });
    const ws = openWorkspace(':memory:');
    try {
      const { datasetId } = await startImport(ws, { imageRoot: join(tmp, 'world', IMAGE_ROOT) });
      await ws.jobs.idle();
      const common = {
        baseUrl: oracle.url,
        temperature: 0.01,
        maxTokens: 256,
        concurrency: 4,
        requestsPerMinute: null,
        timeoutMs: 30_000,
        keyRef: { kind: 'none' as const },
      };
      upsertEndpoint(ws.db, { ...common, name: 'o-vqa', model: ORACLE_MODELS.vision, role: 'vqa' });
      upsertEndpoint(ws.db, { ...common, name: 'o-rec', model: ORACLE_MODELS.text, role: 'reconstructor' });
      const { job } = startMtg(ws, {
        datasetId,
        vqaEndpoint: 'o-vqa',
        reconstructorEndpoint: 'o-rec',
        rounds: 6,
        redo: false,
        verify: true,
      });
      expect(job.title).toMatch(/verified/);
      await ws.jobs.idle();
      expect(ws.jobs.get(job.id).status).toBe('done');
      const ids = (ws.db.prepare(`SELECT id FROM images ORDER BY id`).all() as { id: ImageId }[]).map(
        (r) => r.id,
      );
      const runs = ids.map((id) => listMtgRunsForImage(ws.db, id)[0]!);
      for (const run of runs) expect(run.params).toMatchObject({ rounds: 6, verify: true });
      const denied = runs.flatMap((r) => r.rounds).filter((r) => r.dropReason === 'unverified');
      expect(denied.length).toBeGreaterThan(0);
      for (const r of denied)
        expect(r).toMatchObject({
          kept: false,
          fact: null,
          dropDetail: expect.stringMatching(/said no \("No\."\)/),
        });
      // The checks are calls of the run: initial + questions + one check per answer that passed the filters + reconstruction.
      const run = runs[0]!;
      const checked = run.rounds.filter((r) => r.kept || r.dropReason === 'unverified').length;
      const answered = run.rounds.filter((r) => r.answer !== null).length;
      expect(run.calls).toBe(1 + answered + checked + (run.rounds.some((r) => r.kept) ? 1 : 0));
    } finally {
      await ws.close();
      await oracle.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
