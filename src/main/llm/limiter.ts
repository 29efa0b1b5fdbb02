import PQueue from 'p-queue';

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('The call was cancelled.', 'AbortError');
}

/**
 * One endpoint's budget: at most `concurrency` requests in flight, and request starts spaced at least
 * 60 000 / rpm ms apart — a smooth rate rather than a per-minute burst, so no rolling minute ever holds
 * more than `rpm` starts. A 429 that names a wait pauses every request to the endpoint, not just the
 * one that got it, because the server's limit is shared.
 */
export class EndpointLimiter {
  private readonly queue: PQueue;
  private spacingMs = 0;
  private nextStart = 0;
  private pausedUntil = 0;
  /** Aborted by close(): requests still waiting for a slot are refused and their start timers cleared. */
  private readonly closing = new AbortController();

  constructor(concurrency: number, requestsPerMinute: number | null) {
    this.queue = new PQueue({ concurrency });
    this.configure(concurrency, requestsPerMinute);
  }

  configure(concurrency: number, requestsPerMinute: number | null): void {
    if (this.queue.concurrency !== concurrency) this.queue.concurrency = concurrency;
    this.spacingMs = requestsPerMinute ? 60_000 / requestsPerMinute : 0;
  }

  /** Holds back every request start until `until` (epoch ms). */
  pause(until: number): void {
    if (until > this.pausedUntil) this.pausedUntil = until;
  }

  get inFlight(): number {
    return this.queue.pending;
  }

  get waiting(): number {
    return this.queue.size;
  }

  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const both = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    return this.queue.add(
      async () => {
        await this.startSlot(both);
        return fn();
      },
      { signal: both },
    );
  }

  /** Refuses the requests still waiting (the workspace is closing); those already sent finish on their own. */
  close(): void {
    this.closing.abort(new DOMException('The workspace was closed.', 'AbortError'));
  }

  private async startSlot(signal?: AbortSignal): Promise<void> {
    if (this.spacingMs === 0 && this.pausedUntil === 0) return;
    for (;;) {
      const now = Date.now();
      const at = Math.max(now, this.nextStart, this.pausedUntil);
      if (at <= now) break;
      await sleep(at - now, signal);
    }
    this.nextStart = Date.now() + this.spacingMs;
  }
}
