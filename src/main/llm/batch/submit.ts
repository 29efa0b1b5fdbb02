// One Batch API submission, from upload to the last line recorded, persisted at every step so that a crash
// anywhere costs nothing twice: the llm_batches row exists before the upload, the provider's batch id is
// written the moment the batch is created (before any wait), and a resumed job polls that batch rather than
// submitting its requests again. Answers land in the calls log (the cache) under their request keys, so
// whoever asks next, this job or its resumption, is served from there.
import type OpenAI from 'openai';
import { toFile } from 'openai';
import {
  insertBatch,
  listOpenBatches,
  updateBatch,
  type BatchStatus,
  type LlmBatchRow,
} from '../../db/repos/batches';
import type { WritableDb } from '../../db/types';
import type { ChatResult, LlmClient } from '../client';
import { LlmError } from '../errors';
import { sleep } from '../limiter';
import { customIdOf, parseCustomId, parseResults, requestLine } from './jsonl';
import type { PreparedCall } from '../client';

export interface BatchOutcome {
  /** custom_id → the answer was recorded (ChatResult) or refused (LlmError, final). */
  answered: Map<string, { ok: true; result: ChatResult } | { ok: false; error: LlmError }>;
  /** custom_ids not answered (a line error, or the batch expired): to be sent again, in a smaller batch. */
  unanswered: Map<string, string>;
}

export interface BatchPolicy {
  pollMs: number;
  /** Progress of the batch being waited on, for the job's message. */
  onStatus?: (
    row: LlmBatchRow,
    status: BatchStatus,
    counts: { total: number; completed: number; failed: number },
  ) => void;
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** Uploads `calls` as one batch, waits for it, records every line; never throws for a line's failure. */
export async function runBatch(
  db: WritableDb,
  client: LlmClient,
  calls: PreparedCall[],
  where: { jobId: number | null; round: number; try: number },
  policy: BatchPolicy,
  signal: AbortSignal,
): Promise<BatchOutcome> {
  const row = insertBatch(db, {
    jobId: where.jobId,
    endpointId: client.endpoint.id,
    round: where.round,
    try: where.try,
    requestCount: calls.length,
  });
  const sdk = await client.sdk();
  const jsonl = `${calls.map((c) => requestLine(customIdOf(c.purpose, c.requestHash), c.body)).join('\n')}\n`;
  const file = await sdk.files.create(
    {
      file: await toFile(
        Buffer.from(jsonl),
        `ctgi-job${where.jobId ?? 0}-round${where.round}-try${where.try}.jsonl`,
      ),
      purpose: 'batch',
    },
    { signal },
  );
  updateBatch(db, row.id, { input_file_id: file.id });
  const batch = await sdk.batches.create(
    {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { ctgi_batch: String(row.id), ctgi_job: String(where.jobId ?? '') },
    },
    { signal },
  );
  // Written before any wait: from here on, a crash polls this batch instead of paying for it again.
  updateBatch(db, row.id, { provider_batch_id: batch.id, status: 'submitted' });
  return collectBatch(
    db,
    client,
    { ...row, provider_batch_id: batch.id, status: 'submitted' },
    policy,
    signal,
  );
}

/** Waits for a submitted batch to end, then records its output and error files. */
export async function collectBatch(
  db: WritableDb,
  client: LlmClient,
  row: LlmBatchRow,
  policy: BatchPolicy,
  signal: AbortSignal,
): Promise<BatchOutcome> {
  const sdk = await client.sdk();
  let b = await sdk.batches.retrieve(row.provider_batch_id!, { signal });
  for (;;) {
    const counts = b.request_counts ?? { total: row.request_count, completed: 0, failed: 0 };
    updateBatch(db, row.id, {
      status: (TERMINAL.has(b.status)
        ? b.status
        : b.status === 'validating'
          ? 'submitted'
          : b.status) as BatchStatus,
      completed_count: counts.completed,
      failed_count: counts.failed,
    });
    policy.onStatus?.(row, b.status as BatchStatus, counts);
    if (TERMINAL.has(b.status)) break;
    await sleep(policy.pollMs, signal);
    b = await sdk.batches.retrieve(row.provider_batch_id!, { signal });
  }
  const outcome: BatchOutcome = { answered: new Map(), unanswered: new Map() };
  const lines = [
    ...(b.output_file_id
      ? parseResults(await text(sdk, b.output_file_id, signal), `output file ${b.output_file_id}`)
      : []),
    ...(b.error_file_id
      ? parseResults(await text(sdk, b.error_file_id, signal), `error file ${b.error_file_id}`)
      : []),
  ];
  // Recorded in one transaction: a crash leaves the batch either uncollected (polled again) or collected whole.
  db.transaction(() => {
    for (const l of lines) {
      const key = parseCustomId(l.custom_id);
      if (!key) continue;
      if (l.response && l.response.status_code === 200) {
        try {
          const result = client.settle(key, l.response.body, row.id);
          outcome.answered.set(l.custom_id, { ok: true, result });
        } catch (e) {
          if (e instanceof LlmError && !e.retryable)
            outcome.answered.set(l.custom_id, { ok: false, error: e });
          else outcome.unanswered.set(l.custom_id, e instanceof Error ? e.message : String(e));
        }
        continue;
      }
      const why =
        l.error?.message ?? errorMessage(l.response?.body) ?? `status ${l.response?.status_code ?? '?'}`;
      const code = l.error?.code ?? `status ${l.response?.status_code ?? '?'}`;
      client.settleError(
        key,
        code === 'batch_expired' ? 'timeout' : 'server',
        `Batch line failed (${code}): ${why}`,
        row.id,
      );
      outcome.unanswered.set(l.custom_id, `${code}: ${why}`);
    }
    updateBatch(db, row.id, {
      status: 'collected',
      output_file_id: b.output_file_id ?? null,
      error_file_id: b.error_file_id ?? null,
      error: b.status === 'completed' ? null : `batch ${b.status}`,
    });
  })();
  return outcome;
}

/**
 * After a crash or restart: the job's batches that were submitted (or may have been) are polled and
 * collected, never submitted again. A row without a provider id may have been created just before the
 * crash: the provider's list is searched for it by the id we tagged it with.
 */
export async function recoverBatches(
  db: WritableDb,
  client: LlmClient,
  jobId: number,
  policy: BatchPolicy,
  signal: AbortSignal,
): Promise<number> {
  let n = 0;
  for (const row of listOpenBatches(db, jobId)) {
    if (row.endpoint_id !== client.endpoint.id) continue;
    let r = row;
    if (r.provider_batch_id === null) {
      const found = r.input_file_id === null ? undefined : await findByTag(await client.sdk(), r, signal);
      if (!found) {
        updateBatch(db, r.id, { status: 'failed', error: 'never submitted (the process stopped before)' });
        continue;
      }
      updateBatch(db, r.id, { provider_batch_id: found, status: 'submitted' });
      r = { ...r, provider_batch_id: found };
    }
    await collectBatch(db, client, r, policy, signal);
    n++;
  }
  return n;
}

async function findByTag(sdk: OpenAI, row: LlmBatchRow, signal: AbortSignal): Promise<string | undefined> {
  for await (const b of sdk.batches.list({ limit: 100 }, { signal })) {
    if (b.metadata?.ctgi_batch === String(row.id) && b.input_file_id === row.input_file_id) return b.id;
    if (b.created_at * 1000 < row.created_at - 60_000) break;
  }
  return undefined;
}

async function text(sdk: OpenAI, fileId: string, signal: AbortSignal): Promise<string> {
  const r = await sdk.files.content(fileId, { signal });
  return r.text();
}

function errorMessage(body: unknown): string | null {
  const m = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof m === 'string' ? m : null;
}
