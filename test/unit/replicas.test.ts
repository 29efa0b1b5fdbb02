import { afterEach, describe, expect, it } from 'vitest';
import { ReplicaPool, replicasOf, type Replica } from '../../src/main/llm/replicas';

const pools: ReplicaPool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
});
function pool(...conc: number[]): ReplicaPool {
  const p = new ReplicaPool(
    conc.map((c, i) => ({ baseUrl: `http://r${i}/v1`, concurrency: c })),
    { serverErrors: 3, timeouts: 2, probeMs: 10, probeMaxMs: 40 },
  );
  pools.push(p);
  return p;
}
const fail = (kind: 'server' | 'timeout' | 'unreachable') => ({ ok: false as const, kind, message: kind });
const ok = { ok: true as const, latencyMs: 5, promptTokens: 10, completionTokens: 2 };

describe('replica pool', () => {
  it('fills replicas in proportion to their concurrency (least in flight for its size)', async () => {
    const p = pool(2, 6);
    const got: Replica[] = [];
    for (let i = 0; i < 8; i++) got.push(await p.acquire());
    const on = (u: string): number => got.filter((r) => r.baseUrl === u).length;
    expect([on('http://r0/v1'), on('http://r1/v1')]).toEqual([2, 6]);
  });

  it('waits when every replica is full, and hands the freed slot on', async () => {
    const p = pool(1, 1);
    const a = await p.acquire();
    await p.acquire();
    let third: Replica | null = null;
    const waiting = p.acquire().then((r) => (third = r));
    await new Promise((r) => setTimeout(r, 5));
    expect(third).toBeNull();
    p.release(a, ok);
    await waiting;
    expect(third!.baseUrl).toBe(a.baseUrl);
  });

  it('takes out a replica that refuses connections or keeps failing, and probes it back in', async () => {
    const p = pool(4, 4);
    let up = false;
    p.setProbe(async () => {
      if (!up) throw new Error('still down');
    });
    const held: Replica[] = [];
    for (let i = 0; i < 8; i++) held.push(await p.acquire());
    const onR0 = held.filter((r) => r.baseUrl === 'http://r0/v1');
    const onR1 = held.filter((r) => r.baseUrl === 'http://r1/v1');
    p.release(onR0[0]!, fail('server'));
    p.release(onR0[1]!, fail('server'));
    expect(p.states()[0]!.healthy).toBe(true); // two 5xx in a row are not yet a streak of three
    p.release(onR1[0]!, ok); // the other replica's answers do not touch r0's streak
    p.release(onR0[2]!, fail('server'));
    expect(p.states()[0]).toMatchObject({ healthy: false, outages: 1, errors: 3 });
    p.release(onR0[3]!, ok);
    for (const r of onR1.slice(1)) p.release(r, ok);
    // Out: every new call goes to the other one.
    for (let i = 0; i < 4; i++) expect((await p.acquire()).baseUrl).toBe('http://r1/v1');
    up = true;
    await new Promise((r) => setTimeout(r, 120));
    expect(p.states()[0]).toMatchObject({ healthy: true, outSince: null });
    expect((await p.acquire()).baseUrl).toBe('http://r0/v1');
  });

  it('never takes out a lone server, and uses every replica when all are out', async () => {
    const lone = pool(2);
    const r = await lone.acquire();
    lone.release(r, fail('unreachable'));
    expect(lone.states()[0]!.healthy).toBe(true);

    const p = pool(1, 1);
    p.setProbe(() => Promise.reject(new Error('down')));
    const a = await p.acquire();
    const b = await p.acquire();
    p.release(a, fail('unreachable'));
    p.release(b, fail('unreachable'));
    expect(p.healthyCount).toBe(0);
    expect((await p.acquire()).baseUrl).toBeDefined();
  });

  it('lists the profile URL first and each replica once', () => {
    expect(
      replicasOf({
        baseUrl: 'http://a/v1/',
        concurrency: 4,
        replicas: [
          { baseUrl: 'http://a/v1', concurrency: 2 },
          { baseUrl: 'http://b/v1', concurrency: 8 },
        ],
      }),
    ).toEqual([
      { baseUrl: 'http://a/v1', concurrency: 4 },
      { baseUrl: 'http://b/v1', concurrency: 8 },
    ]);
  });
});
