// Replica pools: one endpoint profile, several servers of the same model (one vLLM server per GPU box).
// Each call takes a slot on the replica with the fewest requests in flight for its size (in flight ÷
// concurrency), among the healthy ones. A replica that refuses connections, or fails with a streak of 5xx
// or timeouts, is taken out: no new call goes to it while another is healthy, and a probe (GET /models)
// asks it again, with a growing pause, until it answers; then it is back. When every replica is out, calls
// go to all of them again rather than wait forever: the client's retries and the job's stop rules then
// say what is wrong, as they do for a single server.
import type { EndpointReplica } from '#shared/llm/types';
import { abortReason } from './limiter';
import type { LlmErrorKind } from './errors';

export interface ReplicaHealthPolicy {
  /** 5xx answers in a row that take a replica out. */
  serverErrors: number;
  /** Timeouts in a row that take a replica out. */
  timeouts: number;
  /** First pause before probing a replica that was taken out; doubles up to probeMaxMs. */
  probeMs: number;
  probeMaxMs: number;
}

export const DEFAULT_HEALTH: ReplicaHealthPolicy = {
  serverErrors: 3,
  timeouts: 2,
  probeMs: 500,
  probeMaxMs: 15_000,
};

/** What one replica did in this workspace (since it was opened), for the endpoint view and `ctgi endpoints --health`. */
export interface ReplicaState {
  baseUrl: string;
  concurrency: number;
  healthy: boolean;
  inFlight: number;
  calls: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  /** Mean latency of this process's answered calls, ms; null before the first. */
  meanLatencyMs: number | null;
  lastError: string | null;
  /** When it was taken out (epoch ms); null while healthy. */
  outSince: number | null;
  /** Times it was taken out since the workspace was opened. */
  outages: number;
}

export interface Replica {
  readonly baseUrl: string;
  readonly concurrency: number;
}

interface Slot extends Replica {
  healthy: boolean;
  inFlight: number;
  calls: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  latencySum: number;
  answered: number;
  lastError: string | null;
  outSince: number | null;
  outages: number;
  serverStreak: number;
  timeoutStreak: number;
  probing: boolean;
}

interface Waiter {
  resolve: (r: Slot) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export type ReplicaOutcome =
  | { ok: true; latencyMs: number; promptTokens: number | null; completionTokens: number | null }
  | { ok: false; kind: LlmErrorKind | 'other'; message: string };

/** Asks one replica whether it is back; resolves when it answers, rejects otherwise. */
export type ReplicaProbe = (baseUrl: string, signal: AbortSignal) => Promise<void>;

const norm = (u: string): string => u.replace(/\/+$/, '');

export class ReplicaPool {
  private slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  private probe: ReplicaProbe | null = null;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    replicas: readonly EndpointReplica[],
    private readonly policy: ReplicaHealthPolicy = DEFAULT_HEALTH,
  ) {
    this.configure(replicas);
  }

  /** Follows the profile's latest replica list, keeping the figures of the servers it still names. */
  configure(replicas: readonly EndpointReplica[]): void {
    const old = new Map(this.slots.map((s) => [s.baseUrl, s]));
    this.slots = replicas.map((r) => {
      const url = norm(r.baseUrl);
      const kept = old.get(url);
      if (kept) return Object.assign(kept, { concurrency: r.concurrency });
      return {
        baseUrl: url,
        concurrency: r.concurrency,
        healthy: true,
        inFlight: 0,
        calls: 0,
        errors: 0,
        promptTokens: 0,
        completionTokens: 0,
        latencySum: 0,
        answered: 0,
        lastError: null,
        outSince: null,
        outages: 0,
        serverStreak: 0,
        timeoutStreak: 0,
        probing: false,
      };
    });
    this.dispatch();
  }

  /** How the pool asks a replica that was taken out whether it is back (set by the client that owns the key). */
  setProbe(probe: ReplicaProbe): void {
    this.probe = probe;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Calls the pool can have in flight at once when every replica is healthy. */
  get capacity(): number {
    return this.slots.reduce((n, s) => n + s.concurrency, 0);
  }

  get healthyCount(): number {
    return this.slots.filter((s) => s.healthy).length;
  }

  /** A slot on the least busy eligible replica; waits while every eligible replica is full. */
  acquire(signal?: AbortSignal): Promise<Replica> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const now = this.pick();
    if (now && this.waiters.length === 0) {
      now.inFlight++;
      return Promise.resolve(now);
    }
    return new Promise<Replica>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      this.dispatch();
    });
  }

  /** Gives the slot back with what happened on it; a failure may take the replica out. */
  release(replica: Replica, outcome: ReplicaOutcome): void {
    const s = this.slots.find((x) => x.baseUrl === replica.baseUrl) ?? (replica as Slot);
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (outcome.ok) {
      s.calls++;
      s.answered++;
      s.latencySum += outcome.latencyMs;
      s.promptTokens += outcome.promptTokens ?? 0;
      s.completionTokens += outcome.completionTokens ?? 0;
      s.serverStreak = 0;
      s.timeoutStreak = 0;
    } else if (outcome.kind !== 'other') {
      s.calls++;
      s.errors++;
      s.lastError = outcome.message;
      if (outcome.kind === 'server') s.serverStreak++;
      else s.serverStreak = 0;
      if (outcome.kind === 'timeout') s.timeoutStreak++;
      else s.timeoutStreak = 0;
      if (
        outcome.kind === 'unreachable' ||
        s.serverStreak >= this.policy.serverErrors ||
        s.timeoutStreak >= this.policy.timeouts
      )
        this.takeOut(s);
    }
    this.dispatch();
  }

  /**
   * What a probe found about one server: a failing one is taken out (and probed until it answers), one that
   * answered is brought back. The endpoint view then shows health before any job has called it.
   */
  markHealth(baseUrl: string, healthy: boolean, why: string | null): void {
    const s = this.slots.find((x) => x.baseUrl === norm(baseUrl));
    if (!s) return;
    if (healthy) {
      s.healthy = true;
      s.outSince = null;
      s.serverStreak = 0;
      s.timeoutStreak = 0;
      this.dispatch();
    } else {
      s.lastError = why;
      this.takeOut(s);
    }
  }

  /** Whether a failed call is worth sending to another replica now (rather than backing off on this one). */
  canFailOver(from: Replica): boolean {
    return this.slots.some((s) => s.baseUrl !== from.baseUrl && s.healthy);
  }

  states(): ReplicaState[] {
    return this.slots.map((s) => ({
      baseUrl: s.baseUrl,
      concurrency: s.concurrency,
      healthy: s.healthy,
      inFlight: s.inFlight,
      calls: s.calls,
      errors: s.errors,
      promptTokens: s.promptTokens,
      completionTokens: s.completionTokens,
      meanLatencyMs: s.answered > 0 ? Math.round(s.latencySum / s.answered) : null,
      lastError: s.lastError,
      outSince: s.outSince,
      outages: s.outages,
    }));
  }

  /** Health probes waiting to run (a closed pool has none). */
  get pendingProbes(): number {
    return this.timers.size;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private eligible(): Slot[] {
    const healthy = this.slots.filter((s) => s.healthy);
    return healthy.length > 0 ? healthy : this.slots;
  }

  private pick(): Slot | null {
    let best: Slot | null = null;
    let bestLoad = Infinity;
    for (const s of this.eligible()) {
      if (s.inFlight >= s.concurrency) continue;
      const load = s.inFlight / s.concurrency;
      if (load < bestLoad) {
        best = s;
        bestLoad = load;
      }
    }
    return best;
  }

  private dispatch(): void {
    while (this.waiters.length > 0) {
      const s = this.pick();
      if (!s) return;
      const w = this.waiters.shift()!;
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      s.inFlight++;
      w.resolve(s);
    }
  }

  private takeOut(s: Slot): void {
    if (this.slots.length < 2 || !s.healthy) return; // a lone server is never out: its errors are the answer
    s.healthy = false;
    s.outSince = Date.now();
    s.outages++;
    this.scheduleProbe(s, this.policy.probeMs);
  }

  private scheduleProbe(s: Slot, waitMs: number): void {
    if (this.closed || s.probing) return;
    s.probing = true;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.probeOnce(s, waitMs);
    }, waitMs);
    t.unref();
    this.timers.add(t);
  }

  private async probeOnce(s: Slot, waitMs: number): Promise<void> {
    let back = false;
    try {
      if (this.probe) {
        await this.probe(s.baseUrl, AbortSignal.timeout(5_000));
        back = true;
      }
    } catch {
      back = false;
    }
    s.probing = false;
    if (this.closed || !this.slots.includes(s)) return;
    if (back) {
      s.healthy = true;
      s.outSince = null;
      s.serverStreak = 0;
      s.timeoutStreak = 0;
      this.dispatch();
    } else {
      this.scheduleProbe(s, Math.min(this.policy.probeMaxMs, waitMs * 2));
    }
  }
}

/** The replicas of a profile: its base URL first, then the ones it adds. */
export function replicasOf(e: {
  baseUrl: string;
  concurrency: number;
  replicas?: readonly EndpointReplica[];
}): EndpointReplica[] {
  const main = norm(e.baseUrl);
  const seen = new Set([main]);
  const out: EndpointReplica[] = [{ baseUrl: main, concurrency: e.concurrency }];
  for (const r of e.replicas ?? []) {
    const url = norm(r.baseUrl);
    if (seen.has(url)) continue;
    seen.add(url);
    out.push({ baseUrl: url, concurrency: r.concurrency });
  }
  return out;
}
