// Ten reviewers on one queue over HTTP (issue 13.2): each pulls leased batches and decides them, all at
// once; every caption is decided exactly once, by the person it was leased to, with no conflict and no
// lost update. Lease expiry and renewal are checked on the clock (leases take `now`).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult } from '#shared/contract';
import type { ReviewItem } from '#shared/review/types';
import { asDatasetId, type CaptionId } from '#shared/ids';
import { startHttpServer, type RunningHttpServer } from '../../src/main/api/http';
import { insertDataset, updateDatasetStatus } from '../../src/main/db/repos/datasets';
import { insertCaption, insertImage } from '../../src/main/db/repos/images';
import { LEASE_MS, listLeases, pullBatch, releaseLeases, renewLeases } from '../../src/main/team/leases';
import { addUser } from '../../src/main/team/users';
import { cohenKappa, inDoubleShare, type Vote } from '../../src/main/team/agreement';
import { openWorkspace, type Workspace } from '../../src/main/workspace';

const REVIEWERS = 10;
const CAPTIONS = 120;

let dir: string;
let ws: Workspace;
let server: RunningHttpServer;
const captions: CaptionId[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctgi-review-team-'));
  mkdirSync(join(dir, 'people'));
  ws = openWorkspace(join(dir, 'ws.sqlite'), { resumeJobs: false });
  const datasetId = insertDataset(ws.db, {
    name: 'people',
    format: 'folder',
    root: join(dir, 'people'),
    annotationFile: null,
  });
  updateDatasetStatus(ws.db, datasetId, 'ready');
  for (let i = 0; i < CAPTIONS; i++) {
    const imageId = insertImage(ws.db, {
      datasetId: asDatasetId(datasetId),
      relPath: `p${i}.jpg`,
      sha256: i.toString(16).padStart(64, '0'),
      width: 64,
      height: 128,
      bytes: 100,
      format: 'jpeg',
      identityId: null,
      camera: null,
      split: null,
    });
    captions.push(insertCaption(ws.db, { imageId, source: 'mtg', text: `person ${i}`, status: 'pending' }));
  }
  server = await startHttpServer(ws, { staticDir: null });
});

afterAll(async () => {
  await server?.close();
  await ws?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call<T>(token: string, channel: string, arg: unknown): Promise<ApiResult<T>> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ctgi-token': token },
    body: JSON.stringify(arg),
  });
  return (await res.json()) as ApiResult<T>;
}

describe('a team on one queue', () => {
  it(`${REVIEWERS} reviewers pulling leased batches decide every caption exactly once`, async () => {
    const people = Array.from({ length: REVIEWERS }, (_, i) =>
      addUser(ws.db, `reviewer ${i}`, 'annotator', 'test'),
    );
    const conflicts: string[] = [];
    const decidedBy = new Map<number, string[]>();
    const work = async (name: string, token: string, n: number): Promise<void> => {
      for (;;) {
        const pulled = await call<{ captionIds: CaptionId[] }>(token, 'review:pull', { size: 3 });
        if (!pulled.ok) throw new Error(pulled.error.message);
        if (pulled.value.captionIds.length === 0) return;
        for (const [k, id] of pulled.value.captionIds.entries()) {
          const item = await call<ReviewItem>(token, 'review:item', { captionId: id });
          if (!item.ok) throw new Error(item.error.message);
          const version = item.value.caption.version;
          const r =
            (n + k) % 3 === 2
              ? await call(token, 'review:edit', { captionId: id, version, text: `edited by ${name}` })
              : await call(token, 'review:decide', {
                  captionId: id,
                  version,
                  decision: (n + k) % 3 === 0 ? 'accept' : 'reject',
                });
          if (!r.ok) conflicts.push(`${name} on ${id}: ${r.error.message}`);
          else decidedBy.set(id, [...(decidedBy.get(id) ?? []), name]);
        }
      }
    };
    await Promise.all(people.map((p, n) => work(p.user.name, p.token, n)));

    expect(conflicts).toEqual([]);
    expect([...decidedBy.keys()].sort((a, b) => a - b)).toEqual(captions);
    for (const [id, names] of decidedBy) expect(names, `caption ${id}`).toHaveLength(1);
    // The audit trail agrees: one decision per caption, under the name of the person who held it.
    const rows = ws.db
      .prepare(
        `SELECT caption_id, reviewer, count(*) AS n FROM reviews GROUP BY caption_id ORDER BY caption_id`,
      )
      .all() as { caption_id: number; reviewer: string; n: number }[];
    expect(rows).toHaveLength(CAPTIONS);
    for (const r of rows) {
      expect(r.n).toBe(1);
      expect(r.reviewer).toBe(decidedBy.get(r.caption_id)![0]);
    }
    // Nothing is left pending, nothing stays leased, and everyone got a share of the work.
    const pending = ws.db
      .prepare(`SELECT count(*) AS n FROM captions WHERE status = 'pending' AND is_current = 1`)
      .get() as {
      n: number;
    };
    expect(pending.n).toBe(0);
    expect(ws.db.prepare(`SELECT count(*) AS n FROM review_leases`).get()).toEqual({ n: 0 });
    const shares = new Set([...decidedBy.values()].map((v) => v[0]));
    expect(shares.size).toBeGreaterThan(1);
  });

  it('hands an idle lease back when it expires; renewing keeps it; release frees it at once', () => {
    const db = ws.db;
    ws.db.prepare(`UPDATE captions SET status = 'pending' WHERE id IN (?, ?)`).run(captions[0], captions[1]);
    const t0 = 1_000_000;
    const a = pullBatch(db, 'ann', {}, 1, t0);
    expect(a.captionIds).toHaveLength(1);
    const held = a.captionIds[0]!;
    // Ann's reload gets the same caption back; Bob gets the other one.
    expect(pullBatch(db, 'ann', {}, 1, t0 + 10).captionIds).toEqual([held]);
    const b = pullBatch(db, 'bob', {}, 2, t0 + 10);
    expect(b.captionIds).not.toContain(held);
    expect(b.captionIds).toHaveLength(1);
    // Ann keeps working (a renewal), so at the original expiry the caption is still hers.
    expect(renewLeases(db, 'ann', [held], t0 + LEASE_MS - 1).renewed).toBe(1);
    expect(pullBatch(db, 'cid', {}, 5, t0 + LEASE_MS + 1).captionIds).toEqual([]);
    // Then she goes idle: after the renewed expiry Cid may pull it.
    expect(pullBatch(db, 'cid', {}, 5, t0 + 2 * LEASE_MS + 1).captionIds).toEqual(
      [held, ...b.captionIds].sort((x, y) => x - y),
    );
    expect(renewLeases(db, 'ann', [held], t0 + 2 * LEASE_MS + 2).renewed).toBe(0);
    expect(releaseLeases(db, 'cid').released).toBe(2);
    expect(listLeases(db, [held], t0 + 2 * LEASE_MS + 3)).toEqual([]);
  });

  it('decides the double-review share twice, blind, and the rest once; κ and adjudication follow the votes', async () => {
    const SHARE = 0.25;
    const N = 80;
    const root = join(dir, 'double');
    mkdirSync(root);
    const datasetId = insertDataset(ws.db, { name: 'double', format: 'folder', root, annotationFile: null });
    updateDatasetStatus(ws.db, datasetId, 'ready');
    const ids: CaptionId[] = [];
    for (let i = 0; i < N; i++) {
      const imageId = insertImage(ws.db, {
        datasetId: asDatasetId(datasetId),
        relPath: `d${i}.jpg`,
        sha256: (i + 1_000_000).toString(16).padStart(64, '0'),
        width: 64,
        height: 128,
        bytes: 100,
        format: 'jpeg',
        identityId: null,
        camera: null,
        split: null,
      });
      ids.push(insertCaption(ws.db, { imageId, source: 'mtg', text: `double ${i}`, status: 'pending' }));
    }
    const owner = server.token;
    expect((await call(owner, 'team:setShare', { share: SHARE })).ok).toBe(true);
    const people = Array.from({ length: REVIEWERS }, (_, i) =>
      addUser(ws.db, `double ${i}`, i === 0 ? 'reviewer' : 'annotator', 'test'),
    );
    // Each person's answer is fixed by (person, caption), so some pairs disagree.
    const answer = (n: number, id: number): Vote => ((n * 7 + id * 3) % 5 === 0 ? 'reject' : 'accept');
    const filter = { datasetId };
    const errors: string[] = [];
    const work = async (n: number): Promise<void> => {
      const { token } = people[n]!;
      for (;;) {
        const pulled = await call<{ captionIds: CaptionId[] }>(token, 'review:pull', { filter, size: 2 });
        if (!pulled.ok) throw new Error(pulled.error.message);
        if (pulled.value.captionIds.length === 0) return;
        for (const id of pulled.value.captionIds) {
          const item = await call<ReviewItem>(token, 'review:item', { captionId: id });
          if (!item.ok) throw new Error(item.error.message);
          const r = await call(token, 'review:decide', {
            captionId: id,
            version: item.value.caption.version,
            decision: answer(n, id),
          });
          if (!r.ok) errors.push(`${n} on ${id}: ${r.error.message}`);
        }
      }
    };
    // A caption voted once waits for a second person: rounds until the queue is empty.
    const open = (): number =>
      (
        ws.db
          .prepare(
            `SELECT count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id
             WHERE i.dataset_id = ? AND c.status = 'pending' AND c.is_current = 1`,
          )
          .get(datasetId) as { n: number }
      ).n;
    for (let round = 0; round < 5 && open() > 0; round++) await Promise.all(people.map((_, n) => work(n)));
    expect(errors).toEqual([]);
    expect(open()).toBe(0);

    const inShare = ids.filter((id) => inDoubleShare(id, SHARE));
    expect(inShare.length).toBeGreaterThan(5);
    const votes = ws.db
      .prepare(
        `SELECT caption_id, reviewer, decision FROM review_votes ORDER BY caption_id, created_at, rowid`,
      )
      .all() as { caption_id: number; reviewer: string; decision: Vote }[];
    const reviews = ws.db
      .prepare(
        `SELECT caption_id, reviewer, action FROM reviews WHERE caption_id IN (${ids.join(',')}) ORDER BY id`,
      )
      .all() as { caption_id: number; reviewer: string; action: string }[];
    const pairs: [Vote, Vote][] = [];
    for (const id of ids) {
      const v = votes.filter((x) => x.caption_id === id);
      const r = reviews.filter((x) => x.caption_id === id);
      expect(r, `caption ${id}`).toHaveLength(1);
      if (!inShare.includes(id)) {
        expect(v, `caption ${id} outside the share`).toEqual([]);
        continue;
      }
      // Twice, by two different people; agreeing votes decide it under both names, a split is flagged.
      expect(v).toHaveLength(2);
      expect(v[0]!.reviewer).not.toBe(v[1]!.reviewer);
      pairs.push([v[0]!.decision, v[1]!.decision]);
      if (v[0]!.decision === v[1]!.decision)
        expect(r[0]).toMatchObject({
          reviewer: `${v[0]!.reviewer} + ${v[1]!.reviewer}`,
          action: v[0]!.decision,
        });
      else expect(r[0]).toMatchObject({ reviewer: 'double review', action: 'flag' });
    }
    // The fixed answers give both outcomes.
    expect(pairs.some(([a, b]) => a !== b)).toBe(true);
    expect(pairs.some(([a, b]) => a === b)).toBe(true);
    const figures = await call<{ overall: { n: number; kappa: number | null } }>(owner, 'team:agreement', {});
    if (!figures.ok) throw new Error(figures.error.message);
    expect(figures.value.overall).toEqual(cohenKappa(pairs));

    // The disagreements wait for a reviewer: an annotator may not settle them, the reviewer does.
    const queue = await call<{ captionId: CaptionId }[]>(people[0]!.token, 'review:adjudications', {});
    if (!queue.ok) throw new Error(queue.error.message);
    expect(queue.value.length).toBe(pairs.filter(([a, b]) => a !== b).length);
    {
      const first = queue.value[0]!.captionId;
      const refused = await call(people[1]!.token, 'review:adjudicate', {
        captionId: first,
        decision: 'accept',
      });
      expect(refused.ok).toBe(false);
      const settled = await call(people[0]!.token, 'review:adjudicate', {
        captionId: first,
        decision: 'accept',
      });
      expect(settled.ok).toBe(true);
      const status = ws.db.prepare(`SELECT status FROM captions WHERE id = ?`).get(first) as {
        status: string;
      };
      expect(status.status).toBe('accepted');
      const left = await call<unknown[]>(owner, 'review:adjudications', {});
      expect(left.ok && left.value.length).toBe(queue.value.length - 1);
    }

    // The team dashboard counts each person's decisions (agreed double reviews for both voters).
    const dash = await call<{
      people: { reviewer: string; decisions: number; accepts: number; rejects: number; votes: number }[];
      pending: number;
      adjudications: number;
    }>(owner, 'team:dashboard', {});
    if (!dash.ok) throw new Error(dash.error.message);
    const all = ws.db
      .prepare(`SELECT reviewer, action FROM reviews WHERE action != 'undo' AND undone_by IS NULL`)
      .all() as { reviewer: string; action: string }[];
    for (const name of ['double 0', 'double 5']) {
      const mine = all.filter((r) => r.reviewer.split(' + ').includes(name));
      const p = dash.value.people.find((x) => x.reviewer === name)!;
      expect(p.decisions).toBe(mine.length);
      expect(p.accepts).toBe(mine.filter((r) => r.action === 'accept').length);
      expect(p.votes).toBe(votes.filter((v) => v.reviewer === name).length);
    }
    expect(dash.value.adjudications).toBe(queue.value.length - 1);
  });
});
