import type { ErrorCode } from '#shared/contract';
import { AppError } from '../errors';

export const LLM_ERROR_KINDS = [
  'unreachable',
  'auth',
  'model_not_found',
  'rate_limited',
  'server',
  'timeout',
  'bad_request',
  'bad_response',
  'refused',
  'no_vision',
] as const;
export type LlmErrorKind = (typeof LLM_ERROR_KINDS)[number];

const CODE: Record<LlmErrorKind, ErrorCode> = {
  unreachable: 'unavailable',
  auth: 'unauthorized',
  model_not_found: 'not_found',
  rate_limited: 'unavailable',
  server: 'unavailable',
  timeout: 'unavailable',
  bad_request: 'bad_request',
  bad_response: 'unavailable',
  refused: 'conflict',
  no_vision: 'bad_request',
};

/** The request fields the client knows how to send differently (see SentParams in shared/llm/types.ts). */
export type RequestParam = 'max_tokens' | 'max_completion_tokens' | 'temperature';

const RETRYABLE: ReadonlySet<LlmErrorKind> = new Set(['rate_limited', 'server', 'timeout', 'unreachable']);

/** A failed model call, with a message written for the user. Messages never carry an API key. */
export class LlmError extends AppError {
  /** Worth another attempt: the same request may succeed later. */
  readonly retryable: boolean;
  /** The wait the server asked for (retry-after), when it named one. */
  retryAfterMs: number | null = null;
  /** A request field the server rejected as unsupported (400), when it named one the client can change. */
  unsupportedParam: RequestParam | null = null;

  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly status: number | null = null,
    retryable?: boolean,
  ) {
    super(CODE[kind], message);
    this.name = 'LlmError';
    this.retryable = retryable ?? RETRYABLE.has(kind);
  }
}

// Key-shaped tokens that a server may echo back ("Incorrect API key provided: sk-…"), and Bearer headers.
const KEYLIKE = /\b(sk-[A-Za-z0-9_*-]{6,}|Bearer\s+[^\s"',]+)/g;

/** Removes `secret` (and anything that looks like an API key) from text meant for logs or users. */
export function redact(text: string, secret: string | null): string {
  let out = text;
  if (secret && secret.length >= 4) out = out.split(secret).join('[redacted key]');
  return out.replace(KEYLIKE, (m) => (m.startsWith('Bearer') ? 'Bearer [redacted]' : '[redacted key]'));
}
