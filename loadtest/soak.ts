/**
 * Soak: a moderate constant rate for a long time (`DURATION`, default 2h). Finds what only
 * shows with time: memory growth, the bounded store evicting (shop_store_evictions_total),
 * Kafka and Loki retention, consumer lag that creeps up.
 */
import type { Options } from 'k6/options';
import { createShopData, shopperVisit, thresholds } from './lib.ts';
import type { ShopData } from './lib.ts';

export const options: Options = {
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 20),
      timeUnit: '1s',
      duration: __ENV.DURATION || '2h',
      preAllocatedVUs: 40,
      maxVUs: 200,
    },
  },
  thresholds: thresholds({ p95Ms: 300, maxErrorRate: 0.01 }),
};

export function setup(): ShopData {
  return createShopData();
}

export default function (data: ShopData): void {
  shopperVisit(data);
}
