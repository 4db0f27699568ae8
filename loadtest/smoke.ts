/**
 * Smoke test: one virtual user for 30 s. Proves the API and the scripts work before any
 * real load; any failed request fails the run.
 *
 *   k6 run loadtest/smoke.ts                      # against http://localhost:8000
 *   BASE_URL=http://api:8000 k6 run smoke.ts
 */
import type { Options } from 'k6/options';
import { createShopData, shopperVisit, thresholds } from './lib.ts';
import type { ShopData } from './lib.ts';

export const options: Options = {
  scenarios: {
    smoke: { executor: 'constant-vus', vus: 1, duration: '30s' },
  },
  thresholds: thresholds({ p95Ms: 200, maxErrorRate: 0.001 }),
};

export function setup(): ShopData {
  return createShopData(3, 3);
}

export default function (data: ShopData): void {
  shopperVisit(data);
}
