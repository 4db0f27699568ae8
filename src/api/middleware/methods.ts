/**
 * What happens to a request whose method no route answers, following RFC 9110:
 * - a method this server does not implement for any resource: 501 Not Implemented
 *   (RFC 9110 §15.6.2), whatever the path;
 * - a known method that the target resource does not support: 405 Method Not Allowed with an
 *   `Allow` header listing the methods it does support (RFC 9110 §15.5.6, §10.2.1);
 * - OPTIONS on an existing resource: 204 with `Allow` (RFC 9110 §9.3.7);
 * - anything on a path no route knows: left alone, so the error handler answers 404.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { ApiError } from '../errors.ts';

/**
 * Methods this server recognises: those RFC 9110 §9 defines, PATCH (RFC 5789) and QUERY (the
 * IETF HTTP working group's safe method with a body). Any other method (PURGE, PROPFIND, LINK,
 * MKCOL, ...) is not implemented at all. CONNECT never reaches Koa: Node's HTTP server handles
 * it on its own.
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'QUERY',
]);

/**
 * The methods the resource at `path` supports, in the router's order plus OPTIONS, which
 * this middleware answers for every existing resource; empty when no route matches the path.
 */
export function allowedMethodsOf(router: Router, path: string): string[] {
  const methods = new Set<string>();
  for (const layer of router.match(path, 'GET').path) {
    for (const method of layer.methods) methods.add(method);
  }
  if (methods.size > 0) methods.add('OPTIONS');
  return [...methods];
}

/**
 * Runs after `router.routes()`. A request still unanswered (status 404, no body) is checked
 * against the routes known for its path. Throws ApiError 501 `not_implemented` or 405
 * `method_not_allowed` (with `Allow` already set); the error handler writes the JSON body.
 */
export function methodHandling(router: Router): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || ctx.body !== undefined) return;
    const method = ctx.method.toUpperCase();
    if (!KNOWN_METHODS.has(method)) {
      throw new ApiError(
        501,
        'not_implemented',
        `method ${method} is not implemented by this server`,
      );
    }
    const allowed = allowedMethodsOf(router, ctx.path);
    if (allowed.length === 0) return; // the error handler's 404
    if (method !== 'OPTIONS' && allowed.includes(method)) return; // the route's own answer
    ctx.set('Allow', allowed.join(', '));
    if (method === 'OPTIONS') {
      ctx.status = 204;
      return;
    }
    throw new ApiError(
      405,
      'method_not_allowed',
      `method ${method} is not allowed on ${ctx.path}`,
      { allowed },
    );
  };
}
