/**
 * Property-based: whatever a client sends, the answer is a 4xx JSON error (or a success for a
 * valid request), never a 5xx or a crash, and a rejected request leaves the store unchanged.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { startApi, type RunningApi } from '../support/api-server.ts';

const RUNS = 150;

describe('bad input (property-based)', function () {
  this.timeout(120_000);
  let api: RunningApi;
  before(async () => {
    api = await startApi({ bodyLimitBytes: 4096 });
    // Some valid references so that random orders can get past the existence checks.
    await fetch(`${api.baseUrl}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'prop_user', email: 'p@example.com' }),
    });
  });
  after(() => api.close());

  const sizes = () => ({
    users: api.app.shop.users.count(),
    products: api.app.shop.products.count(),
    orders: api.app.shop.orders.count(),
  });

  async function expectRefusedOrCreated(path: string, init: RequestInit): Promise<void> {
    const before = sizes();
    const response = await fetch(`${api.baseUrl}${path}`, { method: 'POST', ...init });
    const text = await response.text();
    expect(response.status, text).to.be.lessThan(500);
    if (response.status === 201) return;
    expect(response.status, text).to.be.within(400, 499);
    const body = JSON.parse(text);
    expect(body.error.code).to.be.a('string');
    expect(body.error.message).to.be.a('string');
    expect(sizes()).to.deep.equal(before);
  }

  const json = (value: unknown): RequestInit => ({
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(value),
  });

  for (const path of ['/users', '/products', '/orders']) {
    it(`POST ${path}: random JSON values`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), (value) =>
          expectRefusedOrCreated(path, json(value)),
        ),
        { numRuns: RUNS },
      );
    });

    it(`POST ${path}: objects with the right keys and wrong or hostile values`, async () => {
      const hostile = fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.constantFrom(
          '\u0000',
          '\r\nlog.type=error',
          '\u001b[31m',
          '"}',
          '💥'.repeat(50),
          'a'.repeat(5000),
        ),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.anything(), { maxLength: 3 }),
      );
      const keys = [
        'username',
        'email',
        'name',
        'price',
        'description',
        'stock',
        'userId',
        'items',
      ];
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...keys), hostile), (value) =>
          expectRefusedOrCreated(path, json(value)),
        ),
        { numRuns: RUNS },
      );
    });

    it(`POST ${path}: bodies that are not JSON, or not declared as JSON`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 200 }),
          fc.constantFrom(
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/xml',
            '',
          ),
          (body, type) =>
            expectRefusedOrCreated(path, { headers: type ? { 'content-type': type } : {}, body }),
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('deeply nested and oversized bodies are refused cleanly', async () => {
    await expectRefusedOrCreated('/users', {
      headers: { 'content-type': 'application/json' },
      body: '['.repeat(4000),
    });
    await expectRefusedOrCreated(
      '/users',
      json({ nested: JSON.parse('['.repeat(500) + ']'.repeat(500)) }),
    );
    await expectRefusedOrCreated(
      '/users',
      json({ username: 'x'.repeat(10_000), email: 'a@example.com' }),
    );
  });

  it('random query strings on list and lookup routes never cause a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/users', '/products', '/orders', '/users/', '/orders/'),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        async (route, key, value) => {
          const suffix = route.endsWith('/')
            ? encodeURIComponent(value)
            : `?${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
          const response = await fetch(`${api.baseUrl}${route}${suffix}`);
          const text = await response.text();
          expect(response.status, text).to.be.lessThan(500);
          expect(() => JSON.parse(text)).to.not.throw();
        },
      ),
      { numRuns: RUNS },
    );
  });
});
