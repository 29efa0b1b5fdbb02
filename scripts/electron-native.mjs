#!/usr/bin/env node
// better-sqlite3 for Electron, beside the Node build. The CLI, the server and the tests load
// node_modules/better-sqlite3 as `npm ci` built it (Node's module ABI); Electron runs its own Node with
// its own ABI (node_modules/electron/abi_version), so the desktop app needs a second build. Rebuilding
// node_modules in place would break the first, so the Electron build goes into
// .electron-native/<key>/better_sqlite3.node, and the desktop main process passes that file to
// better-sqlite3 as `nativeBinding`. The key names both versions, so a new Electron or a new better-sqlite3
// gets its own build and an old one is never loaded by mistake. (onnxruntime-node and sharp use N-API and
// load in both runtimes as they are.)
//
//   node scripts/electron-native.mjs [--platform P] [--arch A] [--check]
//
// prints the binding's path on the last line of stdout (building it first when missing; --check only
// looks). Exit 1 with the reason and what to do when it cannot be built.
//
// How it builds: @electron/rebuild 3.x (4.x needs Node 22) on a copy of the better-sqlite3 package, first
// asking prebuild-install for a prebuilt Electron binary (GitHub), else compiling it with node-gyp against
// Electron's headers (electronjs.org; needs a C++ toolchain). Both need the internet, once per version.
// CTGI_ELECTRON_REBUILD names a command run instead of @electron/rebuild (the tests' stand-in): it gets
// the staging package folder as its argument, the versions in its environment, and must leave
// build/Release/better_sqlite3.node there.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

export const BINDING_FILE = 'better_sqlite3.node';

/** The versions the build is for; read from the installed packages, never guessed. */
export function nativeKey(platform = process.platform, arch = process.arch) {
  const electron = require('electron/package.json').version;
  const sqlite = require('better-sqlite3/package.json').version;
  return {
    electron,
    sqlite,
    platform,
    arch,
    key: `better-sqlite3-${sqlite}-electron-${electron}-${platform}-${arch}`,
  };
}

/** Where the Electron build of better-sqlite3 for `platform`/`arch` lives (whether or not it exists). */
export function electronBindingPath(platform = process.platform, arch = process.arch) {
  return join(nativeRoot(), nativeKey(platform, arch).key, BINDING_FILE);
}

/** `.electron-native` in the checkout; CTGI_ELECTRON_NATIVE_DIR moves it (the tests use a temporary folder). */
function nativeRoot() {
  return process.env.CTGI_ELECTRON_NATIVE_DIR ?? join(root, '.electron-native');
}

/** The build failed for a reason the user can act on; the message says what to do. */
export class BuildError extends Error {}

/** The line of a failed build's output that says most about why. */
function failureReason(result) {
  if (result.error) return result.error.message;
  const lines = (result.stderr || '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const network = lines.find((l) =>
    /network connectivity|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|fetch failed|getaddrinfo/i.test(l),
  );
  if (network) return 'a download failed (the machine looks offline, or behind a proxy: set HTTPS_PROXY)';
  return lines.pop() ?? `exit status ${result.status}`;
}

function rebuildWithElectronRebuild(stagingRoot, k) {
  // A child process, so that a hang or crash in node-gyp ends here with a status, and its output streams.
  const code = `
    const { rebuild } = require('@electron/rebuild');
    rebuild({
      buildPath: ${JSON.stringify(stagingRoot)},
      electronVersion: ${JSON.stringify(k.electron)},
      platform: ${JSON.stringify(k.platform)},
      arch: ${JSON.stringify(k.arch)},
      onlyModules: ['better-sqlite3'],
      force: true,
      mode: 'sequential',
    }).then(() => process.exit(0), (err) => { console.error(err && err.message ? err.message : String(err)); process.exit(1); });`;
  return spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
}

function runStandIn(command, stagingModule, k) {
  return spawnSync(command, [stagingModule], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
    env: {
      ...process.env,
      CTGI_ELECTRON_VERSION: k.electron,
      CTGI_NATIVE_PLATFORM: k.platform,
      CTGI_NATIVE_ARCH: k.arch,
    },
  });
}

/** Builds the binding for `platform`/`arch` unless it exists; returns its path or throws BuildError. */
export function ensureElectronBinding({
  platform = process.platform,
  arch = process.arch,
  log = console.log,
} = {}) {
  const k = nativeKey(platform, arch);
  const target = electronBindingPath(platform, arch);
  if (existsSync(target)) return target;

  log(
    `Building better-sqlite3 ${k.sqlite} for Electron ${k.electron} (${platform}-${arch}) into ${dirname(target)} ` +
      '(once per version; the CLI and tests keep their Node build)…',
  );
  // Staging inside the project: @electron/rebuild finds prebuild-install by walking up to our node_modules.
  const staging = join(root, '.electron-native', `.staging-${process.pid}`);
  const stagingModule = join(staging, 'node_modules', 'better-sqlite3');
  rmSync(staging, { recursive: true, force: true });
  try {
    const source = dirname(require.resolve('better-sqlite3/package.json'));
    cpSync(source, stagingModule, {
      recursive: true,
      filter: (src) => src !== join(source, 'build') && !src.startsWith(join(source, 'build') + sep),
    });
    writeFileSync(
      join(staging, 'package.json'),
      JSON.stringify({
        name: 'ctgi-electron-native',
        private: true,
        dependencies: { 'better-sqlite3': k.sqlite },
      }),
    );
    const standIn = process.env.CTGI_ELECTRON_REBUILD;
    const result = standIn ? runStandIn(standIn, stagingModule, k) : rebuildWithElectronRebuild(staging, k);
    if (result.stderr) process.stderr.write(result.stderr);
    const built = join(stagingModule, 'build', 'Release', BINDING_FILE);
    if (result.status !== 0 || !existsSync(built)) {
      throw new BuildError(
        `better-sqlite3 could not be built for Electron ${k.electron} (${platform}-${arch}): ${failureReason(result)}. ` +
          "It needs the internet once (a prebuilt binary from GitHub, else Electron's headers from electronjs.org) and, " +
          'without a prebuilt binary, a C++ toolchain (Linux: build-essential and python3; macOS: Xcode Command Line Tools; ' +
          'Windows: Visual Studio Build Tools). Fix that and run `node scripts/electron-native.mjs` (or `npm start`) again.',
      );
    }
    mkdirSync(dirname(target), { recursive: true });
    // Rename last, so that a half-written build never passes for a whole one.
    const tmp = `${target}.${process.pid}.tmp`;
    cpSync(built, tmp);
    renameSync(tmp, target);
    writeFileSync(
      join(dirname(target), 'build.json'),
      `${JSON.stringify({ ...k, builtAt: new Date().toISOString() }, null, 2)}\n`,
    );
    log(`Built ${target}.`);
    return target;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { platform: { type: 'string' }, arch: { type: 'string' }, check: { type: 'boolean' } },
  });
  const platform = values.platform ?? process.platform;
  const arch = values.arch ?? process.arch;
  if (values.check) {
    const path = electronBindingPath(platform, arch);
    if (!existsSync(path)) {
      console.error(`Missing: ${path} (run node scripts/electron-native.mjs to build it).`);
      process.exit(1);
    }
    console.log(path);
  } else {
    try {
      console.log(ensureElectronBinding({ platform, arch, log: (line) => console.error(line) }));
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      console.error(err.message);
      process.exit(1);
    }
  }
}
