/**
 * Smoke test: one virtual user for `DURATION` (default 30s). Proves the API and the scripts
 * work before any real load; any failed request fails the run. From the repository root:
 *
 *   k6 run loadtest/smoke.ts                                     # http://localhost:8000
 *   BASE_URL=http://127.0.0.1:8000 DURATION=10s k6 run loadtest/smoke.ts
 *   npm run loadtest -- smoke                                    # the native demo
 */
import type { Options } from 'k6/options';
import { commonOptions, createShopData, durationEnv, shopperVisit, thresholds } from './lib.ts';
import type { ShopData } from './lib.ts';

export const options: Options = {
  ...commonOptions('smoke'),
  scenarios: {
    smoke: { executor: 'constant-vus', vus: 1, duration: durationEnv('DURATION', '30s') },
  },
  thresholds: thresholds({ p95Ms: 200, maxErrorRate: 0.001 }),
};

export function setup(): ShopData {
  return createShopData(3, 3);
}

export default function (data: ShopData): void {
  shopperVisit(data, { thinkTime: true });
}
