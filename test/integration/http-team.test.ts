// A review team on one server (issue 13.1): named users with their own links, roles, revocation at the
// next request on every route the server has, the audit trail naming the signed-in user, rate limits.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelsAbove } from '#shared/access';
import type { ApiResult } from '#shared/contract';
import type { ReviewHistoryEntry, ReviewItem } from '#shared/review/types';
import { asDatasetId, type CaptionId, type ImageId } from '#shared/ids';
import { mediaKeyFor, signedMediaUrl } from '#shared/media-url';
import type { Caller, TeamUser } from '#shared/team/types';
import {
  HTTP_ROUTES,
  REVOKED_MESSAGE,
  startHttpServer,
  type HttpRoute,
  type RunningHttpServer,
} from '../../src/main/api/http';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { insertCaption, insertImage } from '../../src/main/db/repos/images';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

let dir: string;
let ws: Workspace;
let server: RunningHttpServer;
let base: string;
let imageId: ImageId;
const captions: CaptionId[] = [];

async function call<T = unknown>(
  channel: string,
  arg: unknown,
  token: string = server.token,
): Promise<{ status: number; body: ApiResult<T> }> {
  const res = await fetch(`${base}/api/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ctgi-token': token },
    body: JSON.stringify(arg),
  });
  return { status: res.status, body: (await res.json()) as ApiResult<T> };
}

async function value<T>(channel: string, arg: unknown, token?: string): Promise<T> {
  const r = await call<T>(channel, arg, token);
  if (!r.body.ok) throw new Error(`${channel}: ${r.status} ${r.body.error.message}`);
  return r.body.value;
}

const addUser = (name: string, role: string): Promise<{ user: TeamUser; token: string }> =>
  value('users:add', { name, role });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-team-'));
  const web = join(dir, 'web');
  mkdirSync(web);
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>CTGI Studio</title>');
  ws = openWorkspace(join(dir, 'ws.sqlite'), { resumeJobs: false });
  const root = join(dir, 'people');
  mkdirSync(root);
  const datasetId = insertDataset(ws.db, { name: 'people', format: 'folder', root, annotationFile: null });
  updateDatasetStatus(ws.db, datasetId, 'ready');
  imageId = insertImage(ws.db, {
    datasetId: asDatasetId(datasetId),
    relPath: 'a.jpg',
    sha256: 'a'.repeat(64),
    width: 64,
    height: 128,
    bytes: 100,
    format: 'jpeg',
    identityId: null,
    camera: null,
    split: null,
  });
  for (let i = 0; i < 6; i++)
    captions.push(insertCaption(ws.db, { imageId, source: 'mtg', text: `caption ${i}`, status: 'pending' }));
});

beforeAll(async () => {
  server = await startHttpServer(ws, {
    staticDir: join(dir, 'web'),
    heartbeatMs: 50,
    rateLimits: { 'mti:start': { max: 2, windowMs: 60_000 } },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * One request per route of the server's own table, presenting `token`. A Record over the route names:
 * a new route does not compile here until it has a request, so it cannot miss the revocation test.
 */
const requestFor: Record<HttpRoute['name'], (token: string) => Promise<Response>> = {
  events: async (token) => {
    const ac = new AbortController();
    const res = await fetch(`${base}/api/events`, { headers: { 'x-ctgi-token': token }, signal: ac.signal });
    if (res.status !== 200) return res;
    ac.abort(); // an open stream never ends on its own
    return new Response('stream open', { status: 200 });
  },
  api: (token) =>
    fetch(`${base}/api/session:whoami`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ctgi-token': token },
      body: '{}',
    }),
  media: (token) => fetch(`${base}/media/images/${imageId}/thumb`, { headers: { 'x-ctgi-token': token } }),
  static: (token) => fetch(`${base}/`, { headers: { 'x-ctgi-token': token } }),
};

describe('people and roles on a shared server', () => {
  it('gives each person a link of their own; the page learns who it is signed in as', async () => {
    const { user, token } = await addUser('Alice', 'reviewer');
    expect(user).toMatchObject({ name: 'Alice', role: 'reviewer', revokedAt: null });
    expect(token).not.toBe(server.token);
    expect(await value<Caller>('session:whoami', {}, token)).toEqual({
      kind: 'user',
      name: 'Alice',
      role: 'reviewer',
    });
    expect(await value<Caller>('session:whoami', {})).toMatchObject({ kind: 'owner', role: 'admin' });
    // Only the hash is kept.
    const stored = ws.db.prepare(`SELECT token_hash FROM users WHERE name = 'Alice'`).get() as {
      token_hash: string;
    };
    expect(stored.token_hash).not.toContain(token);
    const dup = await call('users:add', { name: 'alice', role: 'annotator' });
    expect(dup.status).toBe(409);
  });

  it('refuses a revoked link at the next request, on every route the server has', async () => {
    const { token } = await addUser('Rex', 'annotator');
    // Before: every route that needs a credential lets Rex in.
    for (const route of HTTP_ROUTES) {
      const res = await requestFor[route.name](token);
      expect(res.status, `${route.name} before revocation`).not.toBe(401);
    }
    // Rex's page signs image URLs with the key from his token (shared/media-url.ts).
    const signed = `${base}${signedMediaUrl(mediaKeyFor(token), imageId, 'thumb', Date.now())}`;
    expect((await fetch(signed)).status).not.toBe(401);

    expect(await value('users:revoke', { name: 'Rex' })).toEqual({ revoked: true });

    for (const route of HTTP_ROUTES) {
      const res = await requestFor[route.name](token);
      if (route.access === 'public') {
        // The page itself holds no data: it loads for anyone, and then shows the login page.
        expect(res.status, route.name).toBe(200);
        continue;
      }
      expect(res.status, `${route.name} after revocation`).toBe(401);
      expect(await res.text()).toContain('revoked');
    }
    expect((await fetch(signed)).status).toBe(401);
    const users = await value<TeamUser[]>('users:list', {});
    expect(users.find((u) => u.name === 'Rex')?.revokedAt).toBeGreaterThan(0);
    expect(REVOKED_MESSAGE).toMatch(/ask them for a new one/);
  });

  it('ends the event stream of a revoked user at the next heartbeat', async () => {
    const { token } = await addUser('Stream', 'annotator');
    const res = await fetch(`${base}/api/events`, { headers: { 'x-ctgi-token': token } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await value('users:revoke', { name: 'Stream' });
    const ended = (async (): Promise<boolean> => {
      try {
        for (;;) if ((await reader.read()).done) return true;
      } catch {
        return true;
      }
    })();
    expect(await ended).toBe(true);
  });

  it('keeps a reviewer out of every admin call, and an annotator out of reviewer calls', async () => {
    const { token: reviewer } = await addUser('Rita', 'reviewer');
    const { token: annotator } = await addUser('Ann', 'annotator');
    const before = (await value<TeamUser[]>('users:list', {})).length;
    const adminOnly = channelsAbove('reviewer');
    expect(adminOnly).toEqual(expect.arrayContaining(['users:add', 'users:revoke', 'users:list']));
    for (const channel of adminOnly) {
      const r = await call(channel, { name: 'Mallory', role: 'admin' }, reviewer);
      expect(r.status, channel).toBe(403);
      expect(r.body.ok ? '' : r.body.error.message).toMatch(/for an admin.*Rita \(reviewer\)/);
    }
    for (const channel of channelsAbove('annotator')) {
      expect((await call(channel, {}, annotator)).status, channel).toBe(403);
    }
    // Nothing changed: no user was made.
    expect((await value<TeamUser[]>('users:list', {})).length).toBe(before);
  });

  it('records the signed-in user in the audit trail, never the name the page typed', async () => {
    const { token } = await addUser('Bea', 'annotator');
    const id = captions[0]!;
    const item = await value<ReviewItem>('review:item', { captionId: id }, token);
    await value(
      'review:decide',
      { captionId: id, version: item.caption.version, decision: 'accept', reviewer: 'Somebody Else' },
      token,
    );
    const history = await value<ReviewHistoryEntry[]>('review:history', { captionId: id }, token);
    expect(history[0]).toMatchObject({ reviewer: 'Bea', action: 'accept' });
    // Undo is Bea's own last action, whatever name is typed.
    const undone = await value<{ undone: string | null }>('review:undo', { reviewer: 'owner' }, token);
    expect(undone.undone).toBe('Undid accept');
    // The owner at their own desk keeps the typed name (one person, no login).
    const again = await value<ReviewItem>('review:item', { captionId: id });
    await value('review:decide', {
      captionId: id,
      version: again.caption.version,
      decision: 'reject',
      reviewer: 'Lead',
    });
    const h2 = await value<ReviewHistoryEntry[]>('review:history', { captionId: id });
    expect(h2[0]).toMatchObject({ reviewer: 'Lead', action: 'reject' });
    // Admin actions are audited too.
    const audit = ws.db.prepare(`SELECT actor, action, target FROM admin_audit ORDER BY id`).all();
    expect(audit).toContainEqual({ actor: 'owner', action: 'revoke', target: 'Rex' });
    expect(audit).toContainEqual({ actor: 'owner', action: 'add annotator', target: 'Bea' });
  });

  it('holds a leased caption for its holder: another user deciding it gets a conflict', async () => {
    const { token: carl } = await addUser('Carl', 'annotator');
    const { token: dora } = await addUser('Dora', 'annotator');
    const pulled = await value<{ captionIds: CaptionId[] }>('review:pull', { size: 2 }, carl);
    expect(pulled.captionIds).toHaveLength(2);
    const leased = pulled.captionIds[0]!;
    const item = await value<ReviewItem>('review:item', { captionId: leased }, dora);
    const r = await call(
      'review:decide',
      { captionId: leased, version: item.caption.version, decision: 'accept' },
      dora,
    );
    expect(r.status).toBe(409);
    expect(r.body.ok ? '' : r.body.error.message).toMatch(/Carl is reviewing this caption/);
    const doras = await value<{ captionIds: CaptionId[] }>('review:pull', { size: 10 }, dora);
    expect(doras.captionIds).not.toContain(leased);
    expect(await value('review:leases', { captionIds: [leased] }, dora)).toEqual([
      expect.objectContaining({ captionId: leased, holder: 'Carl' }),
    ]);
    // Carl decides it: the lease is handed back with the decision.
    await value(
      'review:decide',
      { captionId: leased, version: item.caption.version, decision: 'accept' },
      carl,
    );
    expect(await value('review:leases', { captionIds: [leased] }, dora)).toEqual([]);
    await value('review:release', {}, dora);
  });

  it('walks two people through the unreviewed queue on different captions: each one shown is leased', async () => {
    ws.db.prepare(`DELETE FROM review_leases`).run();
    const { token: fay } = await addUser('Fay', 'annotator');
    const { token: gus } = await addUser('Gus', 'annotator');
    const walk = { filter: { statuses: ['pending'] }, direction: 'next', unreviewed: true };
    const f1 = await value<ReviewItem | null>('review:neighbor', walk, fay);
    const g1 = await value<ReviewItem | null>('review:neighbor', walk, gus);
    expect(f1).not.toBeNull();
    expect(g1).not.toBeNull();
    expect(g1!.caption.id).not.toBe(f1!.caption.id);
    const leases = await value<unknown[]>(
      'review:leases',
      { captionIds: [f1!.caption.id, g1!.caption.id] },
      fay,
    );
    expect(leases).toHaveLength(2);
    expect(leases).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ captionId: f1!.caption.id, holder: 'Fay' }),
        expect.objectContaining({ captionId: g1!.caption.id, holder: 'Gus' }),
      ]),
    );
    // Fay's own lease does not block her: asking again from the start shows her the same caption.
    expect((await value<ReviewItem | null>('review:neighbor', walk, fay))!.caption.id).toBe(f1!.caption.id);
    await value('review:release', {}, fay);
    await value('review:release', {}, gus);
  });

  it('takes back a blind vote on the double-review share with undo, while nobody voted second', async () => {
    const { token } = await addUser('Hal', 'annotator');
    await value('team:setShare', { share: 1 });
    try {
      const pending = await value<{ captionIds: CaptionId[] }>('review:pull', { size: 1 }, token);
      const id = pending.captionIds[0]!;
      const item = await value<ReviewItem>('review:item', { captionId: id }, token);
      const voted = await value<ReviewItem>(
        'review:decide',
        { captionId: id, version: item.caption.version, decision: 'reject' },
        token,
      );
      // A blind vote: the caption stays pending for a second person.
      expect(voted.caption.status).toBe('pending');
      expect(ws.db.prepare(`SELECT count(*) AS n FROM review_votes WHERE caption_id = ?`).get(id)).toEqual({
        n: 1,
      });
      const undone = await value<{ undone: string | null }>('review:undo', {}, token);
      expect(undone.undone).toBe('Took back your blind vote');
      expect(ws.db.prepare(`SELECT count(*) AS n FROM review_votes WHERE caption_id = ?`).get(id)).toEqual({
        n: 0,
      });
    } finally {
      await value('team:setShare', { share: 0 });
    }
  });

  it('limits how many expensive starts one user makes, and says when to try again', async () => {
    const { token } = await addUser('Eve', 'annotator');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('mti:start', { query: 'a man' }, token)).status);
    expect(statuses[0]).not.toBe(429);
    expect(statuses[1]).not.toBe(429);
    expect(statuses[2]).toBe(429);
    const limited = await call('mti:start', { query: 'a man' }, token);
    expect(limited.body.ok ? '' : limited.body.error.message).toMatch(/try again in \d+ s/);
    // The owner is not limited.
    for (let i = 0; i < 3; i++) expect((await call('mti:start', { query: 'a man' })).status).not.toBe(429);
  });
});
