/**
 * The shop's business rules: unique usernames, server-computed order totals and atomic stock
 * checks. Everything runs synchronously on one event loop, so "check every line, then decrement
 * every line" cannot interleave with another order.
 */
import { RingRepository } from '../store/repository.ts';
import { inSpan } from '../store/spans.ts';
import type { Analytics, NewOrder, NewProduct, NewUser, Order, Product, User } from './schemas.ts';
import { SlidingWindow } from './sliding-window.ts';

export type DomainErrorKind = 'not_found' | 'conflict' | 'unknown_reference' | 'insufficient_stock';

export class DomainError extends Error {
  override name = 'DomainError';
  readonly kind: DomainErrorKind;
  readonly details: unknown;

  constructor(kind: DomainErrorKind, message: string, details?: unknown) {
    super(message);
    this.kind = kind;
    this.details = details;
  }
}

export interface ShopOptions {
  /** Records kept per collection before the oldest is evicted. */
  capacity: number;
  /** A product at or below this stock counts as low. */
  lowStockThreshold: number;
  now?: () => number;
}

export interface PlacedOrder {
  order: Order;
  /** Products that this order took to or below the low-stock threshold. */
  nowLowOnStock: Product[];
}

export type Collection = 'users' | 'products' | 'orders';

const TOP_PRODUCTS = 5;
const LOW_STOCK_LISTED = 10;
const RECENT_WINDOW_SECONDS = 300;

const toCents = (amount: number): number => Math.round(amount * 100);
const fromCents = (cents: number): number => cents / 100;

export class Shop {
  readonly users: RingRepository<User>;
  readonly products: RingRepository<Product>;
  readonly orders: RingRepository<Order>;
  readonly #options: Required<ShopOptions>;
  readonly #userIdByName = new Map<string, number>();
  readonly #salesByProduct = new Map<number, { unitsSold: number; revenueCents: number }>();
  readonly #recentOrders = new SlidingWindow(RECENT_WINDOW_SECONDS);
  readonly #evictions = new Map<Collection, number>();
  #revenueCents = 0;

  constructor(options: ShopOptions) {
    this.#options = { now: Date.now, ...options };
    const countEviction = (collection: Collection) => {
      this.#evictions.set(collection, (this.#evictions.get(collection) ?? 0) + 1);
    };
    this.users = new RingRepository<User>(
      options.capacity,
      (user) => {
        this.#userIdByName.delete(user.username);
        countEviction('users');
      },
      'users',
    );
    this.products = new RingRepository<Product>(
      options.capacity,
      (product) => {
        this.#salesByProduct.delete(product.id);
        countEviction('products');
      },
      'products',
    );
    this.orders = new RingRepository<Order>(
      options.capacity,
      () => countEviction('orders'),
      'orders',
    );
  }

  createUser(input: NewUser): User {
    if (this.#userIdByName.has(input.username)) {
      throw new DomainError('conflict', `username "${input.username}" is already taken`);
    }
    const user = this.users.insert((id) => ({ id, ...input, createdAt: this.#timestamp() }));
    this.#userIdByName.set(user.username, user.id);
    return user;
  }

  createProduct(input: NewProduct): Product {
    return this.products.insert((id) => ({ id, ...input, createdAt: this.#timestamp() }));
  }

  /**
   * Places an order in three steps, each a span under the request's (attributes in the `shop.`
   * namespace): `order.validate` (the user and every product exist and have the stock),
   * `order.reserve_stock` (stock decremented, sales counted) and `order.record` (the order
   * stored). A DomainError fails the step that found it; its `error.type` is the error's kind,
   * and the span status stays unset because the client, not the server, was wrong.
   */
  placeOrder(input: NewOrder): PlacedOrder {
    const lines = inSpan(
      'order.validate',
      { 'shop.user.id': input.userId, 'shop.order.line_count': input.items.length },
      () => this.#validateOrder(input),
      (error) => !(error instanceof DomainError),
    );
    const { totalCents, nowLowOnStock } = inSpan(
      'order.reserve_stock',
      { 'shop.order.line_count': lines.length },
      (span) => {
        const reserved = this.#reserveStock(lines);
        span.setAttribute('shop.products.now_low_on_stock', reserved.nowLowOnStock.length);
        return reserved;
      },
    );
    const order = inSpan('order.record', {}, (span) => {
      const stored = this.orders.insert((id) => ({
        id,
        userId: input.userId,
        items: lines.map(({ product, quantity }) => ({
          productId: product.id,
          name: product.name,
          quantity,
          unitPrice: product.price,
        })),
        total: fromCents(totalCents),
        createdAt: this.#timestamp(),
      }));
      span.setAttribute('shop.order.id', stored.id);
      return stored;
    });
    return { order, nowLowOnStock };
  }

  #validateOrder(input: NewOrder): { product: Product; quantity: number }[] {
    if (!this.users.get(input.userId)) {
      throw new DomainError('unknown_reference', `user ${input.userId} does not exist`, {
        userId: input.userId,
      });
    }
    const quantities = new Map<number, number>();
    for (const item of input.items) {
      quantities.set(item.productId, (quantities.get(item.productId) ?? 0) + item.quantity);
    }
    const lines: { product: Product; quantity: number }[] = [];
    for (const [productId, quantity] of quantities) {
      const product = this.products.get(productId);
      if (!product) {
        throw new DomainError('unknown_reference', `product ${productId} does not exist`, {
          productId,
        });
      }
      if (product.stock < quantity) {
        throw new DomainError('insufficient_stock', `not enough stock for product ${productId}`, {
          productId,
          requested: quantity,
          available: product.stock,
        });
      }
      lines.push({ product, quantity });
    }
    return lines;
  }

  #reserveStock(lines: { product: Product; quantity: number }[]): {
    totalCents: number;
    nowLowOnStock: Product[];
  } {
    let totalCents = 0;
    const nowLowOnStock: Product[] = [];
    for (const { product, quantity } of lines) {
      const wasLow = product.stock <= this.#options.lowStockThreshold;
      product.stock -= quantity;
      if (!wasLow && product.stock <= this.#options.lowStockThreshold) nowLowOnStock.push(product);
      const lineCents = toCents(product.price) * quantity;
      totalCents += lineCents;
      const sales = this.#salesByProduct.get(product.id) ?? { unitsSold: 0, revenueCents: 0 };
      sales.unitsSold += quantity;
      sales.revenueCents += lineCents;
      this.#salesByProduct.set(product.id, sales);
    }
    this.#revenueCents += totalCents;
    this.#recentOrders.add(this.#options.now(), totalCents);
    return { totalCents, nowLowOnStock };
  }

  analytics(): Analytics {
    const recent = this.#recentOrders.totals(this.#options.now());
    const topProducts = [...this.#salesByProduct.entries()]
      .sort(([, a], [, b]) => b.unitsSold - a.unitsSold || b.revenueCents - a.revenueCents)
      .slice(0, TOP_PRODUCTS)
      .map(([productId, sales]) => ({
        productId,
        name: this.products.get(productId)?.name ?? '',
        unitsSold: sales.unitsSold,
        revenue: fromCents(sales.revenueCents),
      }));
    const lowStockProducts: Analytics['lowStockProducts'] = [];
    for (const product of this.products.values()) {
      if (product.stock > this.#options.lowStockThreshold) continue;
      lowStockProducts.push({ productId: product.id, name: product.name, stock: product.stock });
      if (lowStockProducts.length === LOW_STOCK_LISTED) break;
    }
    return {
      counts: {
        users: this.users.count(),
        products: this.products.count(),
        orders: this.orders.count(),
      },
      totalRevenue: fromCents(this.#revenueCents),
      lastFiveMinutes: { orders: recent.count, revenue: fromCents(recent.sum) },
      topProducts,
      lowStockProducts,
    };
  }

  /** Units in stock across all products, and how many products are low; for the stock gauges. */
  inventory(): { unitsInStock: number; lowStockProducts: number } {
    let unitsInStock = 0;
    let lowStockProducts = 0;
    for (const product of this.products.values()) {
      unitsInStock += product.stock;
      if (product.stock <= this.#options.lowStockThreshold) lowStockProducts += 1;
    }
    return { unitsInStock, lowStockProducts };
  }

  evictions(collection: Collection): number {
    return this.#evictions.get(collection) ?? 0;
  }

  #timestamp(): string {
    return new Date(this.#options.now()).toISOString();
  }
}
