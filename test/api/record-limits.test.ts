import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import fc from 'fast-check';
import { ConfigError } from '../../src/shared/env.ts';
import {
  DEFAULT_MAX_EXPORT_REQUEST_BYTES,
  DEFAULT_VALUE_LENGTH_LIMIT,
  readTelemetryConfig,
} from '../../src/api/telemetry/config.ts';
import { emitAppLog, TRUNCATED_ATTRIBUTES } from '../../src/api/telemetry/logs.ts';
import {
  encodedRequestBytes,
  splitBySize,
  type SizeBoundOptions,
} from '../../src/api/telemetry/request-size.ts';
import { RetryingLogRecordExporter } from '../../src/shared/retrying-exporter.ts';
import { startApi, type RunningApi } from '../support/api-server.ts';
import { capturedLogs } from '../support/telemetry.ts';

/** Kafka's default max.message.bytes, the limit of the hop after the Collector. */
const KAFKA_MESSAGE_LIMIT = 1_000_000;
const SERVICE = { name: 'shop-api', version: 'test' };

/** Collects what it is given, part by part, failing the parts `fail` picks. */
function recordingExporter(fail: (part: ReadableLogRecord[]) => boolean = () => false) {
  const parts: ReadableLogRecord[][] = [];
  const exporter: LogRecordExporter = {
    export(records, done: (result: ExportResult) => void) {
      parts.push(records);
      done(
        fail(records)
          ? { code: ExportResultCode.FAILED, error: new Error('refused') }
          : { code: ExportResultCode.SUCCESS },
      );
    },
    shutdown: async () => undefined,
    forceFlush: async () => undefined,
  };
  return { exporter, parts };
}

const exportThrough = (exporter: LogRecordExporter, records: ReadableLogRecord[]) =>
  new Promise<ExportResult>((resolve) => exporter.export(records, resolve));

/** The API's export path: parts cut by size, each retried (here: not at all) on its own. */
const sizeBounded = (inner: LogRecordExporter, bound: SizeBoundOptions) =>
  new RetryingLogRecordExporter(inner, {
    maxElapsedMs: 0,
    split: (records) => splitBySize(records, bound),
  });

const accessRecords = () =>
  capturedLogs
    .getFinishedLogRecords()
    .filter((record) => record.attributes['log.type'] === 'access');

describe('log record limits and export request size', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());
  beforeEach(() => capturedLogs.reset());

  it('cuts a 12 000-byte User-Agent to the limit and marks the record as truncated', async () => {
    const response = await fetch(`${api.baseUrl}/health`, {
      headers: { 'user-agent': 'u'.repeat(12_000) },
    });
    expect(response.status).to.equal(200);
    const [record] = accessRecords();
    expect(record?.attributes['user_agent.original']).to.equal(
      'u'.repeat(DEFAULT_VALUE_LENGTH_LIMIT),
    );
    expect(record?.attributes[TRUNCATED_ATTRIBUTES]).to.deep.equal(['user_agent.original']);
  });

  it('leaves a record within the limits unmarked', async () => {
    await fetch(`${api.baseUrl}/health`, { headers: { 'user-agent': 'short' } });
    const [record] = accessRecords();
    expect(record?.attributes['user_agent.original']).to.equal('short');
    expect(record?.attributes).to.not.have.property(TRUNCATED_ATTRIBUTES);
  });

  it('bounds the body too, whose path the caller chooses', async () => {
    const path = `/${'p'.repeat(8000)}`;
    await fetch(`${api.baseUrl}${path}`);
    const [record] = accessRecords();
    expect(record?.attributes['url.path']).to.have.lengthOf(DEFAULT_VALUE_LENGTH_LIMIT);
    expect(String(record?.body)).to.have.length.at.most(DEFAULT_VALUE_LENGTH_LIMIT);
    expect(record?.attributes[TRUNCATED_ATTRIBUTES]).to.have.members(['url.path', 'body']);
  });

  it('keeps the largest access record a caller can cause under 32 KiB encoded', async () => {
    // Longest path and user agent, the agent in 2-byte UTF-8 characters (latin1 0xFF on the wire).
    const response = await fetch(`${api.baseUrl}/${'p'.repeat(8000)}`, {
      headers: { 'user-agent': '\u00ff'.repeat(7000) },
    });
    expect(response.status).to.equal(404);
    const [record] = accessRecords();
    expect(record?.attributes[TRUNCATED_ATTRIBUTES]).to.have.members([
      'url.path',
      'user_agent.original',
      'body',
    ]);
    expect(encodedRequestBytes([record as ReadableLogRecord], 'protobuf')).to.be.below(32 * 1024);
  });

  it('drops attributes past the count limit, counted, keeping log.type and the mark', () => {
    const many: Record<string, string> = {};
    for (let index = 0; index < 300; index += 1) many[`extra.${index}`] = String(index);
    many['extra.long'] = 'l'.repeat(10_000);
    emitAppLog('test.many', 'many attributes', many);
    const [record] = capturedLogs.getFinishedLogRecords();
    expect(record?.attributes['log.type']).to.equal('app');
    expect(record?.attributes[TRUNCATED_ATTRIBUTES]).to.deep.equal(['extra.long']);
    expect(Object.keys(record?.attributes ?? {})).to.have.lengthOf(128);
    // 301 given, plus log.type and the mark, 128 kept.
    expect(record?.droppedAttributesCount).to.equal(301 + 2 - 128);
  });

  it('exports 90 requests with 12 000-byte User-Agents in requests Kafka accepts', async () => {
    await Promise.all(
      Array.from({ length: 90 }, () =>
        fetch(`${api.baseUrl}/health`, { headers: { 'user-agent': 'x'.repeat(12_000) } }),
      ),
    );
    const records = accessRecords();
    expect(records).to.have.lengthOf(90);
    const { exporter, parts } = recordingExporter();
    const bounded = sizeBounded(exporter, {
      maxRequestBytes: DEFAULT_MAX_EXPORT_REQUEST_BYTES,
      encoding: 'protobuf',
    });
    expect((await exportThrough(bounded, records)).code).to.equal(ExportResultCode.SUCCESS);
    expect(parts.flat()).to.deep.equal(records);
    for (const part of parts) {
      expect(encodedRequestBytes(part, 'protobuf')).to.be.at.most(DEFAULT_MAX_EXPORT_REQUEST_BYTES);
    }
    expect(DEFAULT_MAX_EXPORT_REQUEST_BYTES).to.be.below(KAFKA_MESSAGE_LIMIT);
  });

  it('splits any batch into parts within the bound, keeping every record once and in order', async () => {
    // Real records from the API, with user agents of random sizes, in random batches.
    const sizes = [0, 10, 500, 3000, DEFAULT_VALUE_LENGTH_LIMIT, 12_000];
    for (const size of sizes) {
      await fetch(`${api.baseUrl}/health`, { headers: { 'user-agent': `${'y'.repeat(size)}.` } });
    }
    const pool = accessRecords();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { maxLength: 400 }),
        fc.integer({ min: 16 * 1024, max: 256 * 1024 }),
        fc.constantFrom('protobuf' as const, 'json' as const),
        async (picks, maxRequestBytes, encoding) => {
          const batch = picks.map((index) => pool[index] as ReadableLogRecord);
          const { exporter, parts } = recordingExporter();
          const bounded = sizeBounded(exporter, { maxRequestBytes, encoding });
          await exportThrough(bounded, batch);
          expect(parts.flat()).to.deep.equal(batch);
          for (const part of parts) {
            if (batch.length > 0) expect(part).to.have.length.greaterThan(0);
            if (part.length > 1) {
              expect(encodedRequestBytes(part, encoding)).to.be.at.most(maxRequestBytes);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('still exports the other parts when one part fails, and reports the failure', async () => {
    await Promise.all(
      Array.from({ length: 12 }, () =>
        fetch(`${api.baseUrl}/health`, { headers: { 'user-agent': 'z'.repeat(5000) } }),
      ),
    );
    const records = accessRecords();
    let calls = 0;
    const { exporter, parts } = recordingExporter(() => (calls += 1) === 1);
    const bounded = sizeBounded(exporter, { maxRequestBytes: 16 * 1024, encoding: 'protobuf' });
    const result = await exportThrough(bounded, records);
    expect(result.code).to.equal(ExportResultCode.FAILED);
    expect(parts.length).to.be.greaterThan(1);
    expect(parts.flat()).to.deep.equal(records);
  });
});

describe('retries of a split batch', () => {
  it('retries a failed part alone: parts already delivered are never sent twice', async () => {
    const records = Array.from({ length: 8 }, () => ({}) as ReadableLogRecord);
    const halves = (batch: ReadableLogRecord[]) => [batch.slice(0, 4), batch.slice(4)];
    let attempts = 0;
    // The second part fails twice, then goes through.
    const { exporter, parts } = recordingExporter(
      (part) => part[0] === records[4] && (attempts += 1) <= 2,
    );
    const retrying = new RetryingLogRecordExporter(exporter, {
      maxElapsedMs: 5000,
      initialDelayMs: 1,
      maxDelayMs: 2,
      split: halves,
    });
    expect((await exportThrough(retrying, records)).code).to.equal(ExportResultCode.SUCCESS);
    const sent = (record: ReadableLogRecord) =>
      parts.filter((part) => part.includes(record)).length;
    expect(sent(records[0] as ReadableLogRecord)).to.equal(1);
    expect(sent(records[4] as ReadableLogRecord)).to.equal(3);
  });
});

describe('record limit configuration', () => {
  it('defaults to the project limits', () => {
    const config = readTelemetryConfig({}, SERVICE);
    expect(config.recordLimits).to.deep.equal({
      attributeValueLengthLimit: DEFAULT_VALUE_LENGTH_LIMIT,
      attributeCountLimit: 128,
    });
    expect(config.maxExportRequestBytes).to.equal(DEFAULT_MAX_EXPORT_REQUEST_BYTES);
  });

  it('takes the general OTEL_ATTRIBUTE_* limits, and the log record ones over them', () => {
    const general = readTelemetryConfig(
      { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '100', OTEL_ATTRIBUTE_COUNT_LIMIT: '20' },
      SERVICE,
    );
    expect(general.recordLimits).to.deep.equal({
      attributeValueLengthLimit: 100,
      attributeCountLimit: 20,
    });
    const specific = readTelemetryConfig(
      {
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '100',
        OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '200',
        OTEL_ATTRIBUTE_COUNT_LIMIT: '20',
        OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '30',
      },
      SERVICE,
    );
    expect(specific.recordLimits).to.deep.equal({
      attributeValueLengthLimit: 200,
      attributeCountLimit: 30,
    });
  });

  for (const [name, value] of [
    ['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'lots'],
    ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '0'],
    ['OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', '-1'],
    ['LOG_EXPORT_MAX_REQUEST_BYTES', '2000000000'],
  ] as const) {
    it(`refuses ${name}=${value}, naming the variable`, () => {
      expect(() => readTelemetryConfig({ [name]: value }, SERVICE))
        .to.throw(ConfigError)
        .with.property('message')
        .that.includes(name);
    });
  }
});
