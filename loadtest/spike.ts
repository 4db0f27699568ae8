/**
 * Spike: visits start at `BASE_VISITS_PER_S` (default 5 visits/s) for `CALM` (default 30s),
 * jump to `PEAK_VISITS_PER_S` (default 200 visits/s) in `RAMP` (default 10s), hold the peak for
 * `HOLD` (default 1m), drop back in `RAMP` and stay calm for `CALM`. A visit is 5.5 requests on
 * average (ROUTES in lib.ts), so the default peak is about 1 100 requests/s. Open model
 * (arrival rate): a slow API does not slow the arrivals down, as with real users. Stops early
 * as soon as failed requests pass 5 % (exit code 99). From the repository root:
 *
 *   PEAK_VISITS_PER_S=100 k6 run loadtest/spike.ts
 *   npm run loadtest -- spike
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

refuseRenamedEnv('PEAK_RPS', 'PEAK_VISITS_PER_S (it counts visits, not requests)');
const base = positiveNumberEnv('BASE_VISITS_PER_S', 5);
const peak = positiveNumberEnv('PEAK_VISITS_PER_S', 200);
const calm = durationEnv('CALM', '30s');
const ramp = durationEnv('RAMP', '10s');
const P95_MS = 1000;

export const options: Options = {
  ...commonOptions('spike'),
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: base,
      timeUnit: '1s',
      ...arrivalRateVUs(Math.max(base, peak), P95_MS),
      stages: [
        { duration: calm, target: base },
        { duration: ramp, target: peak },
        { duration: durationEnv('HOLD', '1m'), target: peak },
        { duration: ramp, target: base },
        { duration: calm, target: base },
      ],
    },
  },
  thresholds: thresholds({
    p95Ms: P95_MS,
    maxErrorRate: 0.05,
    abortOnFail: true,
    arrivalRate: true,
  }),
};

export function setup(): ShopData {
  return createShopData(50, 50);
}

export default function (data: ShopData): void {
  shopperVisit(data, { thinkTime: false });
}
