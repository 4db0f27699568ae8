/**
 * Shared by the k6 scripts: the target, the requests of one shopper's visit, and thresholds
 * per route. k6 (>= 0.57) runs these TypeScript files directly; `loadtest/tsconfig.json`
 * type-checks them against @types/k6 (test/unit/k6.test.ts).
 *
 * Every request carries a `route` tag with the route *template* (`/users/:id`), the same
 * value as the API's `http_route` metric label, so k6's per-route latency and Grafana's
 * per-route panels line up, and ids do not create one time series per URL.
 */
import { check, fail, group, sleep } from 'k6';
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import type { Options } from 'k6/options';

export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8000').replace(/\/+$/, '');

/** Route templates exercised by a visit, each with its own latency threshold. */
export const ROUTES = [
  'GET /users',
  'GET /users/:id',
  'POST /users',
  'GET /products',
  'GET /products/:id',
  'POST /products',
  'GET /orders/:id',
  'POST /orders',
  'GET /analytics',
] as const;
export type Route = (typeof ROUTES)[number];

export interface ShopData {
  userIds: number[];
  productIds: number[];
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function request(
  route: Route,
  path: string,
  body?: unknown,
): RefinedResponse<ResponseType | undefined> {
  const [method = 'GET', template = path] = route.split(' ');
  const params = { tags: { name: route, route: template }, headers: JSON_HEADERS };
  return body === undefined
    ? http.request(method, `${BASE_URL}${path}`, null, params)
    : http.request(method, `${BASE_URL}${path}`, JSON.stringify(body), params);
}

function idOf(response: RefinedResponse<ResponseType | undefined>): number {
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

/** A name unique across VUs, iterations and runs (usernames must be unique). */
function uniqueName(prefix: string): string {
  const random = Math.floor(Math.random() * 1e9).toString(36);
  return `${prefix}_${__VU}_${__ITER}_${random}`.slice(0, 32);
}

/**
 * Runs once before the load: users and products that orders can refer to. Stock is large so
 * that orders do not start failing with 409 halfway through a long run.
 */
export function createShopData(users = 20, products = 20): ShopData {
  const health = http.get(`${BASE_URL}/health`);
  if (health.status !== 200) fail(`${BASE_URL}/health answered ${health.status}`);
  const userIds: number[] = [];
  const productIds: number[] = [];
  for (let i = 0; i < users; i += 1) {
    userIds.push(
      idOf(
        request('POST /users', '/users', {
          username: uniqueName('k6'),
          email: `k6${i}@example.com`,
        }),
      ),
    );
  }
  for (let i = 0; i < products; i += 1) {
    productIds.push(
      idOf(
        request('POST /products', '/products', {
          name: `k6 product ${i}`,
          price: 1 + (i % 50) + 0.99,
          stock: 10_000_000,
        }),
      ),
    );
  }
  return { userIds, productIds };
}

/** One shopper's visit: browse, look at a few records, sometimes sign up and order. */
export function shopperVisit(data: ShopData): void {
  group('browse', () => {
    const list = request('GET /products', '/products?limit=20');
    check(list, { 'products listed': (r) => r.status === 200 });
    const product = request('GET /products/:id', `/products/${pick(data.productIds)}`);
    check(product, { 'product found': (r) => r.status === 200 });
    const user = request('GET /users/:id', `/users/${pick(data.userIds)}`);
    check(user, { 'user found': (r) => r.status === 200 });
    if (Math.random() < 0.3) {
      check(request('GET /users', '/users?limit=20'), { 'users listed': (r) => r.status === 200 });
    }
  });

  group('order', () => {
    const order = request('POST /orders', '/orders', {
      userId: pick(data.userIds),
      items: [
        { productId: pick(data.productIds), quantity: 1 + Math.floor(Math.random() * 3) },
        { productId: pick(data.productIds), quantity: 1 },
      ],
    });
    if (check(order, { 'order created': (r) => r.status === 201 })) {
      const id = order.json('id');
      const fetched = request('GET /orders/:id', `/orders/${String(id)}`);
      check(fetched, { 'order found': (r) => r.status === 200 });
    }
  });

  if (Math.random() < 0.1) {
    group('sign up', () => {
      const created = request('POST /users', '/users', {
        username: uniqueName('k6'),
        email: 'signup@example.com',
      });
      check(created, { 'user created': (r) => r.status === 201 });
    });
  }

  if (Math.random() < 0.05) {
    check(request('GET /analytics', '/analytics'), { analytics: (r) => r.status === 200 });
  }

  sleep(0.5 + Math.random());
}

/**
 * Thresholds that fail a bad run: any failed request above `maxErrorRate`, failed checks,
 * or a route whose p95 is above its budget. `abortOnFail` stops a spike test early instead
 * of hammering an API that is already failing.
 */
export function thresholds(options: {
  p95Ms: number;
  maxErrorRate: number;
  abortOnFail?: boolean;
}): NonNullable<Options['thresholds']> {
  const { p95Ms, maxErrorRate, abortOnFail = false } = options;
  const result: NonNullable<Options['thresholds']> = {
    http_req_failed: [{ threshold: `rate<${maxErrorRate}`, abortOnFail }],
    checks: [`rate>${1 - maxErrorRate}`],
    http_req_duration: [`p(95)<${p95Ms}`],
  };
  for (const route of ROUTES) {
    result[`http_req_duration{name:${route}}`] = [`p(95)<${p95Ms}`];
  }
  return result;
}
