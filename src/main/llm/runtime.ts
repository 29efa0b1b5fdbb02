import type { EndpointReplica, SentParams } from '#shared/llm/types';
import { AppError } from '../errors';
import { EndpointLimiter } from './limiter';
import { ReplicaPool } from './replicas';

/** One deduplicated HTTP request that identical concurrent calls wait on together. */
export interface SharedCall<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

/**
 * What the LLM clients of one workspace share: one limiter and one replica pool per endpoint (an MTG job
 * and a search talking to the same server share its budget and its view of which replicas are healthy),
 * the identical requests in flight, and the request fields servers said they reject. Owned by the
 * workspace's services and closed with it; two workspaces open in one process share none of it.
 */
export class LlmRuntime {
  private readonly limiters = new Map<string, EndpointLimiter>();
  private readonly pools = new Map<string, ReplicaPool>();
  /** In-flight requests by hash: identical concurrent calls share one HTTP request. */
  readonly inFlight = new Map<string, SharedCall<unknown>>();
  /**
   * What servers said with a 400 about the fields they reject, by base URL and model, for the life of the
   * workspace: later calls send what works instead of paying for a rejected request first.
   */
  readonly learnedParams = new Map<string, Partial<SentParams>>();
  private closed = false;

  /** The limiter of one endpoint; its settings follow the latest profile. */
  limiterFor(key: string, concurrency: number, requestsPerMinute: number | null): EndpointLimiter {
    this.checkOpen();
    let l = this.limiters.get(key);
    if (!l) {
      l = new EndpointLimiter(concurrency, requestsPerMinute);
      this.limiters.set(key, l);
    } else {
      l.configure(concurrency, requestsPerMinute);
    }
    return l;
  }

  /** The replica pool of one endpoint (health and load are per server, not per job). */
  poolFor(key: string, replicas: readonly EndpointReplica[]): ReplicaPool {
    this.checkOpen();
    let p = this.pools.get(key);
    if (!p) {
      p = new ReplicaPool(replicas);
      this.pools.set(key, p);
    } else p.configure(replicas);
    return p;
  }

  /** The pool of an endpoint if this workspace has used it (the endpoint view shows its health). */
  existingPool(key: string): ReplicaPool | undefined {
    return this.pools.get(key);
  }

  private checkOpen(): void {
    if (this.closed)
      throw new AppError('unavailable', 'The workspace is closing; call the model again after it reopens.');
  }

  /** Counts for the services test and diagnostics. */
  get sizes(): { limiters: number; pools: number; inFlight: number; probeTimers: number } {
    let probeTimers = 0;
    for (const p of this.pools.values()) probeTimers += p.pendingProbes;
    return {
      limiters: this.limiters.size,
      pools: this.pools.size,
      inFlight: this.inFlight.size,
      probeTimers,
    };
  }

  /**
   * Cancels the requests still in flight and those waiting for a slot (their callers get an abort error),
   * and stops every pool's health probes, so that a closed workspace leaves no timer behind.
   */
  close(): void {
    this.closed = true;
    for (const s of this.inFlight.values())
      s.controller.abort(new DOMException('The workspace was closed.', 'AbortError'));
    this.inFlight.clear();
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
    for (const l of this.limiters.values()) l.close();
    this.limiters.clear();
  }
}

/** The key of an endpoint's limiter and pool: its name and main server. */
export const endpointKey = (e: { name: string; baseUrl: string }): string =>
  `${e.name}|${e.baseUrl.replace(/\/+$/, '')}`;
