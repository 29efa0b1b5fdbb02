// The Electron shell opens workspaces with better-sqlite3's Electron build (nativeBinding); the CLI, the
// server and the tests use the default Node build. Both go through openDatabase.
import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import { unpackedPath } from '../../src/main/unpacked';

describe('openDatabase({ nativeBinding })', () => {
  it('loads the addon it is given, not the one in node_modules', () => {
    expect(() =>
      openDatabase(':memory:', { nativeBinding: '/nowhere/electron/better_sqlite3.node' }),
    ).toThrow(/\/nowhere\/electron\/better_sqlite3\.node/);
    const { db } = openDatabase(':memory:');
    // sqlite-vec is loaded (through unpackedPath, a no-op outside a packaged app).
    expect(db.prepare('SELECT vec_version() AS v').pluck().get()).toMatch(/^v0\./);
    db.close();
  });
});

describe('unpackedPath', () => {
  it('points a file inside app.asar at its unpacked copy, and leaves other paths alone', () => {
    const inAsar = [
      '',
      'opt',
      'CTGI Studio',
      'resources',
      'app.asar',
      'node_modules',
      'sqlite-vec-linux-x64',
      'vec0.so',
    ].join(sep);
    expect(unpackedPath(inAsar)).toBe(
      inAsar.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`),
    );
    const plain = ['', 'work', 'node_modules', 'sqlite-vec-linux-x64', 'vec0.so'].join(sep);
    expect(unpackedPath(plain)).toBe(plain);
    const lookalike = ['', 'x', 'my.app.asar', 'vec0.so'].join(sep);
    expect(unpackedPath(lookalike)).toBe(lookalike);
  });
});
