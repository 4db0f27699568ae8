/**
 * Bounded in-memory storage. Each collection keeps at most `capacity` records; inserting past
 * that evicts the oldest record (FIFO), so a long load test cannot grow memory without limit.
 * Ids are assigned in insertion order and never reused, which keeps the live ids one contiguous
 * range: lookups and pages are O(1) index arithmetic on a ring buffer.
 *
 * Each public operation (insert, get, list) is one span named after the collection (spans.ts);
 * `count` and `values` serve metrics and analytics and are not traced.
 */
import { storeOperation } from './spans.ts';

export interface Page {
  limit: number;
  offset: number;
}

export interface PageResult<T> {
  items: T[];
  total: number;
}

export interface Repository<T extends { id: number }> {
  /** Stores the record built for the next id and returns it. */
  insert(build: (id: number) => T): T;
  get(id: number): T | undefined;
  /** Oldest first. */
  list(page: Page): PageResult<T>;
  count(): number;
  values(): Iterable<T>;
}

export type EvictionListener<T> = (evicted: T) => void;

export class RingRepository<T extends { id: number }> implements Repository<T> {
  readonly #slots: (T | undefined)[] = [];
  readonly #capacity: number;
  readonly #onEvict: EvictionListener<T> | undefined;
  readonly #collection: string;
  #firstId = 1;
  #nextId = 1;

  /** `collection` names the spans and their `db.collection.name`, e.g. `orders`. */
  constructor(capacity: number, onEvict?: EvictionListener<T>, collection = 'records') {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
    this.#onEvict = onEvict;
    this.#collection = collection;
  }

  insert(build: (id: number) => T): T {
    return storeOperation(this.#collection, 'insert', () => {
      const record = build(this.#nextId);
      if (this.count() === this.#capacity) {
        const evicted = this.#get(this.#firstId);
        this.#firstId += 1;
        if (evicted) this.#onEvict?.(evicted);
      }
      this.#slots[this.#slotOf(this.#nextId)] = record;
      this.#nextId += 1;
      return record;
    });
  }

  get(id: number): T | undefined {
    return storeOperation(this.#collection, 'get', (span) => {
      const record = this.#get(id);
      // How many records came back: 0 for an unknown id.
      span.setAttribute('db.response.returned_rows', record ? 1 : 0);
      return record;
    });
  }

  list({ limit, offset }: Page): PageResult<T> {
    return storeOperation(this.#collection, 'list', (span) => {
      const total = this.count();
      const items: T[] = [];
      for (let index = offset; index < Math.min(total, offset + limit); index += 1) {
        const record = this.#get(this.#firstId + index);
        if (record) items.push(record);
      }
      span.setAttribute('db.response.returned_rows', items.length);
      return { items, total };
    });
  }

  #get(id: number): T | undefined {
    if (!Number.isInteger(id) || id < this.#firstId || id >= this.#nextId) return undefined;
    return this.#slots[this.#slotOf(id)];
  }

  count(): number {
    return this.#nextId - this.#firstId;
  }

  *values(): IterableIterator<T> {
    for (let id = this.#firstId; id < this.#nextId; id += 1) {
      const record = this.#get(id);
      if (record) yield record;
    }
  }

  #slotOf(id: number): number {
    return (id - 1) % this.#capacity;
  }
}
