// `npm start` (scripts/start.mjs) as a new user meets it, with STAND-INS for Electron: no Electron binary
// can be downloaded or run on the build machines. The stand-in "Electron" is a Node script that records
// its arguments, environment and the signals it gets; Electron's real installer (a copy of
// node_modules/electron with checksums for our zip) fetches it from a mirror on loopback; a stand-in
// replaces the better-sqlite3 rebuild. The headless server, the signals and npm itself are real.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  copyElectronPackage,
  ELECTRON_VERSION,
  standInElectronScript,
  startMirror,
  writeStandInDist,
  writeStandInRebuild,
  zip,
} from '../fixtures/stand-in-electron';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ctgi-start-'));
const workspace = join(dir, 'demo', 'demo.sqlite');
const nativeKey = `better-sqlite3-${
  (
    JSON.parse(readFileSync(join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')) as {
      version: string;
    }
  ).version
}-electron-${ELECTRON_VERSION}-${process.platform}-${process.arch}`;

interface Started {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const started: Started[] = [];

/** Runs `command` (default: node scripts/start.mjs) with a clean environment plus `env`. */
function start(args: string[], env: Record<string, string | undefined>, command?: string[]): Started {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of ['DISPLAY', 'WAYLAND_DISPLAY', 'CTGI_HEADLESS', 'ELECTRON_OVERRIDE_DIST_PATH'])
    delete base[k];
  const [cmd, ...cmdArgs] = command ?? [process.execPath, join(root, 'scripts', 'start.mjs')];
  const child = spawn(cmd!, [...cmdArgs, ...args], {
    cwd: root,
    env: { ...base, CTGI_ELECTRON_NATIVE_DIR: join(dir, 'native'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const s: Started = {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, ms = 90_000) =>
      vi.waitFor(
        () => {
          const m = out.match(pattern);
          if (!m) throw new Error(`not yet: ${pattern}\n--- output so far ---\n${out}`);
          return m;
        },
        { timeout: ms, interval: 100 },
      ),
  };
  started.push(s);
  return s;
}

/** Resolves when nothing listens on `port` any more. */
async function portClosed(port: number, ms = 30_000): Promise<void> {
  await vi.waitFor(
    async () => {
      const open = await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      );
      if (open) throw new Error(`port ${port} still answers`);
    },
    { timeout: ms, interval: 200 },
  );
}

/** Test cleanup only: processes whose command line names this test's folder (the servers started here). */
function killLeftovers(): void {
  if (process.platform !== 'linux') return;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

const standInDist = join(dir, 'electron-dist');
const rebuild = join(dir, 'rebuild.cjs');
const rebuildLog = join(dir, 'rebuild.log');
const electronLog = join(dir, 'electron.log');
const logLines = (file: string): Record<string, unknown>[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

beforeAll(() => {
  writeStandInDist(standInDist);
  writeStandInRebuild(rebuild);
  mkdirSync(join(dir, 'demo'), { recursive: true });
});
afterAll(() => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  killLeftovers();
  rmSync(dir, { recursive: true, force: true });
});

const serverArgs = ['--workspace', workspace, '--json'];
const urlLine = /\{"url":"(http:\/\/127\.0\.0\.1:(\d+)\/[^"]*)"/;

describe.runIf(process.platform === 'linux')('npm start on a desktop (stand-in Electron)', () => {
  it('with a display and no Electron binary, fetches it with Electron’s own installer, builds better-sqlite3 for it, and launches it', async () => {
    const zipped = zip([
      { name: 'electron', data: Buffer.from(standInElectronScript()), mode: 0o755 },
      { name: 'version', data: Buffer.from(ELECTRON_VERSION), mode: 0o644 },
    ]);
    const pkg = copyElectronPackage(join(dir, 'electron-pkg'), zipped);
    const mirror = await startMirror(zipped);
    try {
      const cache = join(dir, 'electron-cache');
      const s = start([], {
        DISPLAY: ':99',
        CTGI_ELECTRON_PACKAGE: pkg,
        NODE_PATH: join(root, 'node_modules'),
        ELECTRON_MIRROR: mirror.url,
        electron_config_cache: cache,
        CTGI_ELECTRON_REBUILD: rebuild,
        REBUILD_LOG: rebuildLog,
        STANDIN_LOG: electronLog,
      });
      expect(await s.exited, s.output()).toBe(0);
      const out = s.output();
      expect(out).toContain(
        `Downloading Electron ${ELECTRON_VERSION} for ${process.platform}-${process.arch}`,
      );
      expect(out).toContain(`kept in ${cache}`);
      expect(out).toContain(`Electron ${ELECTRON_VERSION} is installed`);
      expect(mirror.requests).toContain(
        `/v${ELECTRON_VERSION}/electron-v${ELECTRON_VERSION}-linux-${process.arch}.zip`,
      );
      // Electron's installer left the binary where node_modules/electron looks for it.
      expect(readFileSync(join(pkg, 'path.txt'), 'utf8')).toBe('electron');
      expect(existsSync(join(pkg, 'dist', 'electron'))).toBe(true);
      // better-sqlite3 was built for this Electron, into its own folder, and the app was told where.
      expect(logLines(rebuildLog)).toEqual([
        { pkg: expect.stringContaining(join('node_modules', 'better-sqlite3')), electron: ELECTRON_VERSION },
      ]);
      const binding = join(dir, 'native', nativeKey, 'better_sqlite3.node');
      expect(readFileSync(binding, 'utf8')).toBe('stand-in addon');
      expect(logLines(electronLog)).toEqual([{ argv: [root], binding, runAsNode: null }]);
      // The Node build the CLI and tests use is untouched.
      expect(existsSync(join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(
        true,
      );
    } finally {
      await mirror.close();
    }
  });

  it('a second start reuses both: no download, no rebuild', async () => {
    rmSync(electronLog, { force: true });
    const s = start([], {
      DISPLAY: ':99',
      CTGI_ELECTRON_PACKAGE: join(dir, 'electron-pkg'),
      ELECTRON_MIRROR: 'http://127.0.0.1:9/',
      CTGI_ELECTRON_REBUILD: rebuild,
      REBUILD_LOG: rebuildLog,
      STANDIN_LOG: electronLog,
    });
    expect(await s.exited, s.output()).toBe(0);
    expect(s.output()).not.toContain('Downloading');
    expect(logLines(rebuildLog)).toHaveLength(1);
    expect(logLines(electronLog)).toHaveLength(1);
  });

  it('passes SIGTERM on to Electron and exits with its status', async () => {
    rmSync(electronLog, { force: true });
    const s = start([], {
      DISPLAY: ':99',
      ELECTRON_OVERRIDE_DIST_PATH: standInDist,
      CTGI_ELECTRON_REBUILD: rebuild,
      REBUILD_LOG: rebuildLog,
      STANDIN_LOG: electronLog,
      STANDIN_WAIT: '1',
    });
    await vi.waitFor(() => expect(logLines(electronLog)).toContainEqual({ ready: true }), {
      timeout: 60_000,
    });
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(logLines(electronLog)).toContainEqual({ signal: 'SIGTERM' });
  });

  it('when the download fails (offline), says why and serves the headless UI instead', async () => {
    const mirror = await startMirror(null);
    try {
      const s = start(serverArgs, {
        DISPLAY: ':99',
        CTGI_ELECTRON_PACKAGE: copyElectronPackage(join(dir, 'electron-pkg-offline'), Buffer.from('x')),
        NODE_PATH: join(root, 'node_modules'),
        ELECTRON_MIRROR: mirror.url,
        electron_config_cache: join(dir, 'electron-cache-offline'),
      });
      const [, , port] = await s.waitFor(urlLine);
      expect(s.output()).toMatch(
        /Starting the headless server instead of the desktop app: the Electron download failed \(.*404.*\)\. Check the internet connection/,
      );
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      await portClosed(Number(port));
    } finally {
      await mirror.close();
    }
  });

  it('when better-sqlite3 cannot be built for Electron, says what to install and serves the headless UI', async () => {
    const s = start(serverArgs, {
      DISPLAY: ':99',
      ELECTRON_OVERRIDE_DIST_PATH: standInDist,
      CTGI_ELECTRON_NATIVE_DIR: join(dir, 'native-missing'),
      CTGI_ELECTRON_REBUILD: rebuild,
      REBUILD_LOG: rebuildLog,
      REBUILD_FAIL: '1',
    });
    const [, , port] = await s.waitFor(urlLine);
    expect(s.output()).toContain(
      `Starting the headless server instead of the desktop app: better-sqlite3 could not be built for Electron ${ELECTRON_VERSION}`,
    );
    expect(s.output()).toContain('gyp ERR! stack Error: not found: make');
    expect(s.output()).toMatch(/C\+\+ toolchain \(Linux: build-essential and python3/);
    expect(existsSync(join(dir, 'native-missing', nativeKey))).toBe(false);
    s.child.kill('SIGHUP');
    expect(await s.exited).toBe(0);
    await portClosed(Number(port));
  });

  it('CTGI_HEADLESS=1 keeps forcing the server, and without a display there is no download', async () => {
    for (const env of [{ DISPLAY: ':99', CTGI_HEADLESS: '1' }, {}]) {
      const s = start(serverArgs, {
        ...env,
        ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'no-electron-here'),
        CTGI_ELECTRON_REBUILD: rebuild,
        REBUILD_LOG: rebuildLog,
      });
      const [, , port] = await s.waitFor(urlLine);
      expect(s.output()).toMatch(
        'DISPLAY' in env ? /instead of the desktop app: CTGI_HEADLESS=1 is set/ : /there is no display/,
      );
      expect(s.output()).not.toContain('Downloading');
      s.child.kill('SIGINT');
      expect(await s.exited).toBe(0);
      await portClosed(Number(port));
    }
  });
});

describe('npm run dev', () => {
  it('needs the desktop app, and says why it cannot start instead of serving', async () => {
    const s = start(['--dev'], { CTGI_HEADLESS: '1' });
    expect(await s.exited).toBe(1);
    expect(s.output()).toContain(
      'npm run dev needs the desktop app, and it cannot start here: CTGI_HEADLESS=1 is set.',
    );
  });
});

describe('npm start passes signals on to the server', () => {
  it('SIGTERM to the PID of `npm start` stops the server (npm’s shell does not pass it on)', async () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const s = start(['--', ...serverArgs], { CTGI_HEADLESS: '1' }, [npm, 'start']);
    const [, , port] = await s.waitFor(urlLine);
    s.child.kill('SIGTERM');
    await s.exited;
    await portClosed(Number(port));
  });
});
