/**
 * One error shape for every failure: `{"error": {"code", "message", "details"?}}`.
 */
import { STATUS_CODES } from 'node:http';
import type { Context } from 'koa';
import { z } from 'zod';
import { DomainError, type DomainErrorKind } from './domain/shop.ts';

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const STATUS_OF_DOMAIN_ERROR: Record<DomainErrorKind, number> = {
  not_found: 404,
  conflict: 409,
  insufficient_stock: 409,
  // The URL exists; what the body refers to does not.
  unknown_reference: 422,
};

/** Errors thrown by Koa and its router (http-errors instances) carry a status. */
interface HttpError {
  status: number;
  expose?: boolean;
  message: string;
}

function isHttpError(error: unknown): error is HttpError {
  if (!(error instanceof Error)) return false;
  const status: unknown = (error as { status?: unknown }).status;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 600;
}

/** Codes that differ from the snake-cased reason phrase of their status. */
const CODE_OF_STATUS: Record<number, string> = {
  413: 'payload_too_large',
  429: 'rate_limited',
};

/**
 * 5xx statuses that describe the request rather than a failure of the server: the method or
 * feature is not implemented (RFC 9110 §15.6.2) or the HTTP version is not supported
 * (§15.6.6). They are answered as such, not as 500, and are not logged as failures.
 */
const REFUSAL_STATUSES: ReadonlySet<number> = new Set([501, 505]);

/** `method_not_allowed` for 405: the standard reason phrase in snake case. */
function codeOfStatus(status: number): string {
  const phrase = STATUS_CODES[status];
  if (CODE_OF_STATUS[status]) return CODE_OF_STATUS[status];
  if (!phrase) return status < 500 ? 'client_error' : 'internal_error';
  return phrase
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/**
 * True when an answer reports a failure of the server (any 5xx except the refusals above):
 * those, and only those, also produce an error record with the exception.
 */
export function isServerFailure(error: ApiError): boolean {
  return error.status >= 500 && !REFUSAL_STATUSES.has(error.status);
}

/**
 * Maps anything thrown by a handler to the public error.
 * - ApiError: as is; DomainError: its kind with the status the README documents.
 * - zod errors: 400 `validation_failed` with `details.issues` (`path`, `message`).
 * - HTTP errors from Koa or the router (anything with an integer `status` 400-599): that status,
 *   its reason phrase as code; the message only when the error is marked to expose it (4xx by
 *   default), else the reason phrase. 5xx ones other than 501 and 505 become 500, since their
 *   cause is a failure here, not the request.
 * - Anything else: 500 `internal_error`, revealing nothing.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DomainError) {
    return new ApiError(
      STATUS_OF_DOMAIN_ERROR[error.kind],
      error.kind,
      error.message,
      error.details,
    );
  }
  if (error instanceof z.ZodError) {
    const issues = error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    return new ApiError(400, 'validation_failed', 'request validation failed', { issues });
  }
  if (isHttpError(error) && (error.status < 500 || REFUSAL_STATUSES.has(error.status))) {
    const exposed = error.expose ?? error.status < 500;
    const message = exposed ? error.message : (STATUS_CODES[error.status] ?? 'error');
    return new ApiError(error.status, codeOfStatus(error.status), message);
  }
  return new ApiError(500, 'internal_error', 'internal server error');
}

export function sendError(ctx: Context, error: ApiError): void {
  ctx.status = error.status;
  ctx.body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}
