import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import react from '@vitejs/plugin-react';

// The main bundle is only the thin Electron shell; the same services run unbundled (tsx) in the CLI,
// the headless server and the tests. The renderer build is what both the desktop window and
// `ctgi serve` show.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    // The encoder worker is its own entry: src/main/ml/encoder.ts starts `./encoder-worker.js` beside
    // the bundle when it exists (the packaged app), and the TypeScript source through tsx otherwise.
    build: {
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          'encoder-worker': resolve('src/main/ml/encoder-worker.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: { rollupOptions: { input: { index: resolve('src/preload/index.ts') } } },
  },
  renderer: {
    root: resolve('src/renderer'),
    plugins: [react()],
    build: { rollupOptions: { input: { index: resolve('src/renderer/index.html') } } },
  },
});
