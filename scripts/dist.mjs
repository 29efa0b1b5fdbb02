#!/usr/bin/env node
// `npm run dist [-- electron-builder options]`: installers for this system into dist/ (Linux: AppImage and
// deb; Windows: NSIS; macOS: dmg — see electron-builder.cjs). `npm run dist -- --dir` stops at the unpacked
// app (dist/<os>-unpacked), which is what a smoke test needs. Builds out/ first when it is stale.
//
// electron-builder downloads the Electron distribution for the target (once; cached per user) and
// afterPack builds better-sqlite3 for it when .electron-native lacks that build: both need the internet
// the first time. When the download is what failed, this script says so in one paragraph at the end.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build-if-stale.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
ensureBuilt(root);

const cli = join(root, 'node_modules', 'electron-builder', 'cli.js');
const child = spawn(process.execPath, [cli, ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['inherit', 'pipe', 'pipe'],
});
let output = '';
for (const [from, to] of [
  [child.stdout, process.stdout],
  [child.stderr, process.stderr],
]) {
  from.on('data', (chunk) => {
    output += chunk;
    to.write(chunk);
  });
}
const status = await new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));

if (status !== 0) {
  const zip = output.match(/electron-v[\w.-]+\.zip/)?.[0];
  const network = output.match(
    /no such host|dial tcp[^\n]*|ENOTFOUND[^\n]*|EAI_AGAIN[^\n]*|ECONNREFUSED[^\n]*|i\/o timeout|connection refused/,
  )?.[0];
  if (zip && network) {
    const version = JSON.parse(
      readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
    ).version;
    console.error(
      `\nnpm run dist stopped at the Electron download: electron-builder needs ${zip} (Electron ${version}, ` +
        `from ${process.env.ELECTRON_MIRROR ?? 'github.com/electron/electron/releases'}) and could not fetch it ` +
        `(${network.trim()}). ` +
        'Everything before that step worked (out/ is built, the configuration loaded). On a machine with ' +
        'internet the file is downloaded once and cached (~/.cache/electron on Linux); behind a proxy set ' +
        'HTTPS_PROXY, with a mirror set ELECTRON_MIRROR. An Electron distribution already on disk can be ' +
        'named with -c.electronDist=DIR.',
    );
  }
}
process.exitCode = status;
