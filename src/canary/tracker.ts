/**
 * Bookkeeping of the canary: which sequence numbers were emitted when, which the store has
 * shown, how late, and how often. Pure logic, so it is tested without any store.
 */

export interface Observation {
  /** Records missing right now: emitted longer ago than the deadline and never seen. */
  missing: number;
  /** Sequence numbers seen for the first time in this observation, with their latency. */
  arrived: { seq: number; latencySeconds: number }[];
  /** Sequence numbers seen more than once for the first time in this observation. */
  newlyDuplicated: number;
}

export class CanaryTracker {
  readonly #deadlineMs: number;
  /** Emitted and not yet seen: seq -> emit time. */
  readonly #outstanding = new Map<number, number>();
  /** Seen at least once, kept while they may still be reported (duplicates); bounded. */
  readonly #seen = new Map<number, { count: number; emittedAt: number }>();
  #nextSeq = 0;

  constructor(deadlineMs: number) {
    this.#deadlineMs = deadlineMs;
  }

  emit(now: number): number {
    const seq = this.#nextSeq;
    this.#nextSeq += 1;
    this.#outstanding.set(seq, now);
    return seq;
  }

  /** Emit time of the oldest record still of interest, to bound the store query. */
  oldestEmitTime(now: number): number {
    let oldest = now;
    for (const emittedAt of this.#outstanding.values()) oldest = Math.min(oldest, emittedAt);
    for (const { emittedAt } of this.#seen.values()) oldest = Math.min(oldest, emittedAt);
    return oldest;
  }

  /**
   * Takes every sequence number the store returned for the query window (with repetitions) and
   * updates the counts. Records older than `retainMs` are forgotten, keeping memory bounded.
   */
  observe(found: number[], now: number, retainMs: number): Observation {
    const counts = new Map<number, number>();
    for (const seq of found) counts.set(seq, (counts.get(seq) ?? 0) + 1);

    const arrived: Observation['arrived'] = [];
    let newlyDuplicated = 0;
    for (const [seq, count] of counts) {
      const emittedAt = this.#outstanding.get(seq);
      if (emittedAt !== undefined) {
        this.#outstanding.delete(seq);
        this.#seen.set(seq, { count, emittedAt });
        arrived.push({ seq, latencySeconds: (now - emittedAt) / 1000 });
        if (count > 1) newlyDuplicated += 1;
        continue;
      }
      const seen = this.#seen.get(seq);
      if (seen && count > seen.count) {
        if (seen.count === 1) newlyDuplicated += 1;
        seen.count = count;
      }
    }
    for (const [seq, { emittedAt }] of this.#seen) {
      if (now - emittedAt > retainMs) this.#seen.delete(seq);
    }
    let missing = 0;
    for (const emittedAt of this.#outstanding.values()) {
      if (now - emittedAt > this.#deadlineMs) missing += 1;
    }
    return { missing, arrived, newlyDuplicated };
  }
}
