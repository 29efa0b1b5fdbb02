// `npm run bench:search`: exact vs fast vector search (and the search service with sqlite-vec at 100k) on synthetic CLIP-like
// galleries (src/main/ml/vector-index/synthetic.ts: identities, shared attributes, a modality gap),
// seeded, so two runs see the same vectors and queries. Figures are synthetic and depend on load:
// this machine's cores are shared, so read p50 rather than the best run.
//   npx tsx scripts/bench-search.ts [--sizes 100000,1000000] [--queries 100] [--sqlite-vec-max 100000]
// With --backend memory,lancedb it compares the vector stores (src/main/vectors) instead: build time, size on
// disk, RSS, p50/p95 top-10 latency and recall@10 against exact search, with and without a filter that keeps
// 1 % of the rows (one dataset of 100), at each size:
//   npm run bench:search -- --backend memory,lancedb --sizes 1000000 [--lance-index ivf_pq,ivf_hnsw_sq]
//     [--sweep 20:10,60:40,60:0:200,400:10::0] [--folder /other/disk/bench-vectors]
// --sweep times the search once per setting nprobes:refine[:ef[:flatRows]] over the same built table (the
// defaults are lance.ts's SEARCH_KNOBS): unfiltered, or with the 1 % filter when flatRows is given (0 = the
// filtered search always goes through the ANN index); the filtered search is also timed with the defaults.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  LanceVectorStore,
  openStore,
  type VectorBackend,
  type VectorRow,
  type VectorStore,
} from '../src/main/vectors';
import type { LanceIndexKind, SearchKnobs } from '../src/main/vectors/lance';
import { openDatabase } from '../src/main/db/open';
import { type FastTopKOptions, VectorIndex, fastBudget, fastHelperReady } from '../src/main/ml/vector-index';
import { FAST_FROM, loadIndex, searchByVector } from '../src/main/search';
import { VectorCaches } from '../src/main/search/vector-caches';
import { asModelId } from '#shared/ids';
import { clipLikeGallery, clipLikeStream } from '../src/main/ml/vector-index/synthetic';

const DIM = 512;
const K = 10;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const sizes = arg('sizes', '100000,1000000').split(',').map(Number);
const queryCount = Number(arg('queries', '100'));
const sqliteVecMax = Number(arg('sqlite-vec-max', '100000'));
// Another budget to time beside the default, e.g. --alt-budget 100000,4096 (shortlist,rescore).
const altBudget = arg('alt-budget', '').split(',').filter(Boolean).map(Number);

const ms = (t0: number): number => performance.now() - t0;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const fmt = (x: number): string => x.toFixed(1).padStart(7);
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
const recallAt = (truth: number[][], got: number[][]): number => {
  let hit = 0;
  let total = 0;
  truth.forEach((t, q) => {
    const s = new Set(t);
    hit += (got[q] ?? []).filter((i) => s.has(i)).length;
    total += t.length;
  });
  return hit / total;
};

/**
 * The search service on a real workspace database (migrations, images, embeddings rows): gallery load
 * time, the per-call cache check, and the exact sqlite-vec paths (vec_distance_cosine over the stored
 * rows, and a vec0 KNN table built for the occasion) with their agreement with the JS exact top 10.
 */
function benchDatabase(vectors: Float32Array, size: number, queries: Float32Array, exact: number[][]): void {
  const { db } = openDatabase(':memory:');
  let t0 = performance.now();
  db.prepare(
    `INSERT INTO datasets (id, name, format, root, status, created_at) VALUES (1, 'bench', 'folder', '/', 'ready', 0)`,
  ).run();
  const model = asModelId(
    Number(
      db
        .prepare(
          `INSERT INTO models (name, folder, manifest, vision_sha256, text_sha256, image_height, image_width,
             context_length, embedding_dim, created_at) VALUES ('bench', '/', '{}', '', '', 224, 224, 77, ?, 0)`,
        )
        .run(DIM).lastInsertRowid,
    ),
  );
  db.exec(`CREATE VIRTUAL TABLE bench_vec USING vec0(embedding float[${DIM}] distance_metric=cosine)`);
  const insImage = db.prepare(
    `INSERT INTO images (id, dataset_id, rel_path, sha256, width, height, bytes, format, created_at)
     VALUES (?, 1, ?, '', 1, 1, 1, 'png', 0)`,
  );
  const insEmb = db.prepare(
    `INSERT INTO embeddings (model_id, image_id, vector, created_at) VALUES (?, ?, ?, 0)`,
  );
  const insVec = db.prepare('INSERT INTO bench_vec (rowid, embedding) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < size; i++) {
      // Image id = gallery position + 1, so rankings compare directly with the in-memory exact run.
      const blob = Buffer.from(vectors.buffer, vectors.byteOffset + i * DIM * 4, DIM * 4);
      insImage.run(i + 1, `${i}.png`);
      insEmb.run(model, i + 1, blob);
      insVec.run(BigInt(i + 1), blob);
    }
  })();
  console.log(
    `  workspace DB: ${size.toLocaleString('en')} images + embeddings + vec0 rows inserted in ${(ms(t0) / 1000).toFixed(1)} s`,
  );

  const caches = new VectorCaches(db);
  t0 = performance.now();
  loadIndex(caches, model);
  const load = ms(t0);
  const check: number[] = [];
  for (let r = 0; r < 20; r++) {
    t0 = performance.now();
    loadIndex(caches, model);
    check.push(ms(t0));
  }
  console.log(
    `  service: load gallery ${(load / 1000).toFixed(2)} s; cache check per call p50 ${pct(check, 50).toFixed(2)} ms`,
  );

  const knn = db.prepare('SELECT rowid - 1 FROM bench_vec WHERE embedding MATCH ? AND k = ?').pluck();
  const paths: [string, (q: Float32Array) => number[]][] = [
    [
      `service auto (${size > FAST_FROM ? 'fast' : 'exact'})`,
      (q) => searchByVector(caches, model, q, { k: K }).map((h) => h.imageId - 1),
    ],
    [
      'service sqlite (vec_distance_cos)',
      (q) => searchByVector(caches, model, q, { k: K, mode: 'sqlite' }).map((h) => h.imageId - 1),
    ],
    ['sqlite-vec vec0 KNN', (q) => knn.all(Buffer.from(q.buffer, q.byteOffset, q.byteLength), K) as number[]],
  ];
  for (const [name, run] of paths) {
    const lat: number[] = [];
    const got: number[][] = [];
    for (let q = 0; q < queryCount; q++) {
      const query = queries.subarray(q * DIM, (q + 1) * DIM);
      t0 = performance.now();
      got.push(run(query));
      lat.push(ms(t0));
    }
    console.log(
      `  ${name.padEnd(34)} p50 ${fmt(pct(lat, 50))} ms  p95 ${fmt(pct(lat, 95))} ms  recall@10 ${recallAt(exact, got).toFixed(4)}`,
    );
  }
  db.close();
}

async function benchSize(size: number): Promise<void> {
  const identities = 4000;
  let t0 = performance.now();
  const gallery = clipLikeGallery({ size, dim: DIM, identities, seed: 20240601 });
  const gen = ms(t0);
  const index = new VectorIndex(gallery.vectors, DIM);
  t0 = performance.now();
  index.prepareFast();
  const build = ms(t0);
  const { vectors: queries } = gallery.queries(queryCount, 7);
  const query = (q: number): Float32Array => queries.subarray(q * DIM, (q + 1) * DIM);
  const budget = fastBudget(size, K);
  console.log(
    `\nN = ${size.toLocaleString('en')}  D = ${DIM}  identities = ${identities}  queries = ${queryCount}  k = ${K}` +
      `\n  generate ${(gen / 1000).toFixed(1)} s, build fast codes ${(build / 1000).toFixed(2)} s` +
      ` (shortlist ${budget.shortlist}, rescore ${budget.rescore})`,
  );

  const helper = await fastHelperReady();
  if (!helper) console.log('  (no scan helper thread: the "helper" row runs on one thread)');
  // Warm the JIT on a few queries before timing either path.
  for (let q = 0; q < 3; q++) {
    index.topK(query(q), K);
    index.fastTopK(query(q), K, { parallel: false });
    index.fastTopK(query(q), K, { parallel: true });
  }
  const exact: number[][] = [];
  const exactLat: number[] = [];
  for (let q = 0; q < queryCount; q++) {
    t0 = performance.now();
    exact.push(index.topK(query(q), K).map((h) => h.index));
    exactLat.push(ms(t0));
  }
  console.log(
    `  ${'exact (JS, one thread)'.padEnd(34)} p50 ${fmt(pct(exactLat, 50))} ms  p95 ${fmt(pct(exactLat, 95))} ms`,
  );
  // One thread and with the scan helper, query by query in turn so both see the same load.
  const variants: [string, FastTopKOptions][] = [
    ['fast (1-bit codes + rescore)', { parallel: false }],
    ['fast, helper thread scans half', { parallel: true }],
  ];
  if (altBudget.length === 2)
    variants.push([
      `fast, budget ${altBudget.join('/')}`,
      { parallel: false, shortlist: altBudget[0], rescore: altBudget[1] },
    ]);
  const fast: number[][][] = variants.map(() => []);
  const fastLat: number[][] = variants.map(() => []);
  for (let q = 0; q < queryCount; q++) {
    variants.forEach(([, opts], p) => {
      t0 = performance.now();
      (fast[p] as number[][]).push(index.fastTopK(query(q), K, opts).map((h) => h.index));
      (fastLat[p] as number[]).push(ms(t0));
    });
  }
  variants.forEach(([name], p) => {
    const lat = fastLat[p] as number[];
    console.log(
      `  ${name.padEnd(34)} p50 ${fmt(pct(lat, 50))} ms  p95 ${fmt(pct(lat, 95))} ms  recall@10 ${recallAt(exact, fast[p] as number[][]).toFixed(4)}`,
    );
  });
  if (size <= sqliteVecMax) benchDatabase(gallery.vectors, size, queries, exact);
  else
    console.log(`  sqlite-vec skipped above ${sqliteVecMax.toLocaleString('en')} vectors (--sqlite-vec-max)`);
  console.log(`  peak RSS so far ${peakRssMb().toFixed(0)} MB`);
}

const duBytes = (dir: string): number => {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? duBytes(p) : statSync(p).size;
  }
  return total;
};
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;

/** Keeps the best `K` of two top lists (score, then lower image id). */
const mergeTop = (a: { id: number; score: number }[], b: { id: number; score: number }[]) =>
  [...a, ...b].sort((x, y) => y.score - x.score || x.id - y.id).slice(0, K);

/**
 * The stores side by side on one gallery: 100 datasets, so one dataset is the 1 % filter. The gallery is
 * streamed in chunks (generated again, identically, for each store) and never held whole, so the process
 * RSS printed is the store's own, and 10M × 512 (20 GB of floats) fits a 24 GB machine; the exact truth is
 * a running top 10 per query over the chunks.
 */
async function benchStores(size: number): Promise<void> {
  // At most 100k people (20 images each up to 2M, more per person beyond): the identity tables are
  // 2 × identities × 512 floats, and above 100k they would cost more memory than the store measured.
  const identities = Math.min(100_000, Math.max(100, Math.round(size / 20)));
  const stream = () => clipLikeStream({ size, dim: DIM, identities, seed: 20240601 });
  const CHUNK = 50_000;
  let t0 = performance.now();
  const { vectors: queries } = stream().queries(queryCount, 7);
  const query = (q: number): Float32Array => queries.subarray(q * DIM, (q + 1) * DIM);
  const FILTER_DATASET = 7;
  const datasetOf = (i: number): number => i % 100;
  // Exact reference (image id = position + 1) with and without the filter, over the streamed chunks.
  const best = {
    all: Array.from({ length: queryCount }, () => [] as { id: number; score: number }[]),
    filtered: Array.from({ length: queryCount }, () => [] as { id: number; score: number }[]),
  };
  for (const chunk of stream().chunks(CHUNK)) {
    const index = new VectorIndex(chunk.vectors, DIM);
    // The filter's rows (1 %) as their own small index: the filtered truth costs 1 % of a scan.
    const kept: number[] = [];
    for (let i = 0; i < chunk.identityOf.length; i++)
      if (datasetOf(chunk.start + i) === FILTER_DATASET) kept.push(i);
    const keptVectors = new Float32Array(kept.length * DIM);
    kept.forEach((i, r) => keptVectors.set(chunk.vectors.subarray(i * DIM, (i + 1) * DIM), r * DIM));
    const keptIndex = new VectorIndex(keptVectors, DIM);
    const ids = (hits: { index: number; score: number }[], rowOf = (i: number) => i) =>
      hits.map((h) => ({ id: chunk.start + rowOf(h.index) + 1, score: h.score }));
    for (let q = 0; q < queryCount; q++) {
      best.all[q] = mergeTop(best.all[q]!, ids(index.topK(query(q), K)));
      best.filtered[q] = mergeTop(
        best.filtered[q]!,
        ids(keptIndex.topK(query(q), K), (i) => kept[i]!),
      );
    }
  }
  const truth = {
    all: best.all.map((l) => l.map((h) => h.id)),
    filtered: best.filtered.map((l) => l.map((h) => h.id)),
  };
  console.log(
    `\nN = ${size.toLocaleString('en')}  D = ${DIM}  identities = ${identities}  queries = ${queryCount}  k = ${K};` +
      ` exact truth (streamed) ${(ms(t0) / 1000).toFixed(0)} s; RSS ${rssMb().toFixed(0)} MB before any store` +
      ` (the gallery, ${((size * DIM * 4) / 2 ** 20).toFixed(0)} MB of floats, is never held whole)`,
  );
  const kinds = arg('lance-index', 'ivf_pq').split(',') as LanceIndexKind[];
  const runs: [VectorBackend, LanceIndexKind | null][] = [];
  for (const b of backends) {
    if (b === 'lancedb') for (const k of kinds) runs.push([b, k]);
    else runs.push([b, null]);
  }
  for (const [backend, kind] of runs) {
    if (backend === 'memory' && size * DIM * 4 > totalmem() / 2) {
      console.log(
        `  memory: skipped, its ${((size * DIM * 4) / 2 ** 30).toFixed(0)} GB of vectors in RAM exceed half of this machine's ${(totalmem() / 2 ** 30).toFixed(0)} GB`,
      );
      continue;
    }
    const base = arg('folder', '') || tmpdir();
    const folder = mkdtempSync(join(base, 'bench-vectors-'));
    const rss0 = rssMb();
    t0 = performance.now();
    const store: VectorStore = await openStore({
      backend,
      identity: { modelKey: 'bench#0', dim: DIM },
      folder,
      table: 'bench',
      ...(kind ? { index: kind } : {}),
    });
    for (const chunk of stream().chunks(CHUNK)) {
      const rows: VectorRow[] = [];
      for (let r = 0; r < chunk.identityOf.length; r++) {
        const i = chunk.start + r;
        rows.push({
          imageId: i + 1,
          view: 0,
          datasetId: datasetOf(i),
          camera: `cam${i % 50}`,
          time: 1_700_000_000_000 + i * 100,
          split: null,
          vector: chunk.vectors.subarray(r * DIM, (r + 1) * DIM),
        });
      }
      if (store instanceof LanceVectorStore) await store.append(rows);
      else await store.upsert(rows);
    }
    const loaded = ms(t0);
    await store.finish();
    const build = ms(t0);
    const disk = backend === 'lancedb' ? duBytes(folder) : 0;
    const name = backend === 'lancedb' ? `lancedb ${kind}` : 'memory (VectorIndex fast path)';
    console.log(
      `  ${name}: build ${(build / 1000).toFixed(1)} s (load ${(loaded / 1000).toFixed(1)} s, index ${((build - loaded) / 1000).toFixed(1)} s),` +
        ` disk ${(disk / 2 ** 20).toFixed(0)} MB, RSS +${(rssMb() - rss0).toFixed(0)} MB after build`,
    );
    const sweep: (SearchKnobs | null)[] =
      store instanceof LanceVectorStore && arg('sweep', '')
        ? arg('sweep', '')
            .split(',')
            .map((s) => {
              const [nprobes, refineFactor, ef, flatRows] = s
                .split(':')
                .map((x) => (x ? Number(x) : undefined));
              return {
                nprobes,
                refineFactor,
                ...(ef === undefined ? {} : { ef }),
                ...(flatRows === undefined ? {} : { flatRows, filteredNprobes: nprobes }),
              };
            })
        : [null];
    const timings: [string, boolean, SearchKnobs | null][] = [
      ...sweep.map((knobs): [string, boolean, SearchKnobs | null] => [
        knobs ? `top-10${knobs.flatRows === undefined ? '' : ', 1 % filter'} ${knobsLabel(knobs)}` : 'top-10',
        knobs?.flatRows !== undefined,
        knobs,
      ]),
      ['top-10, 1 % filter', true, null],
    ];
    for (const [label, filtered, knobs] of timings) {
      if (store instanceof LanceVectorStore) store.tune(knobs ?? {});
      const filter = filtered ? { datasetIds: [FILTER_DATASET] } : undefined;
      for (let q = 0; q < 3; q++) await store.search(query(q), K, { filter }); // warm
      const got: number[][] = [];
      const lat: number[] = [];
      for (let q = 0; q < queryCount; q++) {
        const t = performance.now();
        got.push((await store.search(query(q), K, { filter })).map((h) => h.imageId));
        lat.push(ms(t));
      }
      console.log(
        `    ${label.padEnd(36)} p50 ${fmt(pct(lat, 50))} ms  p95 ${fmt(pct(lat, 95))} ms  recall@10 ${recallAt(filtered ? truth.filtered : truth.all, got).toFixed(4)}` +
          `  RSS ${rssMb().toFixed(0)} MB (process)`,
      );
    }
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
  console.log(`  peak RSS ${peakRssMb().toFixed(0)} MB; load ${load()}`);
}

const knobsLabel = (k: SearchKnobs): string =>
  `nprobes ${k.nprobes} refine ${k.refineFactor}${k.ef === undefined ? '' : ` ef ${k.ef}`}` +
  (k.flatRows === undefined ? '' : ` flat ≤ ${k.flatRows}`);

// Other processes on a shared machine slow every figure; the load average says how much.
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
console.log(
  `Vector search benchmark — synthetic CLIP-like vectors, seeded; ${cpus().length} cores, load ${load()}`,
);
const started = performance.now();
const backends = arg('backend', '').split(',').filter(Boolean) as VectorBackend[];
void (async () => {
  for (const size of sizes) await (backends.length ? benchStores(size) : benchSize(size));
  console.log(`\ntotal ${(ms(started) / 1000).toFixed(0)} s; load ${load()}`);
})();
