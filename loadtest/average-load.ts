/**
 * Average load: ramps to the usual number of concurrent shoppers, holds it, ramps down.
 * `VUS` (default 20) and `HOLD` (default 5m) tune it.
 *
 *   docker compose --profile loadtest run --rm k6 run /scripts/average-load.ts
 */
import type { Options } from 'k6/options';
import { createShopData, shopperVisit, thresholds } from './lib.ts';
import type { ShopData } from './lib.ts';

const vus = Number(__ENV.VUS || 20);

export const options: Options = {
  scenarios: {
    average: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: '1m', target: vus },
        { duration: __ENV.HOLD || '5m', target: vus },
        { duration: '1m', target: 0 },
      ],
      gracefulRampDown: '30s',
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
