// Issue 12.8: whoever holds the server's token must not be able to send the host's secrets to a URL of
// their choosing (save an endpoint whose key is any 0600 file or environment variable, then probe it).
// Over the API a key reference may only name what was set up for keys; the local CLI keeps full freedom.
// The "attacker" is a real HTTP server on loopback that records every Authorization header it receives.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KeyRef } from '#shared/llm/types';
import { createHandlers, dispatch, type Handlers } from '../../src/main/api/handlers';
import { main } from '../../src/main/cli';
import { getEndpointByName } from '../../src/main/db/repos/llm';
import type { KeyStore } from '../../src/main/llm/keys';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

const HOST_SECRET = 'AKIA-HOST-SECRET-never-leaves-0123456789';
const FILE_SECRET = 'ssh-HOST-FILE-SECRET-0123456789';
const KEY_IN_FOLDER = 'sk-in-the-key-folder-0123456789';
const KEY_IN_ENV = 'sk-in-CTGI_KEY_-variable-0123456789';
const KEY_IN_STORE = 'sk-in-the-encrypted-store-0123456789';

let dir: string;
let keyDir: string;
let attacker: { url: string; seen: string[]; server: Server };
let ws: Workspace;
let h: Handlers;
const saved = { env: { ...process.env } };

async function listen(): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '(no authorization)'}`);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"nothing here"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen, server };
}

const profile = (keyRef: KeyRef, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'exfil',
  baseUrl: attacker.url,
  model: 'm',
  keyRef,
  ...extra,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-keys-'));
  keyDir = join(dir, 'keys');
  mkdirSync(keyDir, { mode: 0o700 });
  writeFileSync(join(dir, 'id_rsa'), FILE_SECRET, { mode: 0o600 });
  writeFileSync(join(keyDir, 'openai.key'), KEY_IN_FOLDER, { mode: 0o600 });
  chmodSync(join(keyDir, 'openai.key'), 0o600);
  // A link inside the key folder to a host secret outside it.
  symlinkSync(join(dir, 'id_rsa'), join(keyDir, 'innocent.key'));
  process.env.CTGI_KEY_DIR = keyDir;
  process.env.AWS_SECRET_ACCESS_KEY = HOST_SECRET;
  process.env.CTGI_KEY_TEST = KEY_IN_ENV;
  attacker = await listen();
});

afterEach(async () => {
  await ws?.close();
});

afterAll(async () => {
  process.env = saved.env;
  await new Promise((r) => attacker.server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function open(file = ':memory:', keyStore?: KeyStore): void {
  ws = openWorkspace(file, { resumeJobs: false, keyStore });
  h = createHandlers(ws);
}

describe('key references set over the API (12.8)', () => {
  it('refuses any other environment variable or file, says how to set it locally, and sends nothing', async () => {
    open();
    const refused: KeyRef[] = [
      { kind: 'env', name: 'AWS_SECRET_ACCESS_KEY' },
      { kind: 'env', name: 'PATH' },
      { kind: 'env', name: 'OPENAI_API_KEY' },
      { kind: 'file', path: join(dir, 'id_rsa') },
      { kind: 'file', path: join(keyDir, 'innocent.key') },
      { kind: 'file', path: join(keyDir, '..', 'id_rsa') },
      { kind: 'file', path: '../id_rsa' },
      { kind: 'file', path: join(keyDir, 'missing.key') },
    ];
    for (const keyRef of refused) {
      const r = await dispatch(h, 'endpoints:save', profile(keyRef));
      expect(r, JSON.stringify(keyRef)).toMatchObject({
        ok: false,
        error: { code: 'forbidden', message: expect.stringContaining('ctgi endpoints --save exfil') },
      });
      expect(getEndpointByName(ws.db, 'exfil')).toBeUndefined();
      expect(await dispatch(h, 'endpoints:probe', { name: 'exfil' })).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
    }
    const env = await dispatch(h, 'endpoints:save', profile({ kind: 'env', name: 'AWS_SECRET_ACCESS_KEY' }));
    expect(!env.ok && env.error.message).toContain('CTGI_KEY_');
    const file = await dispatch(h, 'endpoints:save', profile({ kind: 'file', path: join(dir, 'id_rsa') }));
    expect(!file.ok && file.error.message).toContain(keyDir);
    expect(attacker.seen.join('\n')).not.toContain('SECRET');
  });

  it('accepts the encrypted key store, CTGI_KEY_ variables and files in the key folder', async () => {
    const secrets = new Map<string, string>([['stored', KEY_IN_STORE]]);
    const store: KeyStore = {
      available: true,
      get: (id) => Promise.resolve(secrets.get(id) ?? null),
      set: (id, s) => Promise.resolve(void secrets.set(id, s)),
      delete: (id) => Promise.resolve(void secrets.delete(id)),
    };
    open(':memory:', store);
    const allowed: [KeyRef, string][] = [
      [{ kind: 'safe-storage', id: 'stored' }, KEY_IN_STORE],
      [{ kind: 'env', name: 'CTGI_KEY_TEST' }, KEY_IN_ENV],
      [{ kind: 'file', path: join(keyDir, 'openai.key') }, KEY_IN_FOLDER],
    ];
    for (const [keyRef, key] of allowed) {
      const r = await dispatch(h, 'endpoints:save', profile(keyRef));
      expect(r, JSON.stringify(keyRef)).toMatchObject({ ok: true, value: { keyRef } });
      await dispatch(h, 'endpoints:probe', { name: 'exfil' });
      // These keys were set up for the app's endpoints: the probe uses them where the user pointed it.
      expect(attacker.seen.join('\n')).toContain(`Bearer ${key}`);
    }
    // A bare file name means a file in the key folder, and is stored as its full path.
    const bare = await dispatch(h, 'endpoints:save', profile({ kind: 'file', path: 'openai.key' }));
    expect(bare).toMatchObject({
      ok: true,
      value: { keyRef: { kind: 'file', path: join(keyDir, 'openai.key') } },
    });
  });

  it('refuses pointing a locally set key at another base URL, unless the key reference is replaced too', async () => {
    const file = join(dir, 'cli.sqlite');
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    // The local user may point at any file or variable.
    const code = await main(
      [
        'endpoints',
        '--workspace',
        file,
        '--save',
        'prod',
        '--base-url',
        'https://api.openai.com/v1',
        '--model',
        'gpt-4o',
        '--key-file',
        join(dir, 'id_rsa'),
      ],
      io,
    );
    expect(code, out.join('\n')).toBe(0);
    open(file);
    const local = getEndpointByName(ws.db, 'prod')!;
    expect(local.keyRef).toEqual({ kind: 'file', path: join(dir, 'id_rsa') });
    const asSaved = {
      name: 'prod',
      baseUrl: local.baseUrl,
      model: local.model,
      keyRef: local.keyRef,
    };

    // Editing anything but the base URL from the browser keeps the local key (the form sends it back).
    expect(await dispatch(h, 'endpoints:save', { ...asSaved, concurrency: 2 })).toMatchObject({
      ok: true,
      value: { concurrency: 2, keyRef: local.keyRef },
    });
    const moved = await dispatch(h, 'endpoints:save', { ...asSaved, baseUrl: attacker.url });
    expect(moved).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining('ctgi endpoints --save prod') },
    });
    expect(getEndpointByName(ws.db, 'prod')).toMatchObject({ baseUrl: 'https://api.openai.com/v1' });
    // A replica receives the key too: adding one from the browser is the same leak.
    const replica = await dispatch(h, 'endpoints:save', {
      ...asSaved,
      replicas: [{ baseUrl: attacker.url, concurrency: 4 }],
    });
    expect(replica).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining(`--replica ${attacker.url}`) },
    });
    expect(getEndpointByName(ws.db, 'prod')).toMatchObject({ replicas: [] });
    // A new base URL with a key reference the API may set is fine: the local key no longer travels.
    expect(
      await dispatch(h, 'endpoints:save', { ...asSaved, baseUrl: attacker.url, keyRef: { kind: 'none' } }),
    ).toMatchObject({ ok: true, value: { baseUrl: attacker.url, keyRef: { kind: 'none' } } });
    await dispatch(h, 'endpoints:probe', { name: 'prod' });
    expect(attacker.seen.join('\n')).not.toContain('SECRET');
  });
});
