// `npm run bench:import`: 10,000 synthetic crops imported as a plain folder and as RSTPReid, each in a
// fresh workspace and its own process (so peak RSS is that import's own). Target: ≥ 500 images/s.
//   --identities N --views N   world size (default 2500 × 4 = 10,000 images)
//   --dir DIR                  where the world is generated and kept between runs
// `npm run bench:import -- --layout luperson --images 1000000`: a LUPerson-style tree of tiny synthetic
// JPEGs (unique bytes each; 200 per video folder, 50 videos per collection) imported as a re-ID layout —
// the streaming walk with its cursor. Reports throughput and peak RSS, and RSS at each tenth of the run, so
// memory can be seen to stay flat in the number of files. Target: ≥ 1,000 images/s.
//   --layout luperson --images N [--dir DIR]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { getImportSummary, startImport } from '../src/main/jobs/import';
import { generateWorld, WORLD_FILES } from '../src/main/synth/world';
import { openWorkspace } from '../src/main/workspace';

const TARGET = 500;
const LAYOUT_TARGET = 1000;
const PER_VIDEO = 200;
const VIDEOS_PER_COLLECTION = 50;

interface Result {
  mode: 'folder' | 'rstpreid';
  images: number;
  seconds: number;
  imagesPerSecond: number;
  peakRssMiB: number;
  /** Images per CPU-second of this process (main thread + libuv pool): less sensitive to a busy machine. */
  imagesPerCpuSecond: number;
  loadAverage: number;
  imported: number;
  duplicates: number;
  failed: number;
  captions: number;
}

/** Child: one import into a fresh workspace; prints its Result as JSON on stdout. */
async function child(mode: Result['mode'], worldDir: string): Promise<void> {
  const wsDir = mkdtempSync(join(tmpdir(), 'ctgi-bench-'));
  const ws = openWorkspace(join(wsDir, 'ws.sqlite'));
  try {
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    const { job } = await startImport(ws, {
      imageRoot: join(worldDir, 'imgs'),
      ...(mode === 'rstpreid' ? { annotationFile: join(worldDir, WORLD_FILES.rstpreid) } : {}),
      name: `bench ${mode}`,
    });
    await ws.jobs.idle();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const final = ws.jobs.get(job.id);
    if (final.status !== 'done') throw new Error(`import ${final.status}: ${final.error ?? ''}`);
    const s = getImportSummary(ws.db, job.id);
    if (!s) throw new Error('no import summary');
    const result: Result = {
      mode,
      images: final.total ?? 0,
      seconds: Number(seconds.toFixed(2)),
      imagesPerSecond: Math.round((final.total ?? 0) / seconds),
      // maxRSS is in KiB on Linux.
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      imagesPerCpuSecond: Math.round((final.total ?? 0) / ((cpu.user + cpu.system) / 1e6)),
      loadAverage: Number(loadavg()[0]?.toFixed(1) ?? 0),
      imported: s.imported,
      duplicates: s.duplicates,
      failed: s.failed,
      captions: s.captions,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await ws.close();
    rmSync(wsDir, { recursive: true, force: true });
  }
}

function runChild(mode: Result['mode'], worldDir: string): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] ?? '', '--child', mode, '--dir', worldDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} import exited with ${code}`));
      resolvePromise(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Result);
    });
  });
}

interface LayoutResult {
  layout: string;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  peakRssMiB: number;
  /** RSS (MiB) when each tenth of the images was done: flat means memory does not grow with the files. */
  rssByTenth: number[];
  imagesPerCpuSecond: number;
  bytes: number;
  loadavgBefore: string;
  loadavgAfter: string;
  imported: number;
  duplicates: number;
  failed: number;
}

const procLoadavg = (): string => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  }
};

/** Where image i lives in the tree: collection/video/frame. */
const treePath = (i: number): string => {
  const video = Math.floor(i / PER_VIDEO);
  const collection = Math.floor(video / VIDEOS_PER_COLLECTION);
  return `c${String(collection).padStart(4, '0')}/v${String(video).padStart(6, '0')}/${String(i).padStart(8, '0')}.jpg`;
};

/**
 * Writes `n` tiny JPEGs in the LUPerson-style tree (kept between runs: a `.complete` file names the count).
 * One real 8×16 JPEG, its bytes made unique per file by a COM segment holding the index right after SOI.
 */
async function writeLupersonTree(dir: string, n: number): Promise<void> {
  const marker = join(dir, '.complete');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === String(n)) {
    console.log(`Reusing the ${n}-image LUPerson-style tree in ${dir}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`Writing ${n} tiny synthetic JPEGs in a LUPerson-style tree in ${dir}…`);
  const t = performance.now();
  const px = Buffer.alloc(8 * 16 * 3);
  for (let k = 0; k < px.length; k++) px[k] = (k * 37) & 0xff;
  const jpeg = await sharp(px, { raw: { width: 8, height: 16, channels: 3 } })
    .jpeg()
    .toBuffer();
  const { mkdir, writeFile } = await import('node:fs/promises');
  let next = 0;
  const folders = new Map<string, Promise<unknown>>();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const rel = treePath(i);
      const folder = join(dir, rel, '..');
      let made = folders.get(folder);
      if (!made) folders.set(folder, (made = mkdir(folder, { recursive: true })));
      await made;
      if (i % PER_VIDEO === PER_VIDEO - 1) folders.delete(folder);
      const comment = Buffer.from(`ctgi-bench ${i}`);
      const com = Buffer.alloc(4);
      com.writeUInt16BE(0xfffe, 0);
      com.writeUInt16BE(comment.length + 2, 2);
      await writeFile(join(dir, rel), Buffer.concat([jpeg.subarray(0, 2), com, comment, jpeg.subarray(2)]));
      if (i > 0 && i % 100_000 === 0) console.log(`  ${i} written`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  writeFileSync(marker, `${n}\n`);
  console.log(`  written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Child: one layout import into a fresh workspace; prints its LayoutResult as JSON on stdout. */
async function layoutChild(layout: string, treeDir: string): Promise<void> {
  const wsDir = mkdtempSync(join(tmpdir(), 'ctgi-bench-'));
  const ws = openWorkspace(join(wsDir, 'ws.sqlite'));
  try {
    const loadavgBefore = procLoadavg();
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    const { job } = await startImport(ws, {
      imageRoot: treeDir,
      layout: layout as 'luperson',
      name: `bench ${layout}`,
    });
    const samples: { done: number; rss: number }[] = [];
    const timer = setInterval(() => {
      samples.push({ done: ws.jobs.get(job.id).done, rss: process.memoryUsage().rss });
    }, 500);
    await ws.jobs.idle();
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const final = ws.jobs.get(job.id);
    if (final.status !== 'done') throw new Error(`import ${final.status}: ${final.error ?? ''}`);
    const s = getImportSummary(ws.db, job.id);
    if (!s) throw new Error('no import summary');
    const total = final.total ?? 0;
    const rssByTenth = Array.from({ length: 10 }, (_, k) => {
      const at = ((k + 1) * total) / 10;
      const hit = samples.find((x) => x.done >= at) ?? samples.at(-1);
      return Math.round((hit?.rss ?? process.memoryUsage().rss) / 2 ** 20);
    });
    const result: LayoutResult = {
      layout,
      images: total,
      seconds: Number(seconds.toFixed(1)),
      imagesPerSecond: Math.round(total / seconds),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      rssByTenth,
      imagesPerCpuSecond: Math.round(total / ((cpu.user + cpu.system) / 1e6)),
      bytes: s.bytes ?? 0,
      loadavgBefore,
      loadavgAfter: procLoadavg(),
      imported: s.imported,
      duplicates: s.duplicates,
      failed: s.failed,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await ws.close();
    rmSync(wsDir, { recursive: true, force: true });
  }
}

async function layoutBench(layout: string, images: number, dirOption: string | undefined): Promise<void> {
  if (layout !== 'luperson') {
    throw new Error(
      `--layout ${layout}: the bench writes LUPerson-style trees only (the layout made for millions of files).`,
    );
  }
  if (!Number.isInteger(images) || images < 1) throw new Error('--images takes a whole number above 0.');
  const treeDir = resolve(dirOption ?? join('bench-results', `luperson-${images}`));
  await writeLupersonTree(treeDir, images);
  const r = await new Promise<LayoutResult>((resolvePromise, reject) => {
    const p = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] ?? '', '--child', `layout:${layout}`, '--dir', treeDir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${layout} import exited with ${code}`));
      resolvePromise(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LayoutResult);
    });
  });
  const verdict = r.imagesPerSecond >= LAYOUT_TARGET ? 'meets' : 'BELOW';
  console.log(
    `${layout}: ${r.images} images (${(r.bytes / 2 ** 20).toFixed(0)} MiB) in ${r.seconds} s = ${r.imagesPerSecond} images/s ` +
      `(${verdict} the ${LAYOUT_TARGET}/s target), ${r.imagesPerCpuSecond} images per CPU-second, peak RSS ${r.peakRssMiB} MiB; ` +
      `RSS by tenth of the run (MiB): ${r.rssByTenth.join(' ')}; ${r.imported} imported, ${r.duplicates} duplicates, ${r.failed} skipped`,
  );
  console.log(`/proc/loadavg before: ${r.loadavgBefore}; after: ${r.loadavgAfter}; ${cpus().length} cores`);
  mkdirSync('bench-results', { recursive: true });
  const file = join('bench-results', `import-${layout}-${images}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), synthetic: true, ...r }, null, 2)}\n`,
  );
  console.log(`(synthetic tiny JPEGs, files in the page cache where they fit; written to ${file})`);
  if (r.imagesPerSecond < LAYOUT_TARGET) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      identities: { type: 'string', default: '2500' },
      views: { type: 'string', default: '4' },
      dir: { type: 'string' },
      child: { type: 'string' },
      layout: { type: 'string' },
      images: { type: 'string', default: '1000000' },
    },
  });
  if (values.child?.startsWith('layout:')) return layoutChild(values.child.slice(7), resolve(values.dir!));
  if (values.layout !== undefined) return layoutBench(values.layout, Number(values.images), values.dir);
  const identities = Number(values.identities);
  const views = Number(values.views);
  const worldDir = resolve(values.dir ?? join('bench-results', `world-${identities}x${views}`));
  if (values.child === 'folder' || values.child === 'rstpreid') return child(values.child, worldDir);

  const marker = join(worldDir, WORLD_FILES.rstpreid);
  if (
    existsSync(marker) &&
    (JSON.parse(readFileSync(marker, 'utf8')) as unknown[]).length === identities * views
  ) {
    console.log(`Reusing the synthetic world in ${worldDir}`);
  } else {
    console.log(
      `Generating ${identities * views} synthetic crops (${identities} identities × ${views} views) in ${worldDir}…`,
    );
    const t = performance.now();
    await generateWorld({ outDir: worldDir, identities, views, seed: 42, overwrite: true });
    console.log(`  generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  const results: Result[] = [];
  for (const mode of ['folder', 'rstpreid'] as const) {
    const r = await runChild(mode, worldDir);
    results.push(r);
    const verdict = r.imagesPerSecond >= TARGET ? 'meets' : 'BELOW';
    console.log(
      `${mode.padEnd(8)} ${r.images} images in ${r.seconds} s = ${r.imagesPerSecond} images/s (${verdict} the ${TARGET}/s target), ` +
        `peak RSS ${r.peakRssMiB} MiB, ${r.imagesPerCpuSecond} images per CPU-second, load average ${r.loadAverage} ` +
        `on ${cpus().length} cores; ${r.imported} imported, ${r.duplicates} duplicates, ${r.failed} skipped, ${r.captions} captions`,
    );
  }
  mkdirSync('bench-results', { recursive: true });
  const file = join('bench-results', 'import.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), synthetic: true, results }, null, 2)}\n`,
  );
  console.log(`(synthetic crops, files in the page cache; written to ${file})`);
  if (results.some((r) => r.imagesPerSecond < TARGET)) process.exitCode = 1;
}

await main();
