import type { Middleware } from 'koa';
import { emitAccessLog } from '../../telemetry/logs.ts';
import type { RequestState } from './request-context.ts';

/**
 * Exactly one access record per request, written after the error handler has settled the final
 * status. It runs inside the HTTP server span, so the record carries its trace and span ids.
 */
export function accessLog(): Middleware<RequestState> {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      emitAccessLog({
        method: ctx.method,
        route: typeof route === 'string' ? route : undefined,
        path: ctx.path,
        status: ctx.status,
        durationSeconds: Number(process.hrtime.bigint() - ctx.state.startedAt) / 1e9,
        clientAddress: ctx.request.ip,
        userAgent: ctx.get('User-Agent') || undefined,
        requestId: ctx.state.requestId,
      });
    }
  };
}
