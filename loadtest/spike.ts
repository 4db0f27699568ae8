/**
 * Spike: the request rate jumps from a trickle to `PEAK_RPS` (default 200 visits/s) in
 * 10 s, holds for a minute, and drops back. Open model (arrival rate): a slow API does not
 * slow the arrivals down, as with real users. Aborts early when errors pass 5 %.
 */
import type { Options } from 'k6/options';
import { createShopData, shopperVisit, thresholds } from './lib.ts';
import type { ShopData } from './lib.ts';

const peak = Number(__ENV.PEAK_RPS || 200);

export const options: Options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: 5,
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: Math.max(100, peak * 3),
      stages: [
        { duration: '30s', target: 5 },
        { duration: '10s', target: peak },
        { duration: '1m', target: peak },
        { duration: '10s', target: 5 },
        { duration: '30s', target: 5 },
      ],
    },
  },
  thresholds: thresholds({ p95Ms: 1000, maxErrorRate: 0.05, abortOnFail: true }),
};

export function setup(): ShopData {
  return createShopData(50, 50);
}

export default function (data: ShopData): void {
  shopperVisit(data);
}
