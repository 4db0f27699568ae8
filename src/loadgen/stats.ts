/** Counts and latency percentiles of a load run, in bounded memory. */

const RESERVOIR = 10_000;

export class RunStats {
  requests = 0;
  errors = 0; // network failures, no HTTP status
  skipped = 0; // ticks dropped because `concurrency` requests were already in flight
  readonly byStatusClass = new Map<string, number>();
  #latencies: number[] = [];
  #seen = 0;

  record(status: number | undefined, latencyMs: number): void {
    this.requests += 1;
    if (status === undefined) {
      this.errors += 1;
      return;
    }
    const statusClass = `${Math.floor(status / 100)}xx`;
    this.byStatusClass.set(statusClass, (this.byStatusClass.get(statusClass) ?? 0) + 1);
    // Reservoir sampling keeps an unbiased sample of every latency seen, whatever the run length.
    this.#seen += 1;
    if (this.#latencies.length < RESERVOIR) this.#latencies.push(latencyMs);
    else {
      const slot = Math.floor(Math.random() * this.#seen);
      if (slot < RESERVOIR) this.#latencies[slot] = latencyMs;
    }
  }

  percentile(p: number): number {
    if (this.#latencies.length === 0) return 0;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  }

  /** Responses that are not 2xx, plus network errors. */
  failures(): number {
    let failures = this.errors;
    for (const [statusClass, count] of this.byStatusClass)
      if (statusClass !== '2xx') failures += count;
    return failures;
  }
}
