/**
 * The Koa application: small middleware composed in the order a request meets them.
 */
import Router from '@koa/router';
import Koa from 'koa';
import type { ApiConfig } from './config.ts';
import { Shop } from './domain/shop.ts';
import { NewOrder, NewProduct, NewUser } from './domain/schemas.ts';
import { createShopMetrics } from './metrics.ts';
import { accessLog } from './middleware/access-log.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { methodHandling } from './middleware/methods.ts';
import { requestContext, type RequestState } from './middleware/request-context.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { mountCollection } from './routes/collections.ts';
import { mountDocs } from './routes/docs.ts';
import { mountSystem } from './routes/system.ts';
import { emitAppLog } from './telemetry/logs.ts';

export interface App {
  koa: Koa<RequestState>;
  shop: Shop;
}

export function createApp(config: ApiConfig, version: string): App {
  const shop = new Shop({
    capacity: config.storeCapacity,
    lowStockThreshold: config.lowStockThreshold,
  });
  const shopMetrics = createShopMetrics(shop);
  const router = new Router();
  const bodyLimitBytes = config.bodyLimitBytes;

  mountCollection(router, {
    path: '/users',
    repository: shop.users,
    input: NewUser,
    create: (input) => shop.createUser(input),
    bodyLimitBytes,
  });
  mountCollection(router, {
    path: '/products',
    repository: shop.products,
    input: NewProduct,
    create: (input) => shop.createProduct(input),
    bodyLimitBytes,
  });
  mountCollection(router, {
    path: '/orders',
    repository: shop.orders,
    input: NewOrder,
    create: (input) => {
      const { order, nowLowOnStock } = shop.placeOrder(input);
      shopMetrics.orderPlaced(order);
      emitAppLog('order.created', `order ${order.id} created`, {
        'order.id': order.id,
        'user.id': order.userId,
        'order.total': order.total,
        'order.items': order.items.length,
      });
      for (const product of nowLowOnStock) {
        emitAppLog('stock.low', `product ${product.id} is low on stock`, {
          'product.id': product.id,
          'product.stock': product.stock,
        });
      }
      return order;
    },
    bodyLimitBytes,
  });
  mountSystem(router, { shop, version, faultRoutes: config.faultRoutes });
  mountDocs(router, { version });

  const koa = new Koa<RequestState>({ proxy: false });
  // Errors are all handled by errorHandler; Koa's default handler would print stack traces.
  koa.silent = true;
  koa
    .use(requestContext())
    .use(accessLog())
    .use(errorHandler())
    .use(securityHeaders())
    .use(rateLimit({ limit: config.rateLimitPerSecond, windowMs: 1000 }))
    // Wraps the routes: answers what no route took (405 with Allow, 501, OPTIONS).
    .use(methodHandling(router))
    .use(router.routes());
  return { koa, shop };
}
