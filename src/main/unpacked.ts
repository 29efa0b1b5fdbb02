import { sep } from 'node:path';

/**
 * The real file behind a path inside a packaged app's `app.asar`. The archive is readable only through
 * Node's fs as Electron patches it; a native file loaded by anything else — SQLite's loadExtension, an
 * executable we spawn — must be unpacked (electron-builder's `asarUnpack`, see electron-builder.cjs) and
 * addressed in `app.asar.unpacked` beside it. Outside a packaged app the path comes back unchanged.
 */
export function unpackedPath(path: string): string {
  return path.split(`${sep}app.asar${sep}`).join(`${sep}app.asar.unpacked${sep}`);
}
