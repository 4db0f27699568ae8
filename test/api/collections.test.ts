import { expect } from 'chai';
import { postJson, startApi, type RunningApi } from '../support/api-server.ts';

describe('users, products and orders over HTTP', () => {
  let api: RunningApi;
  beforeEach(async () => {
    api = await startApi();
  });
  afterEach(() => api.close());

  const get = (path: string) => fetch(`${api.baseUrl}${path}`);
  const post = (path: string, body: unknown) => postJson(api.baseUrl, path, body);

  async function seed() {
    const user = await (await post('/users', { username: 'ada', email: 'ada@example.com' })).json();
    const product = await (
      await post('/products', { name: 'Lamp', price: 19.99, description: 'Warm', stock: 5 })
    ).json();
    return { user, product };
  }

  describe('users', () => {
    it('creates, fetches and lists a user', async () => {
      const created = await post('/users', { username: 'ada_1', email: 'ada@example.com' });
      expect(created.status).to.equal(201);
      const user = await created.json();
      expect(user).to.include({ id: 1, username: 'ada_1', email: 'ada@example.com' });
      expect(created.headers.get('location')).to.equal('/users/1');

      expect(await (await get('/users/1')).json()).to.deep.equal(user);
      const list = await (await get('/users')).json();
      expect(list).to.deep.equal({ items: [user], total: 1, limit: 50, offset: 0 });
    });

    it('rejects a duplicate username with 409', async () => {
      await post('/users', { username: 'ada', email: 'a@example.com' });
      const duplicate = await post('/users', { username: 'ada', email: 'b@example.com' });
      expect(duplicate.status).to.equal(409);
      expect((await duplicate.json()).error.code).to.equal('conflict');
    });

    for (const [why, body] of [
      ['a short username', { username: 'ab', email: 'a@example.com' }],
      ['uppercase letters', { username: 'Ada', email: 'a@example.com' }],
      ['a 33-character username', { username: 'a'.repeat(33), email: 'a@example.com' }],
      ['an invalid email', { username: 'ada', email: 'not-an-email' }],
      ['an unknown field', { username: 'ada', email: 'a@example.com', admin: true }],
      ['a missing field', { username: 'ada' }],
    ] as const) {
      it(`rejects ${why} with 400 and field details`, async () => {
        const response = await post('/users', body);
        expect(response.status).to.equal(400);
        const { error } = await response.json();
        expect(error.code).to.equal('validation_failed');
        expect(error.details.issues).to.be.an('array').with.length.greaterThan(0);
        expect((await (await get('/users')).json()).total).to.equal(0);
      });
    }

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      const missing = await get('/users/42');
      expect(missing.status).to.equal(404);
      expect((await missing.json()).error.code).to.equal('not_found');
      const malformed = await get('/users/abc');
      expect(malformed.status).to.equal(400);
      expect((await malformed.json()).error.code).to.equal('invalid_id');
    });
  });

  describe('products', () => {
    it('creates a product with a cents price and a default description', async () => {
      const response = await post('/products', { name: 'Mug', price: 7.5, stock: 0 });
      expect(response.status).to.equal(201);
      expect(await response.json()).to.include({
        name: 'Mug',
        price: 7.5,
        description: '',
        stock: 0,
      });
    });

    for (const [why, body] of [
      ['a zero price', { name: 'x', price: 0, stock: 1 }],
      ['sub-cent precision', { name: 'x', price: 1.999, stock: 1 }],
      ['negative stock', { name: 'x', price: 1, stock: -1 }],
      ['fractional stock', { name: 'x', price: 1, stock: 1.5 }],
      ['a string price', { name: 'x', price: '1.00', stock: 1 }],
    ] as const) {
      it(`rejects ${why} with 400`, async () => {
        const response = await post('/products', body);
        expect(response.status).to.equal(400);
        expect((await response.json()).error.code).to.equal('validation_failed');
      });
    }
  });

  describe('orders', () => {
    it('computes the total on the server and decrements stock', async () => {
      const { user, product } = await seed();
      const response = await post('/orders', {
        userId: user.id,
        items: [{ productId: product.id, quantity: 2 }],
      });
      expect(response.status).to.equal(201);
      const order = await response.json();
      expect(order.total).to.equal(39.98);
      expect(order.items).to.deep.equal([
        { productId: product.id, name: 'Lamp', quantity: 2, unitPrice: 19.99 },
      ]);
      expect((await (await get(`/products/${product.id}`)).json()).stock).to.equal(3);
      expect((await (await get(`/orders/${order.id}`)).json()).total).to.equal(39.98);
    });

    it('refuses the whole order with 409 when one line lacks stock, changing nothing', async () => {
      const { user, product } = await seed();
      const other = await (await post('/products', { name: 'Rug', price: 5, stock: 10 })).json();
      const response = await post('/orders', {
        userId: user.id,
        items: [
          { productId: other.id, quantity: 4 },
          { productId: product.id, quantity: 3 },
          { productId: product.id, quantity: 3 },
        ],
      });
      expect(response.status).to.equal(409);
      const { error } = await response.json();
      expect(error).to.include({ code: 'insufficient_stock' });
      expect(error.details).to.deep.equal({ productId: product.id, requested: 6, available: 5 });
      expect((await (await get(`/products/${other.id}`)).json()).stock).to.equal(10);
      expect((await (await get('/orders')).json()).total).to.equal(0);
    });

    it('answers 422 when the user or a product does not exist', async () => {
      const { user, product } = await seed();
      const noUser = await post('/orders', {
        userId: 99,
        items: [{ productId: product.id, quantity: 1 }],
      });
      expect(noUser.status).to.equal(422);
      expect((await noUser.json()).error.code).to.equal('unknown_reference');
      const noProduct = await post('/orders', {
        userId: user.id,
        items: [{ productId: 99, quantity: 1 }],
      });
      expect(noProduct.status).to.equal(422);
    });

    it('rejects an empty item list and a zero quantity', async () => {
      const { user, product } = await seed();
      expect((await post('/orders', { userId: user.id, items: [] })).status).to.equal(400);
      const zero = await post('/orders', {
        userId: user.id,
        items: [{ productId: product.id, quantity: 0 }],
      });
      expect(zero.status).to.equal(400);
    });
  });

  describe('pagination', () => {
    it('pages with limit and offset, and bounds both', async () => {
      for (let index = 0; index < 7; index += 1) {
        await post('/products', { name: `P${index}`, price: 1, stock: 1 });
      }
      const page = await (await get('/products?limit=3&offset=5')).json();
      expect(page.items.map((product: { name: string }) => product.name)).to.deep.equal([
        'P5',
        'P6',
      ]);
      expect(page).to.include({ total: 7, limit: 3, offset: 5 });
      for (const query of ['limit=0', 'limit=501', 'offset=-1', 'limit=abc', 'page=2']) {
        const response = await get(`/products?${query}`);
        expect(response.status, query).to.equal(400);
        expect((await response.json()).error.code).to.equal('validation_failed');
      }
    });
  });

  describe('bounded storage', () => {
    it('evicts the oldest record once a collection is full, and frees its username', async () => {
      await api.close();
      api = await startApi({ storeCapacity: 2 });
      for (const name of ['one', 'two', 'three']) {
        expect(
          (await post('/users', { username: name, email: `${name}@example.com` })).status,
        ).to.equal(201);
      }
      const list = await (await get('/users')).json();
      expect(list.total).to.equal(2);
      expect(list.items.map((user: { username: string }) => user.username)).to.deep.equal([
        'two',
        'three',
      ]);
      expect((await get('/users/1')).status).to.equal(404);
      expect(
        (await post('/users', { username: 'one', email: 'again@example.com' })).status,
      ).to.equal(201);
    });
  });
});
