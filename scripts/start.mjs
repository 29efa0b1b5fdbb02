#!/usr/bin/env node
// `npm start`: the desktop app where Electron can run; otherwise the same UI from the headless server,
// on a demo workspace, with one line saying why. Works from a fresh clone after `npm ci`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = join(root, 'node_modules', 'electron');
const electronVite = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');

/**
 * Why Electron cannot run here, or null when it can. Only looks at files: requiring 'electron' would
 * start its lazy binary download, which fails (slowly) on machines without internet.
 */
function electronBlocker() {
  if (process.env.CTGI_HEADLESS === '1') return 'CTGI_HEADLESS=1 is set';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  }
  const pathFile = join(electronDir, 'path.txt');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (!existsSync(pathFile) && !override)
    return 'the Electron binary is not downloaded (node_modules/electron/path.txt is missing)';
  const exe = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const full = join(override ?? join(electronDir, 'dist'), exe);
  if (!existsSync(full)) return `the Electron binary is missing (${full})`;
  return null;
}

/** Runs a child with this terminal; our own SIGTERM is passed on, Ctrl+C reaches it through the tty. */
function run(args, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...extraEnv },
    });
    const forward = (signal) => child.kill(signal);
    const ignore = () => {};
    process.on('SIGTERM', forward);
    process.on('SIGINT', ignore);
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', ignore);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 143));
    });
  });
}

// `npm start -- --port 8080` etc. are options of `ctgi serve`; the desktop app takes none.
const extra = process.argv.slice(2);
const blocker = electronBlocker();
if (blocker === null) {
  if (extra.length > 0)
    console.log(
      `The desktop app ignores ${extra.join(' ')} (they are options of ctgi serve; CTGI_HEADLESS=1 npm start uses them).`,
    );
  process.exitCode = await run([electronVite, 'preview']);
} else {
  console.log(`Starting the headless server instead of the desktop app: ${blocker}.`);
  if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) {
    console.log('Building the web interface first (npx electron-vite build)…');
    const build = spawnSync(process.execPath, [electronVite, 'build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) {
      console.error('The build failed (see above); fix it, or run `npm run build` to retry.');
      process.exit(build.status ?? 1);
    }
  }
  const workspace = join('.ctgi', 'demo.sqlite');
  process.exitCode = await run([
    join(root, 'bin', 'ctgi.mjs'),
    'serve',
    '--demo',
    '--workspace',
    workspace,
    ...extra,
  ]);
}
