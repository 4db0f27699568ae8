/**
 * Average load: ramps up to `VUS` concurrent shoppers (default 20) over `RAMP` (default 1m),
 * holds them for `HOLD` (default 5m), ramps down over `RAMP`. Closed model: each virtual user
 * makes one visit after another with 0.5-1.5 s of think time. From the repository root:
 *
 *   k6 run loadtest/average-load.ts
 *   VUS=50 HOLD=10m npm run loadtest -- average-load
 *   docker compose --profile loadtest run --rm k6 run /scripts/average-load.ts
 */
import type { Options } from 'k6/options';
import {
  commonOptions,
  createShopData,
  durationEnv,
  positiveNumberEnv,
  shopperVisit,
  thresholds,
} from './lib.ts';
import type { ShopData } from './lib.ts';

const vus = Math.ceil(positiveNumberEnv('VUS', 20));
const ramp = durationEnv('RAMP', '1m');

export const options: Options = {
  ...commonOptions('average-load'),
  scenarios: {
    average: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: ramp, target: vus },
        { duration: durationEnv('HOLD', '5m'), target: vus },
        { duration: ramp, target: 0 },
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
  shopperVisit(data, { thinkTime: true });
}
