import { createHash } from 'node:crypto';
import { canonicalValue } from '../canonical-json';

/** An image sent to the model: the data URL is what travels, the sha256 is what the cache remembers. */
export interface LlmImage {
  sha256: string;
  dataUrl: string;
}

/** Builds an LlmImage from bytes, hashing them once (the data URL itself is never hashed). The MIME type
 * comes from what the bytes are (media/formats.ts), never a default guess. */
export function llmImage(bytes: Uint8Array, mime: string): LlmImage {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    dataUrl: `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`,
  };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface RequestIdentity {
  baseUrl: string;
  model: string;
  messages: readonly ChatMessage[];
  imageSha256: readonly string[];
  /** null: not sent (the server's default applies). */
  temperature: number | null;
  maxTokens: number;
  /** The field that carried maxTokens; left out means `max_tokens`. */
  tokenLimitParam?: 'max_tokens' | 'max_completion_tokens';
  /** Any other parameter that changes the answer (seed, response_format, …). */
  params?: Record<string, unknown>;
}

/**
 * The cache key: sha256 over everything that decides the answer. Images enter by their sha256 (so a
 * re-encoded data URL of the same bytes is the same request, and megabytes are not rehashed per call).
 * The base URL is normalised (no trailing slash) so `…/v1` and `…/v1/` share answers.
 * The key covers the fields actually sent: an omitted temperature and `max_completion_tokens` change it,
 * while a request sent the classic way (`temperature` + `max_tokens`) keeps the key it always had, so
 * workspaces cached before these settings existed keep their answers.
 */
export function requestHash(r: RequestIdentity): string {
  const canonical = JSON.stringify([
    'chat.v1',
    r.baseUrl.replace(/\/+$/, ''),
    r.model,
    r.messages.map((m) => [m.role, m.content]),
    r.imageSha256,
    r.temperature,
    r.maxTokens,
    r.params ? canonicalValue(r.params) : null,
    ...(r.tokenLimitParam === 'max_completion_tokens' ? ['max_completion_tokens'] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
