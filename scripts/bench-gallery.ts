// `npm run bench:gallery`: a model's gallery loaded from a workspace file and searched, on the thread that
// serves requests (before: inline) and through the workspace's gallery worker (after: search/gallery-thread.ts),
// with how long that thread was held: the event loop's largest delay (perf_hooks.monitorEventLoopDelay) and
// how many cheap requests (the jobs list, one every 10 ms) were answered while the work ran.
// Synthetic CLIP-like vectors, seeded. Figures depend on load (shared cores): the load average is printed.
//   npx tsx scripts/bench-gallery.ts [--sizes 1000000] [--dim 512] [--queries 10] [--keep]
// Each side runs in a process of its own over the same workspace file (written once per size).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { listJobRows } from '../src/main/db/repos/jobs';
import type { ReadableDb, WritableDb } from '../src/main/db/types';
import { clipLikeGallery } from '../src/main/ml/vector-index/synthetic';
import { loadIndexAsync, type SearchMode } from '../src/main/search';
import { GalleryThread } from '../src/main/search/gallery-thread';
import { searchRanked } from '../src/main/search/store-search';
import { VectorCaches } from '../src/main/search/vector-caches';
import { openWorkspace } from '../src/main/workspace';
import { asModelId, type ModelId } from '#shared/ids';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const sizes = arg('sizes', '1000000').split(',').map(Number);
const dim = Number(arg('dim', '512'));
const queryCount = Number(arg('queries', '10'));
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fill(db: WritableDb, size: number): { modelId: ModelId; queries: Float32Array } {
  const g = clipLikeGallery({ size, dim, identities: 4000, seed: 20240601 });
  const modelId = asModelId(
    Number(
      db
        .prepare(
          `INSERT INTO models (name, folder, manifest, vision_sha256, text_sha256, image_height, image_width,
             context_length, embedding_dim, created_at) VALUES ('bench', '/m', '{}', 'v', 't', 224, 224, 77, ?, 0)`,
        )
        .run(dim).lastInsertRowid,
    ),
  );
  db.prepare(
    `INSERT INTO datasets (id, name, format, root, status, created_at) VALUES (1, 'bench', 'folder', '/d', 'ready', 0)`,
  ).run();
  const img = db.prepare(
    `INSERT INTO images (dataset_id, rel_path, sha256, width, height, bytes, format, created_at)
     VALUES (1, ?, 'x', 64, 128, 1, 'png', 0)`,
  );
  const emb = db.prepare(
    `INSERT INTO embeddings (model_id, image_id, vector, created_at) VALUES (?, ?, ?, 0)`,
  );
  const chunk = 50_000;
  for (let start = 0; start < size; start += chunk)
    db.transaction(() => {
      for (let i = start; i < Math.min(size, start + chunk); i++) {
        const id = Number(img.run(`${i}.png`).lastInsertRowid);
        const v = g.vectors.subarray(i * dim, (i + 1) * dim);
        emb.run(modelId, id, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      }
    })();
  return { modelId, queries: g.queries(queryCount, 7).vectors };
}

interface Held {
  ms: number;
  maxDelayMs: number;
  answered: number;
}

/**
 * Runs `work` while a cheap request (the jobs list, `jobs:list`) arrives every 10 ms, as a window's polling
 * would, and counts those answered before the work was done. (library:stats and datasets:list are no cheap
 * requests at a million images: they count the images, ~0.3 s and ~20 ms there, and would measure themselves.)
 */
async function held<T>(reader: ReadableDb, work: () => Promise<T>): Promise<Held & { value: T }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  let answered = 0;
  let running = false;
  const requests = setInterval(() => {
    listJobRows(reader, 50);
    if (running) answered++;
  }, 10);
  // No reset() after this: the first delay after a reset is not recorded, and that would be the block.
  h.enable();
  await sleep(20);
  running = true;
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  running = false;
  // The histogram's timer fires after the loop is free again: a block is recorded only then.
  await sleep(20);
  clearInterval(requests);
  h.disable();
  return { value, ms, maxDelayMs: h.max / 1e6, answered };
}

const row = (what: string, r: Held): string =>
  `  ${what.padEnd(34)} ${r.ms.toFixed(0).padStart(7)} ms   max event-loop delay ${r.maxDelayMs.toFixed(0).padStart(6)} ms   requests answered meanwhile ${String(r.answered).padStart(6)}`;

/** One side (inline or worker) over a bench workspace, in a process of its own (see below). */
async function benchSide(file: string, where: 'inline' | 'worker'): Promise<void> {
  const ws = openWorkspace(file, { resumeJobs: false });
  const modelId = asModelId(1);
  const queries = new Float32Array(readFileSync(`${file}.queries`).buffer.slice(0));
  const q = (i: number): Float32Array => queries.subarray(i * dim, (i + 1) * dim);
  console.log(` ${where === 'inline' ? 'inline (before)' : 'worker (after)'}:`);
  // What the machine's other work alone does to the event loop (shared cores): the floor of every row.
  console.log(row('idle, 1 s (noise floor)', await held(ws.reader, () => sleep(1000))));
  const caches = new VectorCaches(ws.reader, {
    // The worker at every size here (the workspace uses it from OFF_THREAD_FROM rows).
    ...(where === 'worker' ? { thread: new GalleryThread(), offThreadFrom: 0 } : { thread: null }),
  });
  if (caches.thread) {
    // The worker starts on first use (a thread, and tsx compiling it when run from source): once, apart.
    console.log(
      row('first load (starts the worker)', await held(ws.reader, () => loadIndexAsync(caches, modelId))),
    );
    caches.invalidate();
  }
  console.log(row('gallery load', await held(ws.reader, () => loadIndexAsync(caches, modelId))));
  for (const mode of ['exact', 'fast'] as SearchMode[]) {
    const first = await held(ws.reader, () => searchRanked(caches, modelId, q(0), { k: 10, mode }));
    console.log(row(`${mode} search, first`, first));
    const runs: Held[] = [];
    for (let i = 1; i < queryCount; i++)
      runs.push(await held(ws.reader, () => searchRanked(caches, modelId, q(i), { k: 10, mode })));
    runs.sort((a, b) => a.ms - b.ms);
    const mid = runs[runs.length >> 1]!;
    console.log(
      row(`${mode} search, median of ${runs.length}`, {
        ms: mid.ms,
        maxDelayMs: Math.max(...runs.map((r) => r.maxDelayMs)),
        answered: runs.reduce((s, r) => s + r.answered, 0),
      }),
    );
  }
  await caches.close();
  await ws.close();
}

/**
 * Writes the bench workspace once, then measures each side in a child process of its own: a side that
 * ran first would leave gigabytes of gallery (and the page cache it pushed out) to the side after it.
 */
function benchSize(size: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-bench-gallery-'));
  try {
    const file = join(dir, 'bench.sqlite');
    const ws = openWorkspace(file, { resumeJobs: false });
    const t0 = performance.now();
    const { queries } = fill(ws.db, size);
    ws.db.pragma('wal_checkpoint(TRUNCATE)');
    writeFileSync(`${file}.queries`, new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
    void ws.close();
    console.log(
      `\nN = ${size.toLocaleString('en')}  D = ${dim}  (workspace ${(statSync(file).size / 2 ** 30).toFixed(2)} GB, written in ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
    for (const side of ['inline', 'worker'])
      spawnSync(
        process.execPath,
        [
          ...process.execArgv,
          fileURLToPath(import.meta.url),
          '--side',
          side,
          '--workspace',
          file,
          '--dim',
          String(dim),
          '--queries',
          String(queryCount),
        ],
        { stdio: 'inherit' },
      );
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

const side = arg('side', '');
if (side === 'inline' || side === 'worker') {
  void benchSide(arg('workspace', ''), side);
} else {
  console.log(`Gallery load and search, inline vs gallery worker — ${cpus().length} cores, load ${load()}`);
  for (const size of sizes) benchSize(size);
  console.log(`\nload ${load()}`);
}
