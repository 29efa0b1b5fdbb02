// `npm run bench:export`: export time and file size for 100,000 accepted captions, in every format.
// The annotation file alone (images referenced in place) per format, then RSTPReid with the images
// hard-linked and copied. Synthetic workspace: rows over a pool of real PNG files (test/e2e's seeder).
//   --captions N   rows to seed (default 100,000 images, about one caption each)
//   --no-copy      skip the copy run (the slowest: one file per image)
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ANNOTATION_FILE } from '../src/main/datasets/export-formats';
import { startExport } from '../src/main/jobs/export';
import { openWorkspace } from '../src/main/workspace';
import type { ExportFormat, ExportImageMode } from '#shared/review/types';
import { seedWorkspace } from '../test/e2e/helpers/seed';

const { values } = parseArgs({ options: { captions: { type: 'string' }, 'no-copy': { type: 'boolean' } } });
const IMAGES = Number(values.captions ?? 100_000);

interface Run {
  format: ExportFormat;
  images: ExportImageMode;
  captions: number;
  seconds: number;
  captionsPerSecond: number;
  fileBytes: number;
  fileMiB: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-bench-export-'));
  try {
    const file = join(dir, 'ws.sqlite');
    const t0 = performance.now();
    await seedWorkspace(file, dir, { images: IMAGES, files: 50, perPerson: 5, datasetName: 'Bench export' });
    const ws = openWorkspace(file);
    // Every caption accepted: the export's own selection is what is measured.
    ws.db.prepare(`UPDATE captions SET status = 'accepted'`).run();
    const captions = (ws.db.prepare(`SELECT count(*) AS n FROM captions`).get() as { n: number }).n;
    const seedSeconds = (performance.now() - t0) / 1000;
    const plan: [ExportFormat, ExportImageMode][] = [
      ['cuhk-pedes', 'reference'],
      ['icfg-pedes', 'reference'],
      ['rstpreid', 'reference'],
      ['jsonl', 'reference'],
      ['rstpreid', 'hardlink'],
      ...(values['no-copy'] ? [] : ([['rstpreid', 'copy']] as [ExportFormat, ExportImageMode][])),
    ];
    const runs: Run[] = [];
    for (const [format, images] of plan) {
      const outDir = join(dir, `out-${format}-${images}`);
      const started = performance.now();
      const { job } = startExport(ws, {
        outDir,
        format,
        images,
        splitRatios: { train: 0.8, val: 0.1, test: 0.1 },
        seed: 1,
        overwrite: false,
      });
      await ws.jobs.idle();
      const seconds = (performance.now() - started) / 1000;
      const final = ws.jobs.get(job.id);
      if (final.status !== 'done')
        throw new Error(`${format}/${images}: ${final.status} ${final.error ?? ''}`);
      const fileBytes = statSync(join(outDir, ANNOTATION_FILE[format])).size;
      if (format !== 'jsonl') JSON.parse(readFileSync(join(outDir, ANNOTATION_FILE[format]), 'utf8'));
      const run: Run = {
        format,
        images,
        captions,
        seconds: Number(seconds.toFixed(2)),
        captionsPerSecond: Math.round(captions / seconds),
        fileBytes,
        fileMiB: Number((fileBytes / 1_048_576).toFixed(1)),
      };
      runs.push(run);
      console.error(
        `${format.padEnd(11)} ${images.padEnd(9)} ${run.seconds.toFixed(2).padStart(7)} s  ${String(run.captionsPerSecond).padStart(7)} captions/s  ${run.fileMiB} MiB`,
      );
      rmSync(outDir, { recursive: true, force: true });
    }
    await ws.close();
    console.log(
      JSON.stringify(
        {
          label: 'bench-export (synthetic)',
          captions,
          seedSeconds: Number(seedSeconds.toFixed(1)),
          cpus: cpus().length,
          loadAverage: Number(loadavg()[0]!.toFixed(2)),
          peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
          runs,
        },
        null,
        2,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
