/**
 * Shared by the k6 scripts: the target, the requests of one shopper's visit, and the thresholds.
 * k6 (>= 1.1) runs these TypeScript files directly; `loadtest/tsconfig.json` type-checks them
 * against @types/k6, and the integration suite runs every script with real k6 against the real
 * API (test/integration/k6.test.ts).
 *
 * Every request carries a `name` tag with the route (`GET /users/:id`), matching the API's
 * `http_request_method` and `http_route` metric labels, so ids do not create one time series per
 * URL, and a `phase` tag: `setup` for the data prepared before the load, `visit` for the load
 * itself. Thresholds look at `phase:visit` only.
 */
import { check, fail, group, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import type { Options } from 'k6/options';

export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8000').replace(/\/+$/, '');

/**
 * Route templates a visit exercises, each with `every`: the route is requested on the visits
 * whose number (counted across the whole scenario, from 0) is a multiple of it. Visit 0 thus
 * requests every route, and a run of any length exercises all of them; over many visits the
 * share of a route is 1/every.
 */
export const ROUTES = {
  'GET /products': { every: 1 },
  'GET /products/:id': { every: 1 },
  'GET /users/:id': { every: 1 },
  'GET /users': { every: 3 },
  'POST /orders': { every: 1 },
  // Only after a successful order; a failed order is already a failed check.
  'GET /orders/:id': { every: 1 },
  'POST /users': { every: 10 },
  'POST /products': { every: 20 },
  'GET /analytics': { every: 20 },
} as const;
export type Route = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as Route[];

/** The most requests one visit makes (visit 0 makes them all). */
export const MAX_REQUESTS_PER_VISIT = ROUTE_NAMES.length;

/** Think time between visits of one virtual user in the closed-model scripts, seconds. */
const THINK_TIME_S = { min: 0.5, max: 1.5 };

export interface ShopData {
  userIds: number[];
  productIds: number[];
}

type Phase = 'setup' | 'visit';
type Response = RefinedResponse<ResponseType | undefined>;

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/**
 * A number from the environment, or `fallback` when unset. Fails the run at start on anything
 * that is not a positive number, rather than running a test with NaN as its rate.
 */
export function positiveNumberEnv(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not a positive number`);
  }
  return value;
}

/** A k6 duration (`30s`, `1m30s`, `2h`) from the environment, or `fallback` when unset. */
export function durationEnv(name: string, fallback: string): string {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(raw)) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not a duration such as 30s, 5m or 1h30m`);
  }
  return raw;
}

/**
 * Refuses a variable that was renamed, so an old command line fails loudly instead of
 * silently running with the default.
 */
export function refuseRenamedEnv(old: string, replacement: string): void {
  if (__ENV[old] !== undefined) {
    throw new Error(`${old} was renamed ${replacement}; set ${replacement} instead`);
  }
}

function request(route: Route, path: string, phase: Phase, body?: unknown): Response {
  const [method = 'GET'] = route.split(' ');
  const params = { tags: { name: route, phase }, headers: JSON_HEADERS };
  return body === undefined
    ? http.request(method, `${BASE_URL}${path}`, null, params)
    : http.request(method, `${BASE_URL}${path}`, JSON.stringify(body), params);
}

/**
 * A setup request that waits out 429 (Retry-After) up to ten times: setup prepares data, it is
 * not the measured load, and it must still succeed against an API with a rate limit so that the
 * load itself meets the limit.
 */
function setupRequest(route: Route, path: string, body: unknown): Response {
  for (let attempt = 1; ; attempt += 1) {
    const response = request(route, path, 'setup', body);
    if (response.status !== 429 || attempt >= 10) return response;
    sleep(Number(response.headers['Retry-After']) || 1);
  }
}

function idOf(response: Response): number {
  const id = response.status === 201 ? response.json('id') : undefined;
  if (typeof id !== 'number') {
    fail(`expected 201 with an id, got ${response.status}: ${String(response.body).slice(0, 200)}`);
  }
  return id;
}

function pick<T>(values: readonly T[]): T {
  const value = values[Math.floor(Math.random() * values.length)];
  if (value === undefined) fail('nothing to pick from: setup created no data');
  return value;
}

/**
 * A username unique across virtual users, iterations and runs (usernames must be unique), of
 * at most 32 characters of [a-z0-9_]. Built from the clock and a random part only: k6 defines
 * `__VU` and `__ITER` inside iterations but not in setup(), where users are created too.
 */
function uniqueName(prefix: string): string {
  const random = Math.floor(Math.random() * 36 ** 8)
    .toString(36)
    .padStart(8, '0');
  return `${prefix}_${Date.now().toString(36)}_${random}`;
}

function newProduct(label: string, price: number): { name: string; price: number; stock: number } {
  // Stock is large so that orders do not start failing with 409 halfway through a long run.
  return { name: `k6 product ${label}`, price, stock: 10_000_000 };
}

/**
 * Runs once before the load: users and products that orders can refer to.
 * @throws (k6 `fail`, exit code 107) when the API is not healthy or refuses to create them.
 */
export function createShopData(users = 20, products = 20): ShopData {
  const health = http.get(`${BASE_URL}/health`, { tags: { name: 'GET /health', phase: 'setup' } });
  if (health.status !== 200) fail(`${BASE_URL}/health answered ${health.status}`);
  const userIds: number[] = [];
  const productIds: number[] = [];
  for (let i = 0; i < users; i += 1) {
    const body = { username: uniqueName('k6'), email: `k6${i}@example.com` };
    userIds.push(idOf(setupRequest('POST /users', '/users', body)));
  }
  for (let i = 0; i < products; i += 1) {
    const body = newProduct(String(i), 1 + (i % 50) + 0.99);
    productIds.push(idOf(setupRequest('POST /products', '/products', body)));
  }
  return { userIds, productIds };
}

function due(route: Route, visit: number): boolean {
  return visit % ROUTES[route].every === 0;
}

/**
 * One shopper's visit: browse, look at a few records, order, and on some visits list users,
 * sign up, list a new product and look at the analytics (see ROUTES).
 * `thinkTime`: sleep 0.5-1.5 s at the end, as a person would between visits (closed model);
 * arrival-rate scripts pass false, since there the arrival rate alone paces the visits and a
 * sleep would only hold a virtual user for nothing.
 */
export function shopperVisit(data: ShopData, options: { thinkTime: boolean }): void {
  const visit = exec.scenario.iterationInTest;

  group('browse', () => {
    const list = request('GET /products', '/products?limit=20', 'visit');
    check(list, { 'products listed': (r) => r.status === 200 });
    const product = request('GET /products/:id', `/products/${pick(data.productIds)}`, 'visit');
    check(product, { 'product found': (r) => r.status === 200 });
    const user = request('GET /users/:id', `/users/${pick(data.userIds)}`, 'visit');
    check(user, { 'user found': (r) => r.status === 200 });
    if (due('GET /users', visit)) {
      const users = request('GET /users', '/users?limit=20', 'visit');
      check(users, { 'users listed': (r) => r.status === 200 });
    }
  });

  group('order', () => {
    const order = request('POST /orders', '/orders', 'visit', {
      userId: pick(data.userIds),
      items: [
        { productId: pick(data.productIds), quantity: 1 + Math.floor(Math.random() * 3) },
        { productId: pick(data.productIds), quantity: 1 },
      ],
    });
    if (check(order, { 'order created': (r) => r.status === 201 })) {
      const fetched = request('GET /orders/:id', `/orders/${String(order.json('id'))}`, 'visit');
      check(fetched, { 'order found': (r) => r.status === 200 });
    }
  });

  if (due('POST /users', visit)) {
    group('sign up', () => {
      const created = request('POST /users', '/users', 'visit', {
        username: uniqueName('k6'),
        email: 'signup@example.com',
      });
      check(created, { 'user created': (r) => r.status === 201 });
    });
  }

  if (due('POST /products', visit)) {
    group('list a product', () => {
      const created = request('POST /products', '/products', 'visit', newProduct('new', 9.99));
      check(created, { 'product created': (r) => r.status === 201 });
    });
  }

  if (due('GET /analytics', visit)) {
    const analytics = request('GET /analytics', '/analytics', 'visit');
    check(analytics, { 'analytics shown': (r) => r.status === 200 });
  }

  if (options.thinkTime)
    sleep(THINK_TIME_S.min + Math.random() * (THINK_TIME_S.max - THINK_TIME_S.min));
}

/**
 * Virtual users an arrival-rate scenario needs, by Little's law (busy VUs = visits started per
 * second x seconds one visit takes), for a visit of MAX_REQUESTS_PER_VISIT requests without
 * think time:
 * - `preAllocatedVUs`: every request taking 50 ms, a healthy API on the native demo;
 * - `maxVUs`: every request taking the p95 budget. Slower than that, k6 runs out of VUs and
 *   drops iterations, and the `dropped_iterations` threshold fails the run, as the latency
 *   threshold does.
 * @param visitsPerS the highest arrival rate of the scenario, visits per second.
 * @param p95Ms the script's p95 latency budget, milliseconds.
 */
export function arrivalRateVUs(
  visitsPerS: number,
  p95Ms: number,
): { preAllocatedVUs: number; maxVUs: number } {
  const healthyVisitS = MAX_REQUESTS_PER_VISIT * 0.05;
  const slowVisitS = (MAX_REQUESTS_PER_VISIT * p95Ms) / 1000;
  return {
    preAllocatedVUs: Math.max(2, Math.ceil(visitsPerS * healthyVisitS)),
    maxVUs: Math.max(2, Math.ceil(visitsPerS * slowVisitS)),
  };
}

/**
 * Options every script shares: the per-test `testid` tag (from `TESTID`, else the script's name
 * and the start time) that tells runs apart in Prometheus, the tags k6 adds to its metrics (the
 * full URL is left out: one series per id would flood Prometheus), and `count` among the
 * summary's trend statistics, so a summary shows how many samples each latency had.
 */
export function commonOptions(script: string): Options {
  return {
    tags: { testid: __ENV.TESTID || `${script}-${new Date().toISOString()}` },
    systemTags: ['status', 'method', 'name', 'group', 'check', 'scenario', 'expected_response'],
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
  };
}

/**
 * Thresholds that fail a bad run, and that cannot pass on no data:
 * - failed requests above `maxErrorRate`, or checks passing below 1 - `maxErrorRate`;
 * - p95 latency above `p95Ms`, over all visit requests and per route;
 * - per route, fewer than `minRequestsPerRoute` requests (a route with no request would
 *   otherwise show p95 = 0 and pass);
 * - with `arrivalRate`, any dropped iteration (k6 had no free VU to start a planned visit, so
 *   the API did not get the load the script describes).
 * `abortOnFail` stops the run as soon as the failed-request threshold is crossed (exit code
 * 99) instead of hammering an API that is already failing; the other thresholds are judged at
 * the end.
 */
export function thresholds(options: {
  p95Ms: number;
  maxErrorRate: number;
  abortOnFail?: boolean;
  minRequestsPerRoute?: number;
  arrivalRate?: boolean;
}): NonNullable<Options['thresholds']> {
  const { p95Ms, maxErrorRate, abortOnFail = false, minRequestsPerRoute = 1 } = options;
  const result: NonNullable<Options['thresholds']> = {
    http_req_failed: [{ threshold: `rate<${maxErrorRate}`, abortOnFail }],
    checks: [`rate>${1 - maxErrorRate}`],
    'http_req_duration{phase:visit}': [`p(95)<${p95Ms}`],
  };
  for (const route of ROUTE_NAMES) {
    result[`http_req_duration{name:${route},phase:visit}`] = [`p(95)<${p95Ms}`];
    result[`http_reqs{name:${route},phase:visit}`] = [`count>=${minRequestsPerRoute}`];
  }
  if (options.arrivalRate) result.dropped_iterations = ['count==0'];
  return result;
}
