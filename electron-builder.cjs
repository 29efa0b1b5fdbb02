// Installable packages: `npm run dist` (scripts/dist.mjs) builds `out/` and runs electron-builder with this
// file; installers land in dist/. test/integration/desktop-package.test.ts checks it against the installed
// node_modules: every native file of the runtime dependencies is unpacked from the asar archive, nothing
// from devDependencies is packed.
'use strict';

/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.ctgi.studio',
  // productName ('CTGI Studio') comes from package.json, where Electron also reads it for userData.
  copyright: 'CTGI Studio contributors',
  directories: { output: 'dist', buildResources: 'resources/build' },
  // Never rebuild node_modules in place for Electron: that build would replace the Node one the CLI,
  // the server and the tests load. The app gets its Electron build of better-sqlite3 from afterPack.
  npmRebuild: false,
  buildDependenciesFromSource: false,
  files: [
    'package.json',
    'out/**/*',
    '!out/**/*.map',
    // tsx runs the CLI from source; the app runs the bundle, so tsx and esbuild's executable stay out.
    '!**/node_modules/tsx/**',
    '!**/node_modules/esbuild/**',
    '!**/node_modules/@esbuild/**',
    // better-sqlite3's Node build and its C sources: the app loads resources/native/better_sqlite3.node.
    '!**/node_modules/better-sqlite3/{build,deps,src}/**',
    // LanceDB's optional embedding helper (235 MB: its own ONNX Runtime 1.19 and sharp 0.33). LanceDB loads
    // it only for its own embedding functions; the app embeds with its encoder and hands LanceDB vectors.
    '!**/node_modules/@huggingface/transformers/**',
  ],
  asar: { smartUnpack: false },
  // Native code must be real files: Electron reads app.asar for Node's require, but shared libraries that
  // a .node loads beside it, SQLite extensions and executables are opened by the OS. The list below is the
  // whole rule (electron-builder's guessing, smartUnpack, is off), and the package test holds it to every
  // native file of the installed runtime dependencies.
  asarUnpack: [
    '**/*.node',
    // ONNX Runtime: the binding and libonnxruntime.so.1 / onnxruntime.dll / libonnxruntime.dylib beside it
    // (afterPack deletes the other systems' copies: a platform-level `files` list would replace this one).
    '**/node_modules/onnxruntime-node/bin/**',
    // sharp and its libvips (sharp's own advice for Electron).
    '**/node_modules/sharp/**',
    '**/node_modules/@img/**',
    // vec0.so / vec0.dll / vec0.dylib, loaded by SQLite (src/main/db/open.ts asks for the unpacked path).
    '**/node_modules/sqlite-vec-*/**',
    // The FFmpeg and ffprobe executables.
    '**/node_modules/@ffmpeg-installer/**',
    '**/node_modules/@ffprobe-installer/**',
    '**/node_modules/@lancedb/lancedb-*/**',
  ],
  // The CLIP vocabulary, where src/main/ml/tokenizer.ts looks in a packaged app (resources/shared/…).
  extraResources: [
    {
      from: '../shared/data/clip/bpe_simple_vocab_16e6.txt.gz',
      to: 'shared/data/clip/bpe_simple_vocab_16e6.txt.gz',
    },
  ],
  afterPack: './scripts/electron-after-pack.cjs',
  linux: {
    target: ['AppImage', 'deb'],
    executableName: 'ctgi-studio',
    category: 'Science',
    maintainer: 'CTGI Studio contributors <ctgi-studio@users.noreply.github.com>',
  },
  deb: { packageName: 'ctgi-studio' },
  win: {
    target: ['nsis'],
  },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.developer-tools',
    hardenedRuntime: true,
  },
};
