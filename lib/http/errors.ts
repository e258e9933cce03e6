import { DeadlineExceededError } from '#lib/deadline';
import { DependencyUnavailableError } from '#lib/errors';
import { IdempotencyKeyReusedError, InvalidCursorError, TaskNotCancelableError, TaskNotFoundError, TaskNotRetryableError } from '#lib/tasks/errors';

export const ERROR_CODES = [
  'INVALID_JSON',
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'TASK_NOT_CANCELABLE',
  'TASK_NOT_RETRYABLE',
  'IDEMPOTENCY_KEY_REUSED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error the HTTP layer raises itself about the request (bad JSON, bad field, too large...). */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown[] = [],
    /** Headers the answer must carry (`Allow` on a 405). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: unknown[] };
  request_id: string;
}

export interface MappedError {
  statusCode: number;
  code: ErrorCode;
  message: string;
  details: unknown[];
  headers?: Record<string, string>;
}

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** True when the error is middy's JSON body parser's, and tells which of its two failures it was. */
function bodyParserFailure(error: unknown): 'media-type' | 'json' | undefined {
  const cause = (error as { cause?: { package?: string } }).cause;
  if (cause?.package !== '@middy/http-json-body-parser') return undefined;
  return (error as Error).message === 'Unsupported Media Type' ? 'media-type' : 'json';
}

/** Maps any error to the contract's status and code. What is not recognised is a 500 and says nothing of itself. */
export function mapError(error: unknown): MappedError {
  if (error instanceof HttpRequestError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message, details: error.details, ...(error.headers ? { headers: error.headers } : {}) };
  }
  switch (bodyParserFailure(error)) {
    case 'media-type':
      return {
        statusCode: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'Content-Type must be application/json',
        details: [],
      };
    case 'json':
      return { statusCode: 400, code: 'INVALID_JSON', message: 'The request body is not valid JSON', details: [] };
  }
  if (error instanceof InvalidCursorError) {
    return {
      statusCode: 400,
      code: 'VALIDATION_ERROR',
      message: `query.cursor: ${error.reason}`,
      details: [{ path: 'query.cursor', message: error.reason }],
    };
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return { statusCode: 409, code: 'IDEMPOTENCY_KEY_REUSED', message: error.message, details: [] };
  }
  if (error instanceof TaskNotFoundError) {
    return { statusCode: 404, code: 'NOT_FOUND', message: error.message, details: [] };
  }
  if (error instanceof TaskNotCancelableError) {
    return {
      statusCode: 409,
      code: 'TASK_NOT_CANCELABLE',
      message: error.message,
      details: [{ status: error.status }],
    };
  }
  if (error instanceof TaskNotRetryableError) {
    return { statusCode: 409, code: 'TASK_NOT_RETRYABLE', message: error.message, details: [{ status: error.status }] };
  }
  if (error instanceof DependencyUnavailableError || error instanceof DeadlineExceededError) {
    return {
      statusCode: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: 'The service is temporarily unavailable; retry later',
      details: [],
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    };
  }
  return { statusCode: 500, code: 'INTERNAL_ERROR', message: 'An internal error occurred', details: [] };
}
