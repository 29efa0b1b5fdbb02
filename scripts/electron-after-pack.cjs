// electron-builder's afterPack hook (electron-builder.cjs): runs on the unpacked app, before signing and
// before the installers are made. It adds what the app needs beyond node_modules and sets the fuses:
//  - better-sqlite3 built for this Electron and this target (scripts/electron-native.mjs; built now if
//    missing), as resources/native/better_sqlite3.node, where src/main/desktop/shell.ts loads it;
//  - onnxruntime-node's binaries for other systems and architectures deleted (the package ships all six);
//  - a check that the CLIP vocabulary (extraResources) arrived: text search needs it;
//  - the fuses (scripts/electron-fuses.cjs), then on macOS an ad-hoc signature again, since writing the
//    fuses breaks the one the Electron binary came with (a real identity, when configured, signs later).
'use strict';
const { execFileSync } = require('node:child_process');
const { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { CTGI_FUSES, writeFuses } = require('./electron-fuses.cjs');

// builder-util's Arch enum, by number.
const ARCH_NAMES = ['ia32', 'x64', 'armv7l', 'arm64', 'universal'];

/** Where the app's resources and the executable that carries the fuses are, per platform. */
function layout(context) {
  const product = context.packager.appInfo.productFilename;
  if (context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas') {
    const app = join(context.appOutDir, `${product}.app`);
    return {
      resources: join(app, 'Contents', 'Resources'),
      fuseFile: join(app, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework'),
    };
  }
  const exe = context.electronPlatformName === 'win32' ? `${product}.exe` : context.packager.executableName;
  return {
    resources: join(context.appOutDir, 'resources'),
    fuseFile: join(context.appOutDir, exe),
  };
}

exports.default = async function afterPack(context) {
  const platform = context.electronPlatformName === 'mas' ? 'darwin' : context.electronPlatformName;
  const arch = ARCH_NAMES[context.arch];
  const where = layout(context);
  if (arch === 'universal')
    throw new Error(
      'Universal macOS builds are not supported: build x64 and arm64 separately (--x64, --arm64).',
    );

  const native = await import(pathToFileURL(join(__dirname, 'electron-native.mjs')).href);
  let binding;
  try {
    binding = native.ensureElectronBinding({ platform, arch, log: (line) => console.log(`  • ${line}`) });
  } catch (err) {
    if (err instanceof native.BuildError) throw new Error(`Cannot package the app: ${err.message}`);
    throw err;
  }
  mkdirSync(join(where.resources, 'native'), { recursive: true });
  copyFileSync(binding, join(where.resources, 'native', 'better_sqlite3.node'));

  const ortBin = join(
    where.resources,
    'app.asar.unpacked',
    'node_modules',
    'onnxruntime-node',
    'bin',
    'napi-v6',
  );
  if (!existsSync(join(ortBin, platform, arch)))
    throw new Error(
      `Cannot package the app: onnxruntime-node has no binary for ${platform}-${arch} (${ortBin}).`,
    );
  for (const os of readdirSync(ortBin)) {
    for (const cpu of readdirSync(join(ortBin, os)))
      if (os !== platform || cpu !== arch) rmSync(join(ortBin, os, cpu), { recursive: true, force: true });
  }

  const vocab = join(where.resources, 'shared', 'data', 'clip', 'bpe_simple_vocab_16e6.txt.gz');
  if (!existsSync(vocab))
    throw new Error(
      `Cannot package the app: the CLIP vocabulary is missing from it (${vocab}). It is copied from ` +
        '../shared/data/clip/bpe_simple_vocab_16e6.txt.gz beside the repository; put the file there.',
    );

  const fuses = writeFuses(where.fuseFile, CTGI_FUSES);
  console.log(
    `  • fuses set in ${where.fuseFile}: ${Object.entries(fuses)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  if (platform === 'darwin' && process.platform === 'darwin') {
    execFileSync('codesign', [
      '--sign',
      '-',
      '--force',
      '--preserve-metadata=entitlements,requirements,flags,runtime',
      where.fuseFile,
    ]);
  }
};
