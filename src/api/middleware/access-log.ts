import type { Middleware } from 'koa';
import { annotateRequest } from '../telemetry/server-requests.ts';
import type { RequestState } from './request-context.ts';

/**
 * Gives the request's one access record (and its histogram point) what only the application
 * knows: the request id, the matched route and the span context. The record itself is written
 * when the response closes, from the status the client actually received (see
 * telemetry/server-requests.ts), not from `ctx.status`, which a timed-out or aborted request
 * never sends.
 */
export function accessLog(): Middleware<RequestState> {
  return async (ctx, next) => {
    const annotations = annotateRequest(ctx.req, ctx.res);
    annotations.requestId = ctx.state.requestId;
    annotations.path = ctx.path;
    annotations.route = () => {
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      return typeof route === 'string' ? route : undefined;
    };
    await next();
  };
}
