// Builds `out/` (electron-vite build) when a part of it is missing or older than the sources it is made
// from; shared by `npm start` and `npm run dist`, so neither shows or packages a stale build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const INPUTS = ['src', 'electron.vite.config.ts', 'package.json'];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Returns when `out/` is current; exits the process with the build's status when the build fails. */
export function ensureBuilt(root) {
  const outputs = OUTPUTS.map((p) => join(root, p));
  const missing = outputs.some((p) => !existsSync(p));
  if (!missing) {
    const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
    if (Math.max(...INPUTS.map((p) => newestMtime(join(root, p)))) <= built) return;
  }
  console.log(`${missing ? 'Building' : 'Rebuilding'} the app first (electron-vite build)…`);
  const electronVite = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const build = spawnSync(process.execPath, [electronVite, 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('The build failed (see above); fix it, or run `npm run build` to retry.');
    process.exit(build.status ?? 1);
  }
}
