// `npm run bench:job-scope`: what fixing a job's scope costs on a large library (synthetic rows). Queuing an
// MTG job over 100,000 images writes 100,000 job_images rows in the transaction that inserts the job; the
// job then walks its scope 256 images a page. Measured: the queue call, the scope's size on disk, the
// count a (re)start makes, and a walk of every page (the job's own queries, without the model calls).
//   --images N   rows to seed (default 100,000)
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { upsertEndpoint } from '../src/main/db/repos/llm';
import { countJobImagesToCaption, listJobImagesToCaption } from '../src/main/db/repos/mtg';
import { startMtg } from '../src/main/jobs/mtg';
import { openWorkspace } from '../src/main/workspace';
import { asDatasetId } from '#shared/ids';
import { seedWorkspace } from '../test/e2e/helpers/seed';

const { values } = parseArgs({ options: { images: { type: 'string' } } });
const IMAGES = Number(values.images ?? 100_000);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-bench-scope-'));
  try {
    const file = join(dir, 'ws.sqlite');
    const { datasetId } = await seedWorkspace(file, dir, {
      images: IMAGES,
      files: 20,
      datasetName: 'Bench scope',
    });
    const ws = openWorkspace(file, { resumeJobs: false });
    // An endpoint nobody answers on: the job is paused at once, only its scope and queries are measured.
    upsertEndpoint(ws.db, {
      name: 'nowhere',
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'none',
      role: 'both',
      temperature: 0,
      maxTokens: 16,
      concurrency: 1,
      requestsPerMinute: null,
      timeoutMs: 1000,
      keyRef: { kind: 'none' },
    });
    const pagesBefore = ws.db.pragma('page_count', { simple: true }) as number;
    let t = performance.now();
    const { job, images } = startMtg(ws, {
      datasetId: asDatasetId(datasetId),
      vqaEndpoint: 'nowhere',
      reconstructorEndpoint: 'nowhere',
      rounds: 6,
      redo: true,
    });
    const queueMs = performance.now() - t;
    await ws.jobs.pause(job.id);
    const pageSize = ws.db.pragma('page_size', { simple: true }) as number;
    const scopeMiB =
      (((ws.db.pragma('page_count', { simple: true }) as number) - pagesBefore) * pageSize) / 1_048_576;

    t = performance.now();
    const pending = countJobImagesToCaption(ws.db, job.id, true);
    const countMs = performance.now() - t;

    t = performance.now();
    let after = 0;
    let walked = 0;
    let pages = 0;
    for (;;) {
      const page = listJobImagesToCaption(ws.db, job.id, true, after, 256);
      if (page.length === 0) break;
      walked += page.length;
      pages++;
      after = page.at(-1)!.id;
    }
    const walkMs = performance.now() - t;
    await ws.jobs.cancel(job.id);
    await ws.close();
    console.log(
      JSON.stringify(
        {
          label: 'bench-job-scope (synthetic rows)',
          images,
          queueMs: Math.round(queueMs),
          scopeMiB: Number(scopeMiB.toFixed(1)),
          pending,
          countMs: Number(countMs.toFixed(1)),
          walked,
          pages,
          walkMs: Math.round(walkMs),
          perPageMs: Number((walkMs / Math.max(1, pages)).toFixed(2)),
          cpus: cpus().length,
          loadAverage: Number(loadavg()[0]!.toFixed(2)),
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
