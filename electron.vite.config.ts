import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import react from '@vitejs/plugin-react';

// The main bundle is only the thin Electron shell; the same services run unbundled (tsx) in the CLI,
// the headless server and the tests. The renderer build is what both the desktop window and
// `ctgi serve` show.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    // The encoder worker and the gallery worker are their own entries: src/main/ml/encoder.ts starts
    // `./encoder-worker.js` and src/main/search/gallery-thread.ts `./gallery-worker.js` beside the bundle
    // when it exists (the packaged app), and the TypeScript source through tsx otherwise.
    build: {
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          'encoder-worker': resolve('src/main/ml/encoder-worker.ts'),
          'gallery-worker': resolve('src/main/search/gallery-worker.ts'),
        },
      },
    },
  },
  // The window runs sandboxed (sandbox: true), and a sandboxed preload is a classic script: CommonJS, and
  // able to require only 'electron' and a few built-ins. So it is one self-contained .cjs file, with its
  // dependencies (the zod-free allow-list in shared/channels.ts) bundled in, not required from
  // node_modules. test/integration/desktop-package.test.ts runs the built file under those rules.
  preload: {
    build: {
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    plugins: [react()],
    build: { rollupOptions: { input: { index: resolve('src/renderer/index.html') } } },
  },
});
