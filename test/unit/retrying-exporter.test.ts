import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import { RetryingLogRecordExporter } from '../../src/shared/retrying-exporter.ts';

/** Fails the first `failures` exports, then succeeds. */
function flakyExporter(failures: number): LogRecordExporter & { attempts: number } {
  const exporter = {
    attempts: 0,
    export(_records: ReadableLogRecord[], done: (result: ExportResult) => void) {
      exporter.attempts += 1;
      done(
        exporter.attempts > failures
          ? { code: ExportResultCode.SUCCESS }
          : { code: ExportResultCode.FAILED, error: new Error('ECONNREFUSED') },
      );
    },
    shutdown: async () => undefined,
    forceFlush: async () => undefined,
  };
  return exporter;
}

const exportOnce = (exporter: LogRecordExporter) =>
  new Promise<ExportResult>((resolve) => exporter.export([], resolve));

describe('RetryingLogRecordExporter', () => {
  it('retries a failed batch until it is exported', async () => {
    const inner = flakyExporter(3);
    const result = await exportOnce(
      new RetryingLogRecordExporter(inner, {
        maxElapsedMs: 5000,
        initialDelayMs: 1,
        maxDelayMs: 5,
      }),
    );
    expect(result.code).to.equal(ExportResultCode.SUCCESS);
    expect(inner.attempts).to.equal(4);
  });

  it('gives the batch up, as failed, once the retry window is over', async () => {
    const inner = flakyExporter(Number.POSITIVE_INFINITY);
    const result = await exportOnce(
      new RetryingLogRecordExporter(inner, { maxElapsedMs: 30, initialDelayMs: 5, maxDelayMs: 5 }),
    );
    expect(result.code).to.equal(ExportResultCode.FAILED);
    expect(inner.attempts).to.be.within(2, 8);
  });

  it('stops retrying at shutdown', async () => {
    const inner = flakyExporter(Number.POSITIVE_INFINITY);
    const exporter = new RetryingLogRecordExporter(inner, {
      maxElapsedMs: 60_000,
      initialDelayMs: 1000,
    });
    const pending = exportOnce(exporter);
    await exporter.shutdown();
    expect((await pending).code).to.equal(ExportResultCode.FAILED);
  });
});
