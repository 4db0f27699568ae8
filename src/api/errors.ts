/**
 * One error shape for every failure: `{"error": {"code", "message", "details"?}}`.
 */
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

/** Errors thrown by Koa and its helpers (http-errors) carry a status and an `expose` flag. */
interface HttpError {
  status: number;
  expose?: boolean;
  message: string;
}

function isHttpError(error: unknown): error is HttpError {
  if (!(error instanceof Error)) return false;
  const status: unknown = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 600;
}

const CODE_OF_STATUS: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  501: 'not_implemented',
};

/** Maps anything thrown by a handler to the public error; unexpected errors reveal nothing. */
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
  if (isHttpError(error) && error.status < 500 && error.expose !== false) {
    return new ApiError(
      error.status,
      CODE_OF_STATUS[error.status] ?? 'client_error',
      error.message,
    );
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
