import { expect } from 'chai';
import { DomainError, Shop } from '../../src/api/domain/shop.ts';
import { RingRepository } from '../../src/api/store/repository.ts';
import { SlidingWindow } from '../../src/api/domain/sliding-window.ts';

describe('RingRepository', () => {
  it('keeps at most its capacity, evicting the oldest and never reusing ids', () => {
    const evicted: number[] = [];
    const repository = new RingRepository<{ id: number }>(3, (record) => evicted.push(record.id));
    for (let index = 0; index < 5; index += 1) repository.insert((id) => ({ id }));
    expect(repository.count()).to.equal(3);
    expect(evicted).to.deep.equal([1, 2]);
    expect(repository.get(2)).to.equal(undefined);
    expect(repository.get(5)).to.deep.equal({ id: 5 });
    expect(repository.list({ limit: 2, offset: 1 })).to.deep.equal({
      items: [{ id: 4 }, { id: 5 }],
      total: 3,
    });
    expect([...repository.values()].map((record) => record.id)).to.deep.equal([3, 4, 5]);
  });
});

describe('SlidingWindow', () => {
  it('sums only the last N seconds', () => {
    const window = new SlidingWindow(300);
    window.add(1_000_000, 5);
    window.add(1_200_000, 7);
    expect(window.totals(1_250_000)).to.deep.equal({ count: 2, sum: 12 });
    expect(window.totals(1_350_000)).to.deep.equal({ count: 1, sum: 7 });
    expect(window.totals(1_600_000)).to.deep.equal({ count: 0, sum: 0 });
  });
});

describe('Shop', () => {
  const shop = () => new Shop({ capacity: 100, lowStockThreshold: 2 });

  it('sums order totals in cents, without floating-point drift', () => {
    const s = shop();
    const user = s.createUser({ username: 'u_1', email: 'u@example.com' });
    const product = s.createProduct({ name: 'p', price: 0.1, description: '', stock: 10 });
    const { order } = s.placeOrder({
      userId: user.id,
      items: [{ productId: product.id, quantity: 3 }],
    });
    expect(order.total).to.equal(0.3);
  });

  it('reports products that an order takes to the low-stock threshold, once', () => {
    const s = shop();
    const user = s.createUser({ username: 'u_2', email: 'u@example.com' });
    const product = s.createProduct({ name: 'p', price: 1, description: '', stock: 4 });
    const first = s.placeOrder({
      userId: user.id,
      items: [{ productId: product.id, quantity: 2 }],
    });
    expect(first.nowLowOnStock.map((p) => p.id)).to.deep.equal([product.id]);
    const second = s.placeOrder({
      userId: user.id,
      items: [{ productId: product.id, quantity: 1 }],
    });
    expect(second.nowLowOnStock).to.deep.equal([]);
  });

  it('throws typed domain errors', () => {
    const s = shop();
    expect(() => s.placeOrder({ userId: 1, items: [{ productId: 1, quantity: 1 }] }))
      .to.throw(DomainError)
      .with.property('kind', 'unknown_reference');
  });
});
