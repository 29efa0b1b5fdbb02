// MTG caption quality on the synthetic world (labelled "synthetic"): attribute recall and precision of
// the single-turn initial captions vs the reconstructed MTG captions, without and with the optional
// verification step, under a noisy oracle MLLM. Runs the real job (ctgi's MTG job, llm client, prompt
// set) against the oracle over loopback. The verified run is a second job over the same images: its
// initial caption and questions are served from the first job's cache, so the two rows differ only by
// the checks.
//
//   npx tsx scripts/eval-mtg-quality.ts [--identities 60] [--views 2] [--wrong 0.1] [--hallucinate 0.1] [--rounds 6] [--no-verify] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { upsertEndpoint } from '../src/main/db/repos/llm';
import { listMtgRunsForImage } from '../src/main/db/repos/mtg';
import { startImport } from '../src/main/jobs/import';
import { startMtg } from '../src/main/jobs/mtg';
import { totalQuality, type QualityTotals } from '../src/main/pipelines/caption-quality';
import { scoreCaption } from '../src/main/synth/caption-score';
import { ORACLE_MODELS, startOracle } from '../src/main/synth/oracle/server';
import { generateWorld, IMAGE_ROOT, WORLD_FILES, type GroundTruth } from '../src/main/synth/world';
import { openWorkspace } from '../src/main/workspace';
import { readFileSync } from 'node:fs';
import type { ImageId } from '#shared/ids';

export interface MtgQualityOptions {
  identities: number;
  views: number;
  seed?: number;
  wrongRate: number;
  hallucinationRate: number;
  rounds: number;
  /** Also run MTG with verification (default true). */
  verify?: boolean;
  /** A world already generated (its folder); by default one is generated in a temp folder. */
  worldDir?: string;
}

export interface MtgQualityReport {
  images: number;
  initial: QualityTotals;
  reconstructed: QualityTotals;
  /** The same run with verification on (null with `verify: false`). */
  verified: { quality: QualityTotals; keptPerImage: number; unverified: number; calls: number } | null;
  keptPerImage: number;
  droppedByReason: Record<string, number>;
  calls: number;
  failed: number;
  options: MtgQualityOptions;
}

export async function evalMtgQuality(opts: MtgQualityOptions): Promise<MtgQualityReport> {
  const tmp = mkdtempSync(join(tmpdir(), 'ctgi-mtg-quality-'));
  const worldDir = opts.worldDir ?? join(tmp, 'world');
  if (!opts.worldDir)
    await generateWorld({
      identities: opts.identities,
      views: opts.views,
      seed: opts.seed ?? 7,
      outDir: worldDir,
    });
  const truth = JSON.parse(readFileSync(join(worldDir, WORLD_FILES.attributes), 'utf8')) as GroundTruth;
  const byFile = new Map(truth.images.map((i) => [i.file, i.attributes]));
  const oracle = await startOracle({
    world: worldDir,
    wrongRate: opts.wrongRate,
    hallucinationRate: opts.hallucinationRate,
    seed: opts.seed ?? 7,
  });
  const ws = openWorkspace(join(tmp, 'ws.sqlite'));
  try {
    const { datasetId } = await startImport(ws, { imageRoot: join(worldDir, IMAGE_ROOT) });
    await ws.jobs.idle();
    const common = {
      baseUrl: oracle.url,
      temperature: 0.01,
      maxTokens: 256,
      concurrency: 16,
      requestsPerMinute: null,
      timeoutMs: 30_000,
      keyRef: { kind: 'none' as const },
    };
    upsertEndpoint(ws.db, { ...common, name: 'oracle-vqa', model: ORACLE_MODELS.vision, role: 'vqa' });
    upsertEndpoint(ws.db, {
      ...common,
      name: 'oracle-rec',
      model: ORACLE_MODELS.text,
      role: 'reconstructor',
    });
    const { job } = startMtg(ws, {
      datasetId,
      vqaEndpoint: 'oracle-vqa',
      reconstructorEndpoint: 'oracle-rec',
      rounds: opts.rounds,
      redo: false,
    });
    await ws.jobs.idle();
    const verifyJob =
      opts.verify === false
        ? null
        : startMtg(ws, {
            datasetId,
            vqaEndpoint: 'oracle-vqa',
            reconstructorEndpoint: 'oracle-rec',
            rounds: opts.rounds,
            redo: true,
            verify: true,
          }).job;
    await ws.jobs.idle();
    const vScores: ReturnType<typeof scoreCaption>[] = [];
    let vKept = 0;
    let vUnverified = 0;
    let vCalls = 0;
    const images = ws.db
      .prepare(`SELECT id, rel_path FROM images WHERE dataset_id = ? ORDER BY id`)
      .all(datasetId) as { id: ImageId; rel_path: string }[];
    const initial: ReturnType<typeof scoreCaption>[] = [];
    const recon: ReturnType<typeof scoreCaption>[] = [];
    const dropped: Record<string, number> = {};
    let kept = 0;
    let calls = 0;
    let failed = 0;
    for (const img of images) {
      const attrs = byFile.get(img.rel_path);
      if (!attrs) throw new Error(`${img.rel_path} is not in attributes.json`);
      const run = listMtgRunsForImage(ws.db, img.id).find((r) => r.jobId === job.id);
      if (!run || run.status !== 'done' || run.captionId === null) {
        failed++;
        continue;
      }
      const caption = (
        ws.db.prepare(`SELECT text FROM captions WHERE id = ?`).get(run.captionId) as { text: string }
      ).text;
      initial.push(scoreCaption(run.initialCaption ?? '', attrs));
      recon.push(scoreCaption(caption, attrs));
      calls += run.calls;
      for (const r of run.rounds) {
        if (r.kept) kept++;
        else dropped[r.dropReason ?? 'unknown'] = (dropped[r.dropReason ?? 'unknown'] ?? 0) + 1;
      }
      if (verifyJob) {
        const v = listMtgRunsForImage(ws.db, img.id).find((r) => r.jobId === verifyJob.id);
        if (!v || v.status !== 'done' || v.captionId === null) {
          failed++;
          continue;
        }
        vScores.push(
          scoreCaption(
            (ws.db.prepare(`SELECT text FROM captions WHERE id = ?`).get(v.captionId) as { text: string })
              .text,
            attrs,
          ),
        );
        vCalls += v.calls;
        vKept += v.rounds.filter((r) => r.kept).length;
        vUnverified += v.rounds.filter((r) => r.dropReason === 'unverified').length;
      }
    }
    return {
      images: images.length,
      initial: totalQuality(initial),
      reconstructed: totalQuality(recon),
      verified: verifyJob
        ? {
            quality: totalQuality(vScores),
            keptPerImage: vKept / Math.max(1, vScores.length),
            unverified: vUnverified,
            calls: vCalls,
          }
        : null,
      keptPerImage: kept / Math.max(1, images.length - failed),
      droppedByReason: dropped,
      calls,
      failed,
      options: opts,
    };
  } finally {
    await ws.close();
    await oracle.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function formatQuality(r: MtgQualityReport): string {
  const o = r.options;
  const rows = [
    ['captions (synthetic)', 'recall', 'precision', 'attributes/caption'],
    [
      'initial (single turn)',
      pct(r.initial.recall),
      pct(r.initial.precision),
      r.initial.perCaption.toFixed(2),
    ],
    [
      `MTG reconstructed (${o.rounds} rounds)`,
      pct(r.reconstructed.recall),
      pct(r.reconstructed.precision),
      r.reconstructed.perCaption.toFixed(2),
    ],
  ];
  const v = r.verified;
  if (v)
    rows.push([
      `MTG + verification`,
      pct(v.quality.recall),
      pct(v.quality.precision),
      v.quality.perCaption.toFixed(2),
    ]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((c, i) => c.padEnd(w[i]!)).join('  '));
  lines.splice(1, 0, w.map((n) => '-'.repeat(n)).join('  '));
  return [
    `MTG quality on the synthetic world: ${r.images} images (${o.identities} people × ${o.views} views), oracle wrongRate ${o.wrongRate}, hallucinationRate ${o.hallucinationRate}`,
    ...lines,
    `kept answers per image: ${r.keptPerImage.toFixed(2)}; dropped: ${
      Object.entries(r.droppedByReason)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }; model calls: ${r.calls}; failed images: ${r.failed}`,
    ...(v
      ? [
          `with verification: kept answers per image ${v.keptPerImage.toFixed(2)}; unverified ${v.unverified}; model calls: ${v.calls} (+${v.calls - r.calls})`,
        ]
      : []),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      identities: { type: 'string', default: '60' },
      views: { type: 'string', default: '2' },
      wrong: { type: 'string', default: '0.1' },
      hallucinate: { type: 'string', default: '0.1' },
      rounds: { type: 'string', default: '6' },
      json: { type: 'boolean' },
      'no-verify': { type: 'boolean' },
    },
  });
  const report = await evalMtgQuality({
    identities: Number(values.identities),
    views: Number(values.views),
    wrongRate: Number(values.wrong),
    hallucinationRate: Number(values.hallucinate),
    rounds: Number(values.rounds),
    verify: values['no-verify'] !== true,
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatQuality(report));
}
