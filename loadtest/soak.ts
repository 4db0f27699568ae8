/**
 * Soak: a constant `VISITS_PER_S` (default 20 visits/s, about 110 requests/s) for `DURATION`
 * (default 2h). Finds what only shows with time: memory growth, the bounded store evicting
 * (shop_store_evictions), Kafka and Loki retention, consumer lag that creeps up. Open model
 * (arrival rate). From the repository root:
 *
 *   DURATION=30m k6 run loadtest/soak.ts
 *   npm run loadtest -- soak
 */
import type { Options } from 'k6/options';
import {
  arrivalRateVUs,
  commonOptions,
  createShopData,
  durationEnv,
  positiveNumberEnv,
  refuseRenamedEnv,
  shopperVisit,
  thresholds,
} from './lib.ts';
import type { ShopData } from './lib.ts';

refuseRenamedEnv('RATE', 'VISITS_PER_S (it counts visits, not requests)');
const visitsPerS = positiveNumberEnv('VISITS_PER_S', 20);
const P95_MS = 300;

export const options: Options = {
  ...commonOptions('soak'),
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: visitsPerS,
      timeUnit: '1s',
      duration: durationEnv('DURATION', '2h'),
      ...arrivalRateVUs(visitsPerS, P95_MS),
    },
  },
  thresholds: thresholds({ p95Ms: P95_MS, maxErrorRate: 0.01, arrivalRate: true }),
};

export function setup(): ShopData {
  return createShopData();
}

export default function (data: ShopData): void {
  shopperVisit(data, { thinkTime: false });
}
