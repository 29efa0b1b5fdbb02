// Read and write handles (db/types.ts): the types keep a read path from writing (checked by tsc, which
// type-checks this file with the rest of test/), the workspace's reader refuses writes at run time, every
// repo function that writes asks for the read-write handle, and the workspace closes both connections.
import type Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { insertDataset, listDatasets } from '../../src/main/db/repos/datasets';
import type { ReadableDb, WritableDb } from '../../src/main/db/types';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

const dirs: string[] = [];
const opened: Workspace[] = [];
afterEach(async () => {
  for (const ws of opened.splice(0)) await ws.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fileWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'ctgi-handles-'));
  dirs.push(dir);
  const ws = openWorkspace(join(dir, 'w.sqlite'), { resumeJobs: false });
  opened.push(ws);
  return ws;
}

const newDataset = { name: 'd', format: 'folder' as const, root: '/data', annotationFile: null };

describe('handle types', () => {
  it('a writable handle reads; a readable one cannot be passed where a write needs the writable', () => {
    expectTypeOf<WritableDb>().toMatchTypeOf<ReadableDb>();
    expectTypeOf<ReadableDb>().not.toMatchTypeOf<WritableDb>();
    expectTypeOf<Database.Database>().not.toMatchTypeOf<WritableDb>();
    expectTypeOf(insertDataset).parameter(0).toEqualTypeOf<WritableDb>();
    expectTypeOf(listDatasets).parameter(0).toEqualTypeOf<ReadableDb>();
    // Compiled, never run: tsc fails this file if any of these lines type-checks.
    const misuse = (reader: ReadableDb, raw: Database.Database): void => {
      // @ts-expect-error a read handle cannot insert
      insertDataset(reader, newDataset);
      // @ts-expect-error nor open a transaction
      reader.transaction(() => undefined);
      // @ts-expect-error nor run a script
      reader.exec('DELETE FROM datasets');
      // @ts-expect-error a connection nobody marked is neither
      insertDataset(raw, newDataset);
    };
    expect(typeof misuse).toBe('function');
  });
});

describe('the workspace reader', () => {
  it('is a second, read-only connection that sees what the writer committed', () => {
    const ws = fileWorkspace();
    expect(ws.reader).not.toBe(ws.db);
    expect(ws.reader.readonly).toBe(true);
    expect(ws.db.readonly).toBe(false);
    expect(listDatasets(ws.reader)).toEqual([]);
    const id = insertDataset(ws.db, newDataset);
    expect(listDatasets(ws.reader).map((d) => d.id)).toEqual([id]);
  });

  it('refuses a write at run time, even one smuggled past the types', () => {
    const ws = fileWorkspace();
    const smuggled = ws.reader as unknown as WritableDb;
    expect(() => insertDataset(smuggled, newDataset)).toThrow(/readonly/i);
    expect(listDatasets(ws.db)).toEqual([]);
  });

  it('is the one connection of an in-memory workspace', async () => {
    const ws = openWorkspace(':memory:', { resumeJobs: false });
    expect(ws.reader).toBe(ws.db);
    await ws.close();
    expect(ws.db.open).toBe(false);
  });

  it('is closed with the workspace, after the services and before the writer', async () => {
    const ws = fileWorkspace();
    await ws.close();
    expect(ws.reader.open).toBe(false);
    expect(ws.db.open).toBe(false);
  });
});

describe('repo annotations', () => {
  // The classification the handle types rest on, kept honest: a repo function whose own text writes (or
  // opens a transaction) must ask for the writable handle. Reads that call a writing helper are caught by
  // tsc instead (a ReadableDb cannot be passed on to it).
  const WRITES = /\b(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\s|\.transaction\(|\.exec\(/;
  const repoDir = join(__dirname, '../../src/main/db/repos');
  const files = readdirSync(repoDir).filter((f) => f.endsWith('.ts'));

  it('every repo function takes a ReadableDb or a WritableDb, and each one that writes a WritableDb', () => {
    const wrong: string[] = [];
    let functions = 0;
    for (const f of files) {
      const src = readFileSync(join(repoDir, f), 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      const starts = [...src.matchAll(/^(?:export )?(?:function (\w+)|const (\w+) =)/gm)];
      starts.forEach((m, i) => {
        const body = src.slice(m.index, starts[i + 1]?.index ?? src.length);
        const handle = /\bdb: (\w+)/.exec(body.slice(0, 300))?.[1];
        if (!handle) return;
        functions++;
        const name = `${f}:${m[1] ?? m[2]}`;
        if (handle !== 'ReadableDb' && handle !== 'WritableDb') wrong.push(`${name} takes ${handle}`);
        else if (WRITES.test(body) && handle !== 'WritableDb')
          wrong.push(`${name} writes through a ${handle}`);
      });
    }
    expect(wrong).toEqual([]);
    expect(functions).toBeGreaterThan(200);
  });
});
