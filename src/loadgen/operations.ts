/**
 * What the load generator can do to the API. Created users and products are remembered (a
 * bounded sample) so that lookups and orders reference ids that exist; bad requests are the
 * kinds of mistakes real clients make, so the error panels have something to show.
 */

export const OPERATIONS = [
  'list_users',
  'get_user',
  'create_user',
  'list_products',
  'get_product',
  'create_product',
  'list_orders',
  'get_order',
  'create_order',
  'analytics',
  'health',
] as const;
export type OperationName = (typeof OPERATIONS)[number];

export interface PlannedRequest {
  operation: OperationName | 'bad_request';
  path: string;
  init: RequestInit;
}

const MAX_KNOWN_IDS = 1000;
const json = { 'content-type': 'application/json' };

const pick = <T>(items: readonly T[]): T | undefined =>
  items[Math.floor(Math.random() * items.length)];
const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const word = () => Math.random().toString(36).slice(2, 10);

/** Remembers ids the API handed out; keeps a bounded, recent sample. */
export class KnownIds {
  readonly users: number[] = [];
  readonly products: number[] = [];
  readonly orders: number[] = [];

  remember(kind: 'users' | 'products' | 'orders', id: number): void {
    const ids = this[kind];
    ids.push(id);
    if (ids.length > MAX_KNOWN_IDS) ids.shift();
  }
}

const post = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: json,
  body: JSON.stringify(body),
});

/**
 * The operation to run instead of one that needs ids nobody has handed out yet: the create that
 * provides them. Without it the first seconds of a run would look up user 1 or order a product
 * that does not exist, and the non-2xx share would be far above the configured bad share.
 */
export function feasible(operation: OperationName, known: KnownIds): OperationName {
  const needs: Partial<Record<OperationName, ('users' | 'products' | 'orders')[]>> = {
    get_user: ['users'],
    get_product: ['products'],
    get_order: ['orders'],
    create_order: ['users', 'products'],
  };
  const missing = needs[operation]?.find((kind) => known[kind].length === 0);
  if (missing === undefined) return operation;
  if (missing === 'users') return 'create_user';
  if (missing === 'products') return 'create_product';
  return feasible('create_order', known);
}

/**
 * A well-formed request for `operation`, or for the create it first depends on (see
 * `feasible`): every id it refers to was handed out by the API.
 */
export function plan(requested: OperationName, known: KnownIds, sequence: number): PlannedRequest {
  const operation = feasible(requested, known);
  const idOr1 = (ids: number[]) => pick(ids) ?? 1;
  switch (operation) {
    case 'list_users':
      return { operation, path: `/users?limit=${randomInt(5, 50)}`, init: {} };
    case 'get_user':
      return { operation, path: `/users/${idOr1(known.users)}`, init: {} };
    case 'create_user':
      return {
        operation,
        path: '/users',
        init: post({
          username: `user_${sequence}_${word()}`.slice(0, 32),
          email: `${word()}@example.com`,
        }),
      };
    case 'list_products':
      return { operation, path: `/products?limit=${randomInt(5, 50)}`, init: {} };
    case 'get_product':
      return { operation, path: `/products/${idOr1(known.products)}`, init: {} };
    case 'create_product':
      return {
        operation,
        path: '/products',
        init: post({
          name: `Product ${word()}`,
          price: randomInt(1000, 100_000) / 100,
          description: `Description for product ${sequence}`,
          stock: randomInt(50, 500),
        }),
      };
    case 'list_orders':
      return { operation, path: `/orders?limit=${randomInt(5, 50)}`, init: {} };
    case 'get_order':
      return { operation, path: `/orders/${idOr1(known.orders)}`, init: {} };
    case 'create_order': {
      const items = Array.from({ length: randomInt(1, 3) }, () => ({
        productId: idOr1(known.products),
        quantity: randomInt(1, 3),
      }));
      return { operation, path: '/orders', init: post({ userId: idOr1(known.users), items }) };
    }
    case 'analytics':
      return { operation, path: '/analytics', init: {} };
    case 'health':
      return { operation, path: '/health', init: {} };
  }
}

const BAD_REQUESTS: (() => Omit<PlannedRequest, 'operation'>)[] = [
  () => ({ path: '/users', init: post({ username: 'X!', email: 'not-an-email' }) }),
  () => ({ path: '/products', init: post({ name: '', price: -1, stock: 1.5 }) }),
  () => ({
    path: '/orders',
    init: post({ userId: 999_999_999, items: [{ productId: 1, quantity: 1 }] }),
  }),
  () => ({ path: '/users', init: { method: 'POST', headers: json, body: '{"username": ' } }),
  () => ({
    path: '/users',
    init: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' },
  }),
  () => ({ path: `/users/${randomInt(10_000_000, 20_000_000)}`, init: {} }),
  () => ({ path: `/no-such-route/${word()}`, init: {} }),
];

export function planBadRequest(): PlannedRequest {
  const build = pick(BAD_REQUESTS) ?? BAD_REQUESTS[0];
  return { operation: 'bad_request', ...(build ? build() : { path: '/', init: {} }) };
}
