// What model calls cost: tokens from the calls log (llm_calls), prices from the endpoint profile (USD per
// million prompt / completion tokens; the Batch API at its discount). Nothing is stored about money: every
// figure is a sum over the log, so it equals a hand count over the same rows.
import type { LlmEndpoint, UsageLine } from '#shared/llm/types';
import { listEndpoints, paidTokens } from '../db/repos/llm';
import type { ReadableDb } from '../db/types';

export type Price = Pick<LlmEndpoint, 'priceInput' | 'priceOutput' | 'batchDiscount'>;

/** USD for these tokens at this price; null when the endpoint has no price for a kind of token it used. */
export function costOf(
  price: Price | undefined,
  prompt: number,
  completion: number,
  batch: boolean,
): number | null {
  if (!price) return prompt === 0 && completion === 0 ? 0 : null;
  if ((prompt > 0 && price.priceInput === null) || (completion > 0 && price.priceOutput === null))
    return null;
  const full = (prompt * (price.priceInput ?? 0) + completion * (price.priceOutput ?? 0)) / 1_000_000;
  return batch ? full * price.batchDiscount : full;
}

/** Paid tokens and cost per job, endpoint or day. */
export function usage(
  db: ReadableDb,
  by: 'job' | 'endpoint' | 'day',
  filter: { jobId?: number; sinceMs?: number } = {},
): UsageLine[] {
  const endpoints = new Map(listEndpoints(db).map((e) => [e.id as number, e]));
  const lines = new Map<string, UsageLine>();
  for (const r of paidTokens(db, by, filter)) {
    const e = r.endpoint_id === null ? undefined : endpoints.get(r.endpoint_id);
    const key = by === 'endpoint' ? (e?.name ?? (r.key === '' ? '(deleted)' : `#${r.key}`)) : r.key;
    const line = lines.get(key) ?? {
      key,
      calls: 0,
      batchCalls: 0,
      promptTokens: 0,
      completionTokens: 0,
      costUsd: 0,
    };
    line.calls += r.calls;
    if (r.batch) line.batchCalls += r.calls;
    line.promptTokens += r.prompt_tokens;
    line.completionTokens += r.completion_tokens;
    const c = costOf(e, r.prompt_tokens, r.completion_tokens, r.batch === 1);
    line.costUsd = line.costUsd === null || c === null ? null : line.costUsd + c;
    lines.set(key, line);
  }
  return [...lines.values()];
}

export function jobUsage(db: ReadableDb, jobId: number): UsageLine {
  return (
    usage(db, 'job', { jobId })[0] ?? {
      key: String(jobId),
      calls: 0,
      batchCalls: 0,
      promptTokens: 0,
      completionTokens: 0,
      costUsd: 0,
    }
  );
}

/**
 * Cost as a job spends it, call by call, from where an earlier attempt left off (read from the log once):
 * the budget cap compares against this, without a sum over the log per image.
 */
export class CostMeter {
  private usd: number;
  private unknown = false;
  constructor(start: UsageLine) {
    this.usd = start.costUsd ?? 0;
    this.unknown = start.costUsd === null;
  }
  add(price: Price, prompt: number | null, completion: number | null, batch = false): void {
    const c = costOf(price, prompt ?? 0, completion ?? 0, batch);
    if (c === null) this.unknown = true;
    else this.usd += c;
  }
  /** USD spent so far; null when some of it went to an endpoint without a price. */
  get spentUsd(): number | null {
    return this.unknown ? null : this.usd;
  }
  /** What is known to be spent (the priced part): what a budget is held against. */
  get knownUsd(): number {
    return this.usd;
  }
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return 'cost unknown (no price set)';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(2)}`;
}
