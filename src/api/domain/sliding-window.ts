/**
 * Order count and revenue over the last N seconds in constant memory: one bucket per second in a
 * ring, so a burst of traffic cannot grow it.
 */
export class SlidingWindow {
  readonly #seconds: number;
  readonly #buckets: { second: number; count: number; sum: number }[];

  constructor(seconds: number) {
    this.#seconds = seconds;
    this.#buckets = Array.from({ length: seconds }, () => ({ second: -1, count: 0, sum: 0 }));
  }

  add(atMs: number, value: number): void {
    const second = Math.floor(atMs / 1000);
    const bucket = this.#buckets[second % this.#seconds];
    if (!bucket) return;
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.count = 0;
      bucket.sum = 0;
    }
    bucket.count += 1;
    bucket.sum += value;
  }

  totals(nowMs: number): { count: number; sum: number } {
    const now = Math.floor(nowMs / 1000);
    let count = 0;
    let sum = 0;
    for (const bucket of this.#buckets) {
      if (bucket.second > now - this.#seconds && bucket.second <= now) {
        count += bucket.count;
        sum += bucket.sum;
      }
    }
    return { count, sum };
  }
}
