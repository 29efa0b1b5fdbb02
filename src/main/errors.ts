import type { ApiError, ErrorCode } from '#shared/contract';

/** An error whose message is written for the user: what went wrong and what to do next. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} does not exist.`);
export const badRequest = (message: string): AppError => new AppError('bad_request', message);

export function toApiError(err: unknown): ApiError {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `Unexpected error: ${message}` };
}
