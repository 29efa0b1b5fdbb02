export interface RetryPolicy {
  /** Further attempts after the first, for retryable failures (429, 5xx, timeouts, network, malformed or empty answers). */
  retries: number;
  /** Backoff before retry n is about baseDelayMs · 2^(n−1), jittered, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server that asks for a longer wait than this gets a failure instead of a stalled job. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 4,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 120_000,
};

/** Exponential backoff with jitter in [½, 1] of the step, so clients that failed together spread out. */
export function backoffMs(retry: number, p: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step * (0.5 + 0.5 * random()));
}

/** The wait a server asked for: `retry-after-ms` (OpenAI, vLLM), else `retry-after` seconds or HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  if (!headers) return null;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return null;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return secs >= 0 ? Math.ceil(secs * 1000) : null;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
