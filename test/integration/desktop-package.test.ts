// The installable package, checked without Electron (it cannot be downloaded or run on the build
// machines). electron-builder runs for real (`npm run dist -- --dir`, scripts/dist.mjs) on the installed
// node_modules, with a STAND-IN Electron distribution (a file carrying a real fuse wire) given as
// `electronDist`, and a stand-in for the Electron build of better-sqlite3. What is checked is what
// electron-builder made of electron-builder.cjs: what went into app.asar, what was unpacked beside it,
// what afterPack added, the fuses it wrote. The built preload is run under a sandboxed preload's rules.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { runInNewContext } from 'node:vm';
import { getRawHeader } from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_INVOKE } from '#shared/bridge';
import { ELECTRON_VERSION } from '../fixtures/stand-in-electron';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const fuses = require('../../scripts/electron-fuses.cjs') as {
  CTGI_FUSES: Record<string, boolean>;
  FUSES: string[];
  SENTINEL: Buffer;
  readFuses(file: string): Record<string, string>;
  writeFuses(file: string, wanted: Record<string, boolean>): Record<string, string>;
};
const dir = mkdtempSync(join(tmpdir(), 'ctgi-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in Electron executable: a script that carries a fuse wire with Electron's defaults, twice. */
function fakeElectronBinary(file: string, wire = '101100011'): void {
  const w = Buffer.concat([fuses.SENTINEL, Buffer.from([1, wire.length]), Buffer.from(wire)]);
  writeFileSync(
    file,
    Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n# '), w, Buffer.from('\n# '), w, Buffer.from('\n')]),
  );
  chmodSync(file, 0o755);
}

describe('Electron fuses (scripts/electron-fuses.cjs)', () => {
  it('writes the chosen fuses into every copy of the wire and reads them back', () => {
    const exe = join(dir, 'fuse-test');
    fakeElectronBinary(exe);
    expect(fuses.readFuses(exe)).toMatchObject({
      RunAsNode: 'enabled',
      EnableNodeCliInspectArguments: 'enabled',
    });
    const after = fuses.writeFuses(exe, fuses.CTGI_FUSES);
    expect(after).toEqual({
      RunAsNode: 'enabled',
      EnableCookieEncryption: 'enabled',
      EnableNodeOptionsEnvironmentVariable: 'disabled',
      EnableNodeCliInspectArguments: 'disabled',
      EnableEmbeddedAsarIntegrityValidation: 'enabled',
      OnlyLoadAppFromAsar: 'enabled',
      LoadBrowserProcessSpecificV8Snapshot: 'disabled',
      GrantFileProtocolExtraPrivileges: 'disabled',
      WasmTrapHandlers: 'enabled',
    });
    const text = readFileSync(exe, 'latin1');
    const wires = text
      .split(fuses.SENTINEL.toString('latin1'))
      .slice(1)
      .map((s) => s.slice(2, 11));
    expect(wires).toEqual(['110011001', '110011001']);
  });

  it('refuses a file without a wire, and a fuse the binary has removed', () => {
    writeFileSync(join(dir, 'not-electron'), 'hello');
    expect(() => fuses.writeFuses(join(dir, 'not-electron'), fuses.CTGI_FUSES)).toThrow(
      /no Electron fuse wire/,
    );
    fakeElectronBinary(join(dir, 'removed'), '1r1100011');
    expect(() => fuses.writeFuses(join(dir, 'removed'), fuses.CTGI_FUSES)).toThrow(
      /EnableCookieEncryption is removed/,
    );
  });
});

describe('the built preload (out/preload/index.cjs) under a sandboxed preload’s rules', () => {
  it('is one CommonJS script that requires nothing but electron, and exposes only the allow-listed calls', async () => {
    const file = join(root, 'out', 'preload', 'index.cjs');
    expect(existsSync(file), 'run `npm run build` first (npm test does)').toBe(true);
    const required: string[] = [];
    const exposed: Record<string, { invoke(c: string, a: unknown): Promise<unknown> }> = {};
    const invoked: unknown[][] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (name: string, api: never) => (exposed[name] = api) },
      ipcRenderer: {
        invoke: (...args: unknown[]) => (invoked.push(args), Promise.resolve({ ok: true, value: null })),
        on: () => {},
        off: () => {},
      },
    };
    // A sandboxed preload gets require() for 'electron' and a few polyfilled built-ins, no `import`.
    const sandboxRequire = (name: string): unknown => {
      required.push(name);
      if (name === 'electron') return electron;
      throw new Error(`a sandboxed preload cannot require ${name}`);
    };
    const module = { exports: {} };
    const wrapped = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
    const fn = runInNewContext(wrapped, { console, Promise, Error }) as (...a: unknown[]) => void;
    fn(module.exports, sandboxRequire, module, file, join(root, 'out', 'preload'));
    expect([...new Set(required)]).toEqual(['electron']);
    await exposed.ctgi!.invoke('library:stats', {});
    expect(invoked).toEqual([[IPC_INVOKE, 'library:stats', {}]]);
    await expect(exposed.ctgi!.invoke('fs:readFile', { path: '/etc/passwd' })).rejects.toThrow(/not allowed/);
    expect(invoked).toHaveLength(1);
  });

  it('carries the channel names only, not the schemas (no zod in it), so it stays small', () => {
    const text = readFileSync(join(root, 'out', 'preload', 'index.cjs'), 'utf8');
    expect(text).not.toMatch(/ZodError|\$ZodType/);
    expect(text.length).toBeLessThan(20_000);
  });
});

// ── the package electron-builder makes ─────────────────────────────────────────────────────────────

const out = join(dir, 'dist');
const unpackedApp = join(out, `${process.platform === 'linux' ? 'linux' : process.platform}-unpacked`);
const resources = join(unpackedApp, 'resources');
const nativeKey = `better-sqlite3-${
  (require('better-sqlite3/package.json') as { version: string }).version
}-electron-${ELECTRON_VERSION}-${process.platform}-${process.arch}`;
let distOutput = '';

/** Files in the archive: path inside it → whether it is unpacked (a real file in app.asar.unpacked). */
function asarFiles(archive: string): Map<string, boolean> {
  interface Entry {
    files?: Record<string, Entry>;
    unpacked?: boolean;
  }
  const files = new Map<string, boolean>();
  const walk = (entry: Entry, at: string): void => {
    for (const [name, child] of Object.entries(entry.files ?? {})) {
      const path = at ? `${at}/${name}` : name;
      if (child.files) walk(child, path);
      else files.set(path, child.unpacked === true);
    }
  };
  walk(getRawHeader(archive).header as Entry, '');
  return files;
}

/** Shared libraries, addons and executables: by name, or by their first bytes (ELF, Mach-O, PE). */
function isNative(file: string): boolean {
  if (/\.(node|dll|dylib|exe)$|\.so(\.\d+)*$/.test(file)) return true;
  if (statSync(file).size < 4) return false;
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(4);
  readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  const magic = head.readUInt32BE(0);
  return (
    head.toString('latin1') === '\x7fELF' ||
    [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic) ||
    head.toString('latin1', 0, 2) === 'MZ'
  );
}

interface LockPackage {
  dev?: boolean;
}
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockPackage>;
};
const nameOf = (lockPath: string): string => lockPath.slice(lockPath.lastIndexOf('node_modules/') + 13);

/** Every native file of the runtime dependencies as installed here: [package name, path inside it]. */
function runtimeNativeFiles(): [string, string][] {
  const found: [string, string][] = [];
  for (const [lockPath, pkg] of Object.entries(lock.packages)) {
    if (!lockPath || pkg.dev) continue;
    if (LEFT_OUT_TREES.some(([tree]) => lockPath === tree || lockPath.startsWith(`${tree}/`))) continue;
    const pkgDir = join(root, lockPath);
    if (!existsSync(pkgDir)) continue; // an optional package for another system
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        const st = statSync(p);
        if (st.isDirectory()) {
          if (name !== 'node_modules') walk(p);
        } else if (isNative(p)) found.push([nameOf(lockPath), relative(pkgDir, p).split(sep).join('/')]);
      }
    };
    walk(pkgDir);
  }
  return found;
}

/** Runtime dependencies left out of the package whole, with everything nested in them (electron-builder.cjs). */
const LEFT_OUT_TREES: [string, string][] = [
  [
    'node_modules/@huggingface/transformers',
    "LanceDB's optional embedding helper; the app embeds with its own encoder",
  ],
];

/** Native files that are deliberately not in the package, and why (electron-builder.cjs, afterPack). */
const LEFT_OUT: [RegExp, string][] = [
  [/^(tsx|esbuild|@esbuild\/[^/]+)\//, 'the app runs the bundle, not tsx'],
  [
    /^better-sqlite3\/(build|deps|src)\//,
    'the Node build; the app loads resources/native/better_sqlite3.node',
  ],
  [
    new RegExp(`^onnxruntime-node/bin/napi-v6/(?!${process.platform}/${process.arch}/)`),
    'ONNX Runtime for other systems',
  ],
];

describe('npm run dist where the Electron distribution cannot be downloaded', () => {
  it('stops there and says so, naming the file and the reason', () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'dist.mjs'), '--dir', `-c.directories.output=${join(dir, 'offline')}`],
      {
        cwd: root,
        encoding: 'utf8',
        // A mirror that refuses connections and an empty cache: offline, wherever the test runs.
        env: {
          ...process.env,
          ELECTRON_MIRROR: 'http://127.0.0.1:9/',
          ELECTRON_CACHE: join(dir, 'empty-cache'),
        },
        timeout: 300_000,
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `npm run dist stopped at the Electron download: electron-builder needs electron-v${ELECTRON_VERSION}-${process.platform}-`,
    );
    expect(r.stderr).toMatch(/could not fetch it \(.*connection refused\)/);
  }, 300_000);
});

describe.runIf(process.platform === 'linux')(
  'npm run dist -- --dir, with a stand-in Electron distribution',
  () => {
    beforeAll(() => {
      const electronDist = join(dir, 'electron-dist');
      mkdirSync(join(electronDist, 'resources'), { recursive: true });
      fakeElectronBinary(join(electronDist, 'electron'));
      writeFileSync(join(electronDist, 'LICENSE'), 'MIT');
      writeFileSync(join(electronDist, 'version'), ELECTRON_VERSION);
      const native = join(dir, 'native', nativeKey);
      mkdirSync(native, { recursive: true });
      writeFileSync(join(native, 'better_sqlite3.node'), 'stand-in Electron build');
      const r = spawnSync(
        process.execPath,
        [
          join(root, 'scripts', 'dist.mjs'),
          '--dir',
          `-c.electronDist=${electronDist}`,
          `-c.directories.output=${out}`,
        ],
        {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, CTGI_ELECTRON_NATIVE_DIR: join(dir, 'native') },
          timeout: 300_000,
        },
      );
      distOutput = `${r.stdout}\n${r.stderr}`;
      if (r.status !== 0) throw new Error(`npm run dist -- --dir failed:\n${distOutput}`);
    }, 300_000);

    it('packs only the app bundle, package.json and runtime dependencies — nothing from devDependencies', () => {
      const files = asarFiles(join(resources, 'app.asar'));
      const top = new Set([...files.keys()].map((f) => f.split('/')[0]));
      expect([...top].sort()).toEqual(['node_modules', 'out', 'package.json']);
      expect([...files.keys()].filter((f) => f.startsWith('out/') && f.endsWith('.map'))).toEqual([]);
      expect(files.has('out/preload/index.cjs')).toBe(true);
      expect(files.has('out/renderer/index.html')).toBe(true);
      const packed = new Set<string>();
      for (const f of files.keys()) {
        const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//g;
        for (const hit of f.matchAll(m)) packed.add(hit[1]!);
      }
      // npm marks what only devDependencies need `dev`; `devOptional` is also an optional runtime dependency.
      const devOnly = Object.entries(lock.packages)
        .filter(([p, pkg]) => p && pkg.dev)
        .map(([p]) => nameOf(p));
      const runtime = new Set(
        Object.entries(lock.packages)
          .filter(([p, pkg]) => p && !pkg.dev)
          .map(([p]) => nameOf(p)),
      );
      // A name can be dev-only at one place in the tree and a runtime dependency at another.
      expect(devOnly.filter((n) => packed.has(n) && !runtime.has(n))).toEqual([]);
      for (const n of [
        'electron',
        'electron-builder',
        'react',
        'vite',
        'vitest',
        '@mantine/core',
        'typescript',
      ])
        expect(packed.has(n), n).toBe(false);
      expect(packed.has('tsx')).toBe(false);
      for (const [tree] of LEFT_OUT_TREES)
        expect(
          [...files.keys()].filter((f) => f.startsWith(`${tree}/`)),
          tree,
        ).toEqual([]);
      expect(packed.has('zod')).toBe(true);
    });

    it('unpacks every native file of the runtime dependencies (or leaves it out on purpose)', () => {
      const files = asarFiles(join(resources, 'app.asar'));
      const natives = runtimeNativeFiles();
      // The installed tree has them: addons, shared libraries, the FFmpeg executables.
      expect(natives.map(([n, f]) => `${n}/${f}`)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^onnxruntime-node\/bin\/napi-v6\/linux\/x64\/onnxruntime_binding\.node$/),
          expect.stringMatching(/^onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime\.so/),
          expect.stringMatching(/^@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/),
          expect.stringMatching(/^sqlite-vec-linux-x64\/vec0\.so$/),
          expect.stringMatching(/^@ffmpeg-installer\/linux-x64\/ffmpeg$/),
          expect.stringMatching(/^@ffprobe-installer\/linux-x64\/ffprobe$/),
          expect.stringMatching(/^@lancedb\/lancedb-linux-x64-gnu\/.*\.node$/),
        ]),
      );
      const problems: string[] = [];
      for (const [name, file] of natives) {
        const where = [...files.entries()].filter(([p]) => p.endsWith(`node_modules/${name}/${file}`));
        const why = LEFT_OUT.find(([re]) => re.test(`${name}/${file}`));
        if (why) {
          if (where.length > 0 && where.some(([p]) => existsSync(join(resources, 'app.asar.unpacked', p))))
            problems.push(`${name}/${file} should be left out (${why[1]}) but is in the package`);
          continue;
        }
        if (where.length === 0) problems.push(`${name}/${file} is not in the package`);
        for (const [p, unpacked] of where) {
          if (!unpacked) problems.push(`${p} is inside app.asar, where only Node's fs can read it`);
          else if (!existsSync(join(resources, 'app.asar.unpacked', p)))
            problems.push(`${p} is missing from app.asar.unpacked`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('afterPack added the Electron build of better-sqlite3 and the CLIP vocabulary, and set the fuses', () => {
      expect(readFileSync(join(resources, 'native', 'better_sqlite3.node'), 'utf8')).toBe(
        'stand-in Electron build',
      );
      expect(existsSync(join(resources, 'shared', 'data', 'clip', 'bpe_simple_vocab_16e6.txt.gz'))).toBe(
        true,
      );
      expect(fuses.readFuses(join(unpackedApp, 'ctgi-studio'))).toMatchObject({
        RunAsNode: 'enabled',
        EnableNodeOptionsEnvironmentVariable: 'disabled',
        EnableNodeCliInspectArguments: 'disabled',
        EnableEmbeddedAsarIntegrityValidation: 'enabled',
        OnlyLoadAppFromAsar: 'enabled',
        GrantFileProtocolExtraPrivileges: 'disabled',
      });
      expect(distOutput).toContain('fuses set in');
      // electron-builder was told not to rebuild node_modules in place (that would break the Node build).
      expect(distOutput).toMatch(/skipped dependencies rebuild\s+reason=npmRebuild is set to false/);
    });
  },
);
