import type { Middleware } from 'koa';
import { emitErrorLog } from '../telemetry/logs.ts';
import { ApiError, isServerFailure, sendError, toApiError } from '../errors.ts';
import type { RequestState } from './request-context.ts';

/**
 * Turns every failure into the JSON error shape. Failures of the server (5xx except the
 * refusals 501 and 505, see `isServerFailure`) also produce an error record with the stack;
 * a refused request is the client's, and its access record says enough.
 */
export function errorHandler(): Middleware<RequestState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      const apiError = toApiError(error);
      if (isServerFailure(apiError)) {
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
