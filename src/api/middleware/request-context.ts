import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/** A caller's id is reused only when it is short and plain; anything else gets a fresh one. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export interface RequestState {
  requestId: string;
}

/** Gives every request an id, echoed as X-Request-Id and carried by its access record. */
export function requestContext(): Middleware<RequestState> {
  return async (ctx, next) => {
    const offered = ctx.get('X-Request-Id');
    ctx.state.requestId = ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}
