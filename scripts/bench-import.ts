// `npm run bench:import`: 10,000 synthetic crops imported as a plain folder and as RSTPReid, each in a
// fresh workspace and its own process (so peak RSS is that import's own). Target: ≥ 500 images/s.
//   --identities N --views N   world size (default 2500 × 4 = 10,000 images)
//   --dir DIR                  where the world is generated and kept between runs
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getImportSummary, startImport } from '../src/main/jobs/import';
import { generateWorld, WORLD_FILES } from '../src/main/synth/world';
import { openWorkspace } from '../src/main/workspace';

const TARGET = 500;

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      identities: { type: 'string', default: '2500' },
      views: { type: 'string', default: '4' },
      dir: { type: 'string' },
      child: { type: 'string' },
    },
  });
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
