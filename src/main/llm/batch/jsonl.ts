// The OpenAI Batch API's file format, which vLLM's offline runner (`python -m vllm.entrypoints.openai.run_batch`)
// reads and writes too: one request per line in, one result per line out, matched by custom_id.
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';

export interface BatchRequestLine {
  custom_id: string;
  method: 'POST';
  url: '/v1/chat/completions';
  body: ChatCompletionCreateParamsNonStreaming;
}

/** One line of an output or error file. */
export interface BatchResultLine {
  custom_id: string;
  /** The HTTP answer to the request, when it was sent (status 200: a chat.completion body). */
  response: { status_code: number; body: unknown } | null;
  /** Why the request was not answered (batch_expired, …), when it was not. */
  error: { code?: string | null; message?: string | null } | null;
}

// custom_id carries what the calls log needs to record an answer without the request at hand: its purpose
// (mtg.question, mtg.reconstruct, …) and its cache key.
export const customIdOf = (purpose: string, requestHash: string): string => `${purpose}:${requestHash}`;

export function parseCustomId(id: string): { purpose: string; requestHash: string } | null {
  const m = /^(.+):([0-9a-f]{64})$/.exec(id);
  return m ? { purpose: m[1]!, requestHash: m[2]! } : null;
}

export function requestLine(customId: string, body: ChatCompletionCreateParamsNonStreaming): string {
  const line: BatchRequestLine = { custom_id: customId, method: 'POST', url: '/v1/chat/completions', body };
  return JSON.stringify(line);
}

/** The lines of an output or error file; a line that is not a result is reported, not skipped silently. */
export function parseResults(text: string, source: string): BatchResultLine[] {
  const out: BatchResultLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${source}, line ${i + 1}, is not JSON. Is this the output file of a batch run?`);
    }
    const r = v as Partial<BatchResultLine>;
    if (typeof r.custom_id !== 'string')
      throw new Error(`${source}, line ${i + 1}, has no custom_id. Is this the output file of a batch run?`);
    out.push({ custom_id: r.custom_id, response: r.response ?? null, error: r.error ?? null });
  });
  return out;
}
