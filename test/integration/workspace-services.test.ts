// Issue 14.2: a workspace owns its services. Two workspaces open in one process share no limiter, replica
// pool, call in flight, cache, text tower, in-memory gallery or LanceDB table; a closed workspace leaves no
// probe timer, encoder process or open LanceDB table behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { upsertEndpoint } from '../../src/main/db/repos/llm';
import { createLlmClient } from '../../src/main/llm/client';
import { endpointReplicas } from '../../src/main/llm/endpoints';
import { endpointKey } from '../../src/main/llm/runtime';
import { registerModel, resolveModelRow } from '../../src/main/ml/models';
import { loadIndex, searchByVector } from '../../src/main/search';
import { lanceStoreFor } from '../../src/main/search/store-search';
import { writeToyClipFolder } from '../../src/main/synth/toy-clip/folder';
import { openWorkspace, type Workspace } from '../../src/main/workspace';
import { startFakeOpenAi, type FakeOpenAi } from '../fixtures/fake-openai';

process.env.CTGI_ORT_PROVIDER = 'cpu';

let dir: string;
let fake: FakeOpenAi;
const open: Workspace[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-services-'));
  fake = await startFakeOpenAi({ latencyMs: 60 });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function workspace(name: string): Workspace {
  const ws = openWorkspace(join(dir, `${name}.sqlite`), { resumeJobs: false });
  open.push(ws);
  return ws;
}

/** The same profile saved in a workspace: same name, same server (`replicas` adds more). */
function saveShared(ws: Workspace, replicas: { baseUrl: string; concurrency: number }[] = []) {
  return upsertEndpoint(ws.db, {
    name: 'shared',
    baseUrl: fake.url,
    model: 'fake-vl',
    role: 'both',
    temperature: 0,
    maxTokens: 16,
    concurrency: 1,
    requestsPerMinute: null,
    timeoutMs: 5000,
    keyRef: { kind: 'none' },
    replicas,
  });
}

const ask = (text: string) => ({ purpose: 'test', messages: [{ role: 'user' as const, content: text }] });

/** Process ids of this process's children (Linux: /proc). */
function childPids(): number[] {
  const tasks = '/proc/self/task';
  return readdirSync(tasks).flatMap((t) =>
    readFileSync(join(tasks, t, 'children'), 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number),
  );
}

describe('a workspace owns its services', () => {
  it('two workspaces with an endpoint of the same name share no limiter, pool or cache', async () => {
    const a = workspace('a');
    const b = workspace('b');
    const epA = saveShared(a);
    const epB = saveShared(b);
    const clientA = createLlmClient(a.db, epA, a.services.keys, { runtime: a.services.llm });
    const clientB = createLlmClient(b.db, epB, b.services.keys, { runtime: b.services.llm });
    fake.maxInFlight = 0;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? clientA : clientB).chat(ask(`separate ${i}`))),
    );
    // Each workspace keeps its own bound of 1; one limiter shared by name would have kept it at 1 overall.
    expect(fake.maxInFlight).toBe(2);
    // Within one workspace the bound is shared by its clients.
    fake.maxInFlight = 0;
    const again = createLlmClient(a.db, epA, a.services.keys, { runtime: a.services.llm });
    await Promise.all(
      Array.from({ length: 4 }, (_, i) => (i % 2 ? clientA : again).chat(ask(`together ${i}`))),
    );
    expect(fake.maxInFlight).toBe(1);

    const key = endpointKey(epA);
    expect(a.services.llm.existingPool(key)).toBeDefined();
    expect(a.services.llm.existingPool(key)).not.toBe(b.services.llm.existingPool(key));
    const c = workspace('c');
    saveShared(c);
    // A workspace that never called the endpoint has no live figures for it, whatever another one did.
    expect(endpointReplicas(c.db, 'shared', c.services.llm)[0]!.healthy).toBeNull();
    expect(endpointReplicas(a.db, 'shared', a.services.llm)[0]!.healthy).toBe(true);
    expect(a.services.media).not.toBe(b.services.media);
    expect(a.services.encoders).not.toBe(b.services.encoders);
    expect(a.services.vectors).not.toBe(b.services.vectors);
    expect(a.services.llm.learnedParams).not.toBe(b.services.llm.learnedParams);
  });

  it('two workspaces on one file share no text tower, gallery or LanceDB table, and close apart', async () => {
    const a = workspace('one-file');
    const clip = await writeToyClipFolder(join(dir, 'toy-clip-shared'));
    const model = await registerModel(a.db, clip.dir, 'toy');
    const dim = resolveModelRow(a.db, model.id).embedding_dim;
    a.db
      .prepare(
        `INSERT INTO datasets (id, name, format, root, status, created_at) VALUES (1, 'ds', 'folder', '/d', 'ready', 0)`,
      )
      .run();
    const image = a.db.prepare(
      `INSERT INTO images (dataset_id, rel_path, sha256, width, height, bytes, format, created_at)
       VALUES (1, ?, 'x', 64, 128, 1, 'png', 0)`,
    );
    const vector = a.db.prepare(
      `INSERT INTO embeddings (model_id, image_id, vector, created_at) VALUES (?, ?, ?, 0)`,
    );
    for (let i = 0; i < 5; i++) {
      const id = Number(image.run(`${i}.png`).lastInsertRowid);
      const v = Float32Array.from({ length: dim }, (_, d) => (d === i ? 1 : 0.01));
      vector.run(model.id, id, Buffer.from(v.buffer));
    }
    const b = workspace('one-file');

    const towerA = await a.services.encoders.get(resolveModelRow(a.db, model.id));
    const towerB = await b.services.encoders.get(resolveModelRow(b.db, model.id));
    expect(towerB).not.toBe(towerA);
    expect(towerB.encoder).not.toBe(towerA.encoder);
    const galleryA = loadIndex(a.services.vectors, model.id);
    // b has loaded nothing: a's gallery is not found through b.
    expect(b.services.vectors.indexes.size).toBe(0);
    const galleryB = loadIndex(b.services.vectors, model.id);
    expect(galleryB).not.toBe(galleryA);
    expect([...galleryB.imageIds]).toEqual([...galleryA.imageIds]);
    const tableA = await lanceStoreFor(a.services.vectors, model.id);
    const tableB = await lanceStoreFor(b.services.vectors, model.id);
    expect(tableB).not.toBe(tableA);

    open.splice(open.indexOf(a), 1);
    await a.close();
    expect(towerA.encoder.alive).toBe(false);
    expect(a.services.vectors.indexes.size).toBe(0);
    await expect(tableA.count()).rejects.toThrow();
    // b's tower, gallery and table are untouched by a's close.
    expect(towerB.encoder.alive).toBe(true);
    expect(loadIndex(b.services.vectors, model.id)).toBe(galleryB);
    expect(await tableB.count()).toBe(5);
    const q = Float32Array.from({ length: dim }, (_, d) => (d === 3 ? 1 : 0));
    expect(searchByVector(b.services.vectors, model.id, q, { k: 1 })[0]!.imageId).toBe(galleryB.imageIds[3]);
  });

  it('the key store is the one the workspace was opened with', async () => {
    const sealed = {
      available: true,
      get: () => Promise.resolve('sk-x'),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    };
    const app = openWorkspace(':memory:', { resumeJobs: false, keyStore: sealed });
    open.push(app);
    const cli = workspace('cli');
    expect(app.services.keys).toBe(sealed);
    expect(cli.services.keys.available).toBe(false);
  });

  it('closing cancels calls in flight and stops replica probes', async () => {
    const ws = workspace('probes');
    // The second server refuses connections: the pool takes it out and probes it again on a timer.
    const ep = saveShared(ws, [{ baseUrl: 'http://127.0.0.1:9/v1', concurrency: 1 }]);
    const client = createLlmClient(ws.db, ep, ws.services.keys, {
      runtime: ws.services.llm,
      retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    await Promise.all([client.chat(ask('one')), client.chat(ask('two'))]);
    const pool = ws.services.llm.existingPool(endpointKey(ep))!;
    expect(pool.healthyCount).toBe(1);
    expect(pool.pendingProbes).toBe(1);

    fake.onChat = () => ({ hang: true });
    const failed = client.chat({ ...ask('held'), fresh: true }).then(
      () => null,
      (e: unknown) => e,
    );
    await expect.poll(() => ws.services.llm.sizes.inFlight).toBe(1);
    open.splice(open.indexOf(ws), 1);
    await ws.close();
    fake.onChat = null;
    expect(await failed).toBeInstanceOf(Error);
    expect(pool.pendingProbes).toBe(0);
    expect(ws.services.llm.sizes).toEqual({ limiters: 0, pools: 0, inFlight: 0, probeTimers: 0 });
    // A closed workspace makes no new client.
    expect(() => createLlmClient(ws.db, ep, ws.services.keys, { runtime: ws.services.llm })).toThrow(
      /workspace is closing/,
    );
  });

  it('closing refuses the calls still waiting for their turn under a rate limit', async () => {
    const ws = workspace('rpm');
    // One request a minute: the first goes at once, the second waits a minute on a timer.
    const ep = upsertEndpoint(ws.db, { ...saveShared(ws), name: 'slow', requestsPerMinute: 1 });
    const client = createLlmClient(ws.db, ep, ws.services.keys, { runtime: ws.services.llm });
    await client.chat(ask('first'));
    const waiting = client.chat(ask('second')).then(
      () => null,
      (e: unknown) => e,
    );
    // The same for work queued on a limiter directly (not a deduplicated call, which is cancelled anyway).
    const limiter = ws.services.llm.limiterFor('direct', 1, 1);
    await limiter.run(() => Promise.resolve(1));
    const queued = limiter
      .run(() => Promise.resolve(2))
      .then(
        () => null,
        (e: unknown) => e,
      );
    open.splice(open.indexOf(ws), 1);
    await ws.close();
    expect(await queued).toBeInstanceOf(Error);
    // Settles now (the test would time out after a minute otherwise): refused, not sent.
    expect(await waiting).toBeInstanceOf(Error);
    expect(fake.chats.filter((c) => JSON.stringify(c.body).includes('second'))).toHaveLength(0);
  });

  it.runIf(existsSync('/proc/self/task'))(
    'closing ends the text encoder processes and closes the LanceDB tables',
    async () => {
      const ws = workspace('towers');
      const clip = await writeToyClipFolder(join(dir, 'toy-clip'));
      const model = await registerModel(ws.db, clip.dir, 'toy');
      const before = new Set(childPids());
      const tower = await ws.services.encoders.get(resolveModelRow(ws.db, model.id));
      const spawned = childPids().filter((p) => !before.has(p));
      expect(spawned.length).toBeGreaterThan(0);
      expect(tower.encoder.alive).toBe(true);
      const table = await lanceStoreFor(ws.services.vectors, model.id);
      expect(await table.count()).toBe(0);

      open.splice(open.indexOf(ws), 1);
      await ws.close();
      expect(tower.encoder.alive).toBe(false);
      await expect
        .poll(() => childPids().filter((p) => spawned.includes(p)), { timeout: 10_000 })
        .toEqual([]);
      await expect(table.count()).rejects.toThrow();
    },
  );
});
