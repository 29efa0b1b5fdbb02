#!/usr/bin/env node
// `npm start`: the desktop app where there is a display; otherwise the same UI from the headless server,
// on a demo workspace, with one line saying why. Works from a fresh clone after `npm ci`.
//
// The desktop path, in order:
//  1. the Electron binary: electron ≥ 42 has no install script and fetches its binary on first use, so
//     after `npm ci` it is usually missing. It is fetched here with Electron's own installer
//     (node_modules/electron/install.js: @electron/get, checksums from the package, cached per user); if
//     that fails (offline), the headless server starts instead and says why;
//  2. better-sqlite3 built for Electron's module ABI, beside the Node build (scripts/electron-native.mjs);
//  3. `out/` built when missing or older than the sources;
//  4. Electron started on this folder, the path of that better-sqlite3 build in CTGI_SQLITE_BINDING.
// Whichever child runs (Electron or `ctgi serve`) gets SIGINT, SIGTERM and SIGHUP passed on, and this
// script exits with its status.
//
// Environment: CTGI_HEADLESS=1 forces the server. ELECTRON_OVERRIDE_DIST_PATH (Electron's own variable) names
// a folder holding the Electron executable to use instead of the downloaded one; ELECTRON_MIRROR and
// electron_config_cache are read by Electron's installer. CTGI_ELECTRON_PACKAGE (default node_modules/electron)
// and CTGI_ELECTRON_NATIVE_DIR (default .electron-native) move the electron package and the native builds,
// and CTGI_ELECTRON_REBUILD replaces the native rebuild: test/integration/start.test.ts uses them to run all
// of this against a stand-in Electron, since no Electron binary can run on the build machines.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build-if-stale.mjs';
import { BuildError, ensureElectronBinding } from './electron-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = process.env.CTGI_ELECTRON_PACKAGE ?? join(root, 'node_modules', 'electron');

function hasDisplay() {
  // macOS and Windows always have a desktop session for a user who runs npm start; Linux servers often not.
  return process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** The executable node_modules/electron would start, found the way its index.js finds it, minus the download. */
function electronExecutable() {
  const pathFile = join(electronDir, 'path.txt');
  const recorded = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) return join(override, recorded || 'electron');
  const exe =
    recorded ||
    { darwin: 'Electron.app/Contents/MacOS/Electron', win32: 'electron.exe' }[process.platform] ||
    'electron';
  return join(electronDir, 'dist', exe);
}

/** Where @electron/get keeps downloads (its env-paths default), for the progress line. */
function electronCacheDir() {
  if (process.env.electron_config_cache) return process.env.electron_config_cache;
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'electron');
  if (process.platform === 'win32')
    return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'electron', 'Cache');
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'electron');
}

/** Runs Electron's installer; resolves null when the binary is there afterwards, else the reason. */
async function installElectron(exe) {
  const version = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
  console.log(
    `Downloading Electron ${version} for ${process.platform}-${process.arch} with Electron's installer ` +
      `(once; about 100 MB, kept in ${electronCacheDir()})…`,
  );
  const started = Date.now();
  const child = spawn(process.execPath, [join(electronDir, 'install.js')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    process.stderr.write(chunk);
  });
  // The installer draws its own progress bar only after 30 s, and only on a terminal: until then, a line
  // every 10 s says it is still working.
  const ticker = setInterval(() => {
    const s = Math.round((Date.now() - started) / 1000);
    if (s <= 30 || !process.stderr.isTTY) console.log(`  still downloading Electron (${s} s)…`);
  }, 10_000);
  const status = await new Promise((resolve) => {
    child.on('error', (err) => resolve(err.message));
    child.on('exit', (code) => resolve(code));
  });
  clearInterval(ticker);
  if (status === 0 && existsSync(exe)) {
    console.log(`Electron ${version} is installed (${exe}).`);
    return null;
  }
  const lines = stderr.split('\n').map((l) => l.trim());
  const reason =
    typeof status === 'string'
      ? status
      : (lines.find((l) =>
          /^\w*Error\b|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|fetch failed|Response code/.test(l),
        ) ??
        lines.find(Boolean) ??
        `the installer exited with status ${status}`);
  return (
    `the Electron download failed (${reason}). Check the internet connection (a proxy goes in HTTPS_PROXY, ` +
    `a mirror in ELECTRON_MIRROR) and run npm start again`
  );
}

/**
 * What the desktop app needs ({exe, binding}), fetching or building what is missing; or why it cannot start
 * here ({reason}).
 */
async function desktopBlocker() {
  if (process.env.CTGI_HEADLESS === '1') return { reason: 'CTGI_HEADLESS=1 is set' };
  if (!hasDisplay()) return { reason: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  const exe = electronExecutable();
  if (!existsSync(exe)) {
    if (process.env.ELECTRON_OVERRIDE_DIST_PATH)
      return { reason: `ELECTRON_OVERRIDE_DIST_PATH is set, but there is no Electron executable at ${exe}` };
    const failed = await installElectron(exe);
    if (failed) return { reason: failed };
  }
  try {
    const binding = ensureElectronBinding({ log: (line) => console.log(line) });
    return { exe, binding };
  } catch (err) {
    if (err instanceof BuildError) return { reason: err.message.replace(/\.$/, '') };
    throw err;
  }
}

/**
 * Runs the app or the server and passes signals on. On POSIX the child gets its own process group, so
 * that a terminal's Ctrl+C reaches it once, from here (twice would mean "stop now, don't wait for jobs"
 * to ctgi serve). npm runs this script through `sh -c`; when npm is sent SIGTERM it signals that shell,
 * which dies without passing the signal on, so a parent that goes away counts as SIGTERM too.
 */
function run(command, args, env) {
  return new Promise((resolve) => {
    const posix = process.platform !== 'win32';
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env, detached: posix });
    let forwarded = false;
    const forward = (signal) => {
      forwarded = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    // On Windows the console delivers Ctrl+C to the child itself; passing it on would kill it outright.
    const signals = posix ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : ['SIGTERM'];
    if (!posix) process.on('SIGINT', () => {});
    for (const s of signals) process.on(s, forward);
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid !== parent && !forwarded) forward('SIGTERM');
    }, 500);
    const done = (status) => {
      clearInterval(watch);
      for (const s of signals) process.off(s, forward);
      resolve(status);
    };
    child.on('error', (err) => {
      console.error(`Could not start ${command}: ${err.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

// `npm start -- --port 8080` etc. are options of `ctgi serve`; the desktop app takes only --smoke.
// `npm run dev` is `start.mjs --dev`: the same checks, then electron-vite's dev server with hot reload.
const dev = process.argv.includes('--dev');
const extra = process.argv.slice(2).filter((a) => a !== '--dev');
const desktop = await desktopBlocker();
if (desktop.exe) {
  const ignored = extra.filter((a) => a !== '--smoke');
  if (ignored.length > 0)
    console.log(
      `The desktop app ignores ${ignored.join(' ')} (options of ctgi serve; CTGI_HEADLESS=1 npm start uses them).`,
    );
  const env = { ...process.env, CTGI_SQLITE_BINDING: desktop.binding };
  // Set in a parent shell it would make Electron a plain Node and the app would not start.
  delete env.ELECTRON_RUN_AS_NODE;
  if (dev) {
    // electron-vite starts Electron itself; ELECTRON_EXEC_PATH makes it the one found (or fetched) above.
    const electronVite = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
    env.ELECTRON_EXEC_PATH = desktop.exe;
    process.exitCode = await run(process.execPath, [electronVite, 'dev'], env);
  } else {
    ensureBuilt(root);
    process.exitCode = await run(desktop.exe, [root, ...extra.filter((a) => a === '--smoke')], env);
  }
} else if (dev) {
  console.error(`npm run dev needs the desktop app, and it cannot start here: ${desktop.reason}.`);
  process.exitCode = 1;
} else {
  console.log(`Starting the headless server instead of the desktop app: ${desktop.reason}.`);
  ensureBuilt(root);
  const workspace = join('.ctgi', 'demo.sqlite');
  process.exitCode = await run(
    process.execPath,
    [join(root, 'bin', 'ctgi.mjs'), 'serve', '--demo', '--workspace', workspace, ...extra],
    process.env,
  );
}
