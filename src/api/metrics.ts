/**
 * Business metrics, named after the OpenTelemetry conventions (dotted namespaces, units in UCUM).
 * Request count, latency and error rate are not here: they all come from the standard
 * `http.server.request.duration` histogram recorded by telemetry/server-requests.ts.
 */
import { metrics } from '@opentelemetry/api';
import type { Collection, Shop } from './domain/shop.ts';
import type { Order } from './domain/schemas.ts';

export interface ShopMetrics {
  orderPlaced(order: Order): void;
}

const COLLECTIONS: Collection[] = ['users', 'products', 'orders'];

export function createShopMetrics(shop: Shop): ShopMetrics {
  const meter = metrics.getMeter('shop-api');
  const ordersCreated = meter.createCounter('shop.orders.created', {
    description: 'Orders placed successfully',
    unit: '{order}',
  });
  // Exposed at 0 from the first scrape, so increase() and rate() see the first order.
  ordersCreated.add(0);
  const orderValue = meter.createHistogram('shop.order.value', {
    description: 'Total value of each placed order',
    unit: '{USD}',
    advice: { explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] },
  });
  const unitsInStock = meter.createObservableGauge('shop.inventory.units', {
    description: 'Units in stock across all products',
    unit: '{unit}',
  });
  const lowStockProducts = meter.createObservableGauge('shop.inventory.low_stock_products', {
    description: 'Products at or below the low-stock threshold',
    unit: '{product}',
  });
  // One pass over the products per collection for both gauges.
  meter.addBatchObservableCallback(
    (result) => {
      const inventory = shop.inventory();
      result.observe(unitsInStock, inventory.unitsInStock);
      result.observe(lowStockProducts, inventory.lowStockProducts);
    },
    [unitsInStock, lowStockProducts],
  );
  meter
    .createObservableCounter('shop.store.evictions', {
      description: 'Records evicted because a collection reached its capacity',
      unit: '{record}',
    })
    .addCallback((result) => {
      for (const collection of COLLECTIONS) {
        result.observe(shop.evictions(collection), { 'shop.collection': collection });
      }
    });

  return {
    orderPlaced(order) {
      ordersCreated.add(1);
      orderValue.record(order.total);
    },
  };
}
