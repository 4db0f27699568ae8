import type Router from '@koa/router';
import { activeTelemetry } from '../telemetry/sdk.ts';
import type { Shop } from '../domain/shop.ts';
import { ApiError } from '../errors.ts';

export interface SystemRoutes {
  shop: Shop;
  version: string;
  faultRoutes: boolean;
}

export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

export function mountSystem(router: Router, { shop, version, faultRoutes }: SystemRoutes): void {
  const startedAt = performance.now();

  router.get('/health', (ctx) => {
    ctx.body = {
      status: 'ok',
      version,
      uptimeSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
    };
  });

  router.get('/analytics', (ctx) => {
    ctx.body = shop.analytics();
  });

  if (faultRoutes) {
    router.get('/faults/error', () => {
      throw new InjectedFault('fault injected by GET /faults/error');
    });
  }

  // Served by the SDK's Prometheus exporter on the API's own port instead of a second one.
  router.get('/metrics', (ctx) => {
    const telemetry = activeTelemetry();
    if (!telemetry) {
      throw new ApiError(503, 'metrics_disabled', 'telemetry is not running in this process');
    }
    ctx.status = 200;
    ctx.respond = false;
    telemetry.prometheus.getMetricsRequestHandler(ctx.req, ctx.res);
  });
}
