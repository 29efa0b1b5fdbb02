// The demo workspace behind `npm start`: generated once, imported into an empty workspace only, with the
// toy CLIP registered and embedded and the oracle saved as an endpoint.
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { countEmbeddings } from '../../src/main/db/repos/embeddings';
import { getLibraryStats } from '../../src/main/db/repos/images';
import { getEndpointByName } from '../../src/main/db/repos/llm';
import { DEMO_CAPTION_MISTAKES, ensureDemoWorkspace } from '../../src/main/demo';
import { quantile } from '../../src/main/pipelines/metrics';
import { scoreCaption } from '../../src/main/synth/caption-score';
import type { GroundTruth } from '../../src/main/synth/world';
import { countCaptionsToScore } from '../../src/main/db/repos/scores';
import { openWorkspace } from '../../src/main/workspace';

const dir = mkdtempSync(join(tmpdir(), 'ctgi-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = { identities: 4, views: 2, seed: 3, oracle: false };

describe('ensureDemoWorkspace', () => {
  it('generates the world beside the workspace and imports it as a job', async () => {
    const ws = openWorkspace(join(dir, 'demo.sqlite'), { resumeJobs: false });
    try {
      const log: string[] = [];
      const result = await ensureDemoWorkspace(ws, { ...small, log: (l) => log.push(l) });
      expect(result.worldDir).toBe(join(dir, 'demo-world'));
      expect(existsSync(join(result.worldDir, 'data_captions.json'))).toBe(true);
      expect(log.join('\n')).toContain('Generating');
      expect(result.job).toMatchObject({ kind: 'import' });
      await ws.jobs.idle();
      expect(ws.jobs.get(result.job!.id)).toMatchObject({ status: 'done', done: 8 });
      const stats = getLibraryStats(ws.db);
      expect(stats).toMatchObject({ datasets: 1, images: 8, identities: 4 });
      // The toy CLIP embedded every image once the import was done: search works right away.
      expect(countEmbeddings(ws.db, result.modelId)).toBe(8);
      // And then scored every caption, so the review desk can filter and order by score right away.
      await vi.waitFor(async () => {
        await ws.jobs.idle();
        expect(countCaptionsToScore(ws.db, result.modelId, {})).toBe(0);
      });
      const scored = ws.db
        .prepare(`SELECT count(*) AS n FROM caption_scores WHERE model_id = ?`)
        .get(result.modelId) as { n: number };
      expect(scored.n).toBeGreaterThanOrEqual(8);

      const again = await ensureDemoWorkspace(ws, small);
      expect(again.job).toBeUndefined();
      expect(getLibraryStats(ws.db).images).toBe(8);
    } finally {
      await ws.close();
    }
  });

  it('reuses a world already on disk, and regenerates one that was left half-made', async () => {
    const ws = openWorkspace(join(dir, 'second.sqlite'), { resumeJobs: false });
    try {
      const log: string[] = [];
      const reused = await ensureDemoWorkspace(ws, {
        ...small,
        worldDir: join(dir, 'demo-world'),
        log: (l) => log.push(l),
      });
      expect(log.join('\n')).not.toContain('Generating');
      await ws.jobs.idle();
      expect(ws.jobs.get(reused.job!.id).status).toBe('done');
    } finally {
      await ws.close();
    }

    unlinkSync(join(dir, 'demo-world', 'data_captions.json'));
    const third = openWorkspace(join(dir, 'third.sqlite'), { resumeJobs: false });
    try {
      const log: string[] = [];
      const made = await ensureDemoWorkspace(third, {
        ...small,
        worldDir: join(dir, 'demo-world'),
        log: (l) => log.push(l),
      });
      expect(log.join('\n')).toContain('Generating');
      await third.jobs.idle();
      expect(third.jobs.get(made.job!.id)).toMatchObject({ status: 'done', done: 8 });
    } finally {
      await third.close();
    }
  });

  it('scores wrong captions below right ones, so the score filter and chart have something to show', async () => {
    const ws = openWorkspace(join(dir, 'scores.sqlite'), { resumeJobs: false });
    try {
      const demo = await ensureDemoWorkspace(ws, {
        identities: 40,
        views: 3,
        seed: 7,
        oracle: false,
        worldDir: join(dir, 'scores-world'),
      });
      await vi.waitFor(
        async () => {
          await ws.jobs.idle();
          expect(countCaptionsToScore(ws.db, demo.modelId, {})).toBe(0);
        },
        { timeout: 60_000 },
      );
      const rows = ws.db
        .prepare(
          `SELECT c.text, i.rel_path, s.score FROM caption_scores s JOIN captions c ON c.id = s.caption_id
           JOIN images i ON i.id = c.image_id WHERE s.model_id = ?`,
        )
        .all(demo.modelId) as { text: string; rel_path: string; score: number }[];
      expect(rows).toHaveLength(240);
      // Which captions are wrong, read with the world's own parser against its ground truth — not taken
      // from the list of planted mistakes, which must agree with it.
      const truth = JSON.parse(readFileSync(join(demo.worldDir, 'attributes.json'), 'utf8')) as GroundTruth;
      const byFile = new Map(truth.images.map((i) => [i.file, i]));
      const wrong: number[] = [];
      const right: number[] = [];
      for (const r of rows) {
        const s = scoreCaption(r.text, byFile.get(r.rel_path)!.attributes);
        (s.correct < s.stated ? wrong : right).push(r.score);
      }
      const planted = truth.images.reduce((n, i) => n + (i.captionMistakes?.length ?? 0), 0);
      expect(wrong).toHaveLength(planted);
      expect(wrong.length / rows.length).toBeGreaterThan(DEMO_CAPTION_MISTAKES / 2);
      expect(wrong.length / rows.length).toBeLessThan(DEMO_CAPTION_MISTAKES * 2);
      // Every wrong caption scores below every right one, by a clear margin…
      expect(Math.max(...wrong)).toBeLessThan(Math.min(...right) - 0.1);
      // …and the spread shows in the quantiles the dashboard's chart and the score filter work with.
      const all = Float64Array.from(rows, (r) => r.score).sort();
      expect(quantile(all, 0.5) - quantile(all, 0.05)).toBeGreaterThan(0.1);
    } finally {
      await ws.close();
    }
  });

  it('runs the oracle as the demo-oracle endpoint, and saves its new address at every start', async () => {
    const ws = openWorkspace(join(dir, 'oracle.sqlite'), { resumeJobs: false });
    try {
      const first = await ensureDemoWorkspace(ws, {
        ...small,
        oracle: true,
        worldDir: join(dir, 'oracle-world'),
      });
      await first.stop();
      const second = await ensureDemoWorkspace(ws, {
        ...small,
        oracle: true,
        worldDir: join(dir, 'oracle-world'),
      });
      try {
        expect(getEndpointByName(ws.db, 'demo-oracle')).toMatchObject({
          baseUrl: second.oracleUrl,
          model: 'oracle-vl',
        });
        const models = await fetch(`${second.oracleUrl}/models`).then(
          (r) => r.json() as Promise<{ data: unknown[] }>,
        );
        expect(models.data.length).toBeGreaterThan(0);
        await ws.jobs.idle();
        expect(countEmbeddings(ws.db, second.modelId)).toBe(8);
      } finally {
        await second.stop();
      }
    } finally {
      await ws.close();
    }
  });
});
