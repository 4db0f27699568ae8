import type { Middleware } from 'koa';
import { emitErrorLog } from '../../telemetry/logs.ts';
import { ApiError, sendError, toApiError } from '../errors.ts';
import type { RequestState } from './request-context.ts';

/** Turns every failure into the JSON error shape; 5xx failures also produce an error record. */
export function errorHandler(): Middleware<RequestState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status >= 500) {
        emitErrorLog(error, {
          'http.request.method': ctx.method,
          'url.path': ctx.path,
          'request.id': ctx.state.requestId,
        });
      }
      sendError(ctx, apiError);
    }
  };
}
