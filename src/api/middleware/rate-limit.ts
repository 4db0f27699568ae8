import type { Middleware } from 'koa';
import { ApiError } from '../errors.ts';

export interface RateLimitOptions {
  /** Requests allowed per client address per window; 0 disables the limit. */
  limit: number;
  windowMs: number;
  /** Distinct clients tracked per window; beyond it, new clients share one bucket. */
  maxClients?: number;
  now?: () => number;
}

const SHARED_BUCKET = '*';

/**
 * Fixed-window limit per client address: past `limit` requests in a window the answer is 429
 * with Retry-After (seconds until the window ends). The table is cleared every window and capped,
 * so a flood of spoofed or rotating addresses cannot grow memory.
 */
export function rateLimit({
  limit,
  windowMs,
  maxClients = 10_000,
  now = Date.now,
}: RateLimitOptions): Middleware {
  if (limit <= 0) return (_ctx, next) => next();
  let windowStart = now();
  let counts = new Map<string, number>();
  return async (ctx, next) => {
    const time = now();
    if (time - windowStart >= windowMs) {
      windowStart = time - ((time - windowStart) % windowMs);
      counts = new Map();
    }
    const key =
      counts.has(ctx.request.ip) || counts.size < maxClients ? ctx.request.ip : SHARED_BUCKET;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    if (count > limit) {
      ctx.set(
        'Retry-After',
        String(Math.max(1, Math.ceil((windowStart + windowMs - time) / 1000))),
      );
      throw new ApiError(
        429,
        'rate_limited',
        `more than ${limit} requests in ${windowMs / 1000} s`,
      );
    }
    await next();
  };
}
