/**
 * Keeps retrying a failed log export for a while before giving up on the batch.
 *
 * The OTLP exporter's own retries span only a few seconds, so without this a Collector restart or
 * a short network outage loses every batch exported meanwhile. While a batch is being retried
 * the batch processor does not export the next one; new records wait in its bounded queue
 * (OTEL_BLRP_MAX_QUEUE_SIZE), and only what overflows that queue is dropped, and counted.
 */
import { setTimeout } from 'node:timers/promises';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';

export interface RetryOptions {
  /** Give up on a batch this long after its first attempt. */
  maxElapsedMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Cuts a batch into the parts sent as separate requests (see request-size.ts). Each
   * part is retried on its own, so a part already delivered is never sent again, and all parts
   * share the batch's retry window, so a batch never takes longer than `maxElapsedMs` plus one
   * attempt per part.
   */
  split?: (records: ReadableLogRecord[]) => ReadableLogRecord[][];
}

export class RetryingLogRecordExporter implements LogRecordExporter {
  readonly #inner: LogRecordExporter;
  readonly #options: Required<Omit<RetryOptions, 'split'>>;
  readonly #split: (records: ReadableLogRecord[]) => ReadableLogRecord[][];
  readonly #stopping = new AbortController();

  constructor(inner: LogRecordExporter, options: RetryOptions) {
    this.#inner = inner;
    const { split = (records) => [records], ...timing } = options;
    this.#options = { initialDelayMs: 500, maxDelayMs: 5000, ...timing };
    this.#split = split;
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    void this.#exportParts(records).then(resultCallback);
  }

  async #exportParts(records: ReadableLogRecord[]): Promise<ExportResult> {
    const deadline = Date.now() + this.#options.maxElapsedMs;
    const parts = this.#split(records);
    if (parts.length === 0) return this.#exportWithRetries(records, deadline);
    let failure: ExportResult | undefined;
    for (const part of parts) {
      const result = await this.#exportWithRetries(part, deadline);
      // Later parts are still tried: one part's failure must not cost the others.
      if (result.code !== ExportResultCode.SUCCESS) failure ??= result;
    }
    return failure ?? { code: ExportResultCode.SUCCESS };
  }

  async #exportWithRetries(records: ReadableLogRecord[], deadline: number): Promise<ExportResult> {
    const { initialDelayMs, maxDelayMs } = this.#options;
    for (let attempt = 0; ; attempt += 1) {
      const result = await new Promise<ExportResult>((resolve) =>
        this.#inner.export(records, resolve),
      );
      if (result.code === ExportResultCode.SUCCESS) return result;
      const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** attempt);
      if (this.#stopping.signal.aborted || Date.now() + delay > deadline) return result;
      try {
        await setTimeout(delay, undefined, { signal: this.#stopping.signal });
      } catch {
        return result; // shutting down: one more attempt is made by the final flush
      }
    }
  }

  async shutdown(): Promise<void> {
    this.#stopping.abort();
    await this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }
}
