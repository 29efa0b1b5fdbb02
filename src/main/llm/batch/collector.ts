// MTG through the Batch API. MTG's rounds depend on earlier answers, so a batch run goes round by round:
// every image's pipeline runs as in synchronous mode, but its model calls are collected instead of sent;
// when every image in flight is waiting on an answer, the collected calls go out as one batch (all
// images' round k), and their answers move every pipeline on to its next round. Answers already in the
// calls log (an earlier round, a batch collected after a restart) are served from there, so a resumed
// job fast-forwards to the round it was waiting for. Lines that failed or expired are sent again as a
// smaller batch, up to `maxTries` times in all; then the request fails like a synchronous call would.
import type { ChatRequest, ChatResult, LlmClient, PreparedCall } from '../client';
import { LlmError } from '../errors';
import { abortReason } from '../limiter';
import { customIdOf } from './jsonl';
import { runBatch, type BatchPolicy } from './submit';
import type { WritableDb } from '../../db/types';

interface Waiter {
  resolve: (r: ChatResult) => void;
  reject: (e: Error) => void;
}

interface Pending {
  client: LlmClient;
  call: PreparedCall;
  waiters: Waiter[];
}

export interface CollectorPolicy extends BatchPolicy {
  maxTries: number;
  /**
   * Offline mode (vLLM's batch runner, run by the user): a round is written out instead of sent, and the
   * job stops there (`export` pauses it); the answers come back through an import of the output file.
   */
  export?: (calls: { client: LlmClient; call: PreparedCall }[], round: number) => Promise<void>;
}

export class BatchCollector {
  private pending = new Map<string, Pending>();
  private active = 0;
  private blocked = 0;
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly db: WritableDb,
    private readonly jobId: number | null,
    private round: number,
    private readonly policy: CollectorPolicy,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener(
      'abort',
      () => {
        for (const p of this.pending.values()) for (const w of p.waiters) w.reject(abortReason(signal));
        this.pending.clear();
      },
      { once: true },
    );
  }

  /** Batches submitted by this collector so far (the next round's number). */
  get nextRound(): number {
    return this.round;
  }

  /** One image's pipeline: its calls go through `ask`; `done` when it has finished, whichever way. */
  image(): { ask: (client: LlmClient, req: ChatRequest) => Promise<ChatResult>; done: () => void } {
    this.active++;
    let outstanding = 0;
    let finished = false;
    return {
      ask: (client, req) => {
        const call = client.prepare(req);
        if (call.cached) {
          if ('result' in call.cached) return Promise.resolve(call.cached.result);
          return Promise.reject(call.cached.error);
        }
        if (this.signal.aborted) return Promise.reject(abortReason(this.signal));
        if (outstanding++ === 0) this.blocked++;
        return new Promise<ChatResult>((resolve, reject) => {
          const id = `${client.endpoint.id}|${customIdOf(call.purpose, call.requestHash)}`;
          const entry = this.pending.get(id) ?? { client, call, waiters: [] };
          const settle = (): void => {
            if (--outstanding === 0) this.blocked--;
          };
          entry.waiters.push({
            resolve: (r) => {
              settle();
              resolve(r);
            },
            reject: (e) => {
              settle();
              reject(e);
            },
          });
          this.pending.set(id, entry);
          this.check();
        });
      },
      done: () => {
        if (finished) return;
        finished = true;
        this.active--;
        this.check();
      },
    };
  }

  private check(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing && this.pending.size > 0 && this.blocked >= this.active) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const taken = [...this.pending.values()];
    this.pending.clear();
    const round = this.round++;
    if (this.policy.export) {
      try {
        await this.policy.export(
          taken.map((p) => ({ client: p.client, call: p.call })),
          round,
        );
        // The job stops here; these calls are answered by the import, and asked again from the cache.
        const stop = this.signal.aborted ? abortReason(this.signal) : new Error('Round exported.');
        for (const p of taken) for (const w of p.waiters) w.reject(stop);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        for (const p of taken) for (const w of p.waiters) w.reject(e);
      } finally {
        this.flushing = false;
      }
      return;
    }
    try {
      const byClient = new Map<LlmClient, Pending[]>();
      for (const p of taken) byClient.set(p.client, [...(byClient.get(p.client) ?? []), p]);
      await Promise.all(
        [...byClient.entries()].map(([client, items]) => this.sendRound(client, items, round)),
      );
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const p of taken) for (const w of p.waiters) w.reject(e);
    } finally {
      this.flushing = false;
      this.check();
    }
  }

  private async sendRound(client: LlmClient, items: Pending[], round: number): Promise<void> {
    let left = items;
    for (let t = 1; left.length > 0; t++) {
      const outcome = await runBatch(
        this.db,
        client,
        left.map((p) => p.call),
        { jobId: this.jobId, round, try: t },
        this.policy,
        this.signal,
      );
      const again: Pending[] = [];
      for (const p of left) {
        const id = customIdOf(p.call.purpose, p.call.requestHash);
        const a = outcome.answered.get(id);
        if (a?.ok) for (const w of p.waiters) w.resolve(a.result);
        else if (a) for (const w of p.waiters) w.reject(a.error);
        else if (t < this.policy.maxTries) again.push(p);
        else {
          const why = outcome.unanswered.get(id) ?? 'the batch returned no line for it';
          const e = new LlmError(
            'server',
            `${client.endpoint.name} did not answer this request in ${t} batches (last: ${why}). Resume the job to try again.`,
          );
          for (const w of p.waiters) w.reject(e);
        }
      }
      left = again;
    }
  }
}
