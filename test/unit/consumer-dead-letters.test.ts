/**
 * Dead letters of refused records are OTLP messages the consumer (and `npm run dlq`) reads again:
 * encoding decoded records back loses nothing the consumer reads.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readConsumerConfig } from '../../src/consumer/config.ts';
import { mapResourceLogs } from '../../src/consumer/mapping.ts';
import { regroup } from '../../src/consumer/shipper.ts';
import {
  decodeExportLogsServiceRequest,
  encodeResourceLogs,
  type AttributeValue,
  type DecodedLogRecord,
  type DecodedResourceLogs,
} from '../../src/shared/otlp-logs.ts';

const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));

// Values as decoding produces them: integers as safe integers, doubles that are not integers.
const attributeValue: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.string(),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
      fc.constant(null),
      fc.uint8Array({ maxLength: 8 }),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string({ minLength: 1 }), tie('value'), { maxKeys: 3 }),
    ),
  }),
).value;

const record: fc.Arbitrary<DecodedLogRecord> = fc.record({
  timeUnixNano: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  observedTimeUnixNano: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  severityNumber: fc.integer({ min: 0, max: 24 }),
  severityText: fc.string(),
  body: attributeValue,
  attributes: fc.dictionary(fc.string({ minLength: 1 }), attributeValue, { maxKeys: 4 }),
  traceId: fc.oneof(fc.constant(''), hex(16)),
  spanId: fc.oneof(fc.constant(''), hex(8)),
  eventName: fc.string(),
});

const resourceLogs: fc.Arbitrary<DecodedResourceLogs[]> = fc.array(
  fc.record({
    resource: fc.dictionary(fc.string({ minLength: 1 }), attributeValue, { maxKeys: 3 }),
    scopes: fc.array(
      fc.record({
        name: fc.string(),
        version: fc.string(),
        records: fc.array(record, { maxLength: 4 }),
      }),
      { maxLength: 2 },
    ),
  }),
  { minLength: 1, maxLength: 2 },
);

/** A Buffer as JSON.stringify hands it to a replacer (after its toJSON). */
const isBufferJson = (item: unknown): item is { type: 'Buffer'; data: number[] } =>
  typeof item === 'object' &&
  item !== null &&
  (item as { type?: unknown }).type === 'Buffer' &&
  Array.isArray((item as { data?: unknown }).data);

/** Uint8Array vs Buffer and -0 aside, what decoding yields. */
const normal = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_, item: unknown) =>
      typeof item === 'bigint'
        ? item.toString()
        : item instanceof Uint8Array
          ? Buffer.from(item).toString('base64')
          : isBufferJson(item)
            ? Buffer.from(item.data).toString('base64')
            : Object.is(item, -0)
              ? 0
              : item,
    ),
  );

describe('dead letters as OTLP', () => {
  it('encodeResourceLogs round-trips whatever decoding produces', () => {
    fc.assert(
      fc.property(resourceLogs, (decoded) => {
        const again = decodeExportLogsServiceRequest(encodeResourceLogs(decoded));
        expect(normal(again)).to.deep.equal(normal(decoded));
      }),
      { numRuns: 300 },
    );
  });

  it('regroups a subset of mapped records under their own resource and scope', () => {
    fc.assert(
      fc.property(resourceLogs, fc.nat(), (decoded, seed) => {
        const mapped = mapResourceLogs(decoded, 'access', 1n, 0);
        const subset = mapped.filter((_, index) => (index + seed) % 2 === 0);
        const letter = decodeExportLogsServiceRequest(encodeResourceLogs(regroup(subset)));
        const remapped = mapResourceLogs(letter, 'access', 1n, 0);
        expect(remapped.map(({ labels, entry }) => normal({ labels, entry }))).to.deep.equal(
          subset.map(({ labels, entry }) => normal({ labels, entry })),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('consumer configuration', () => {
  it('keeps one push attempt plus heartbeats under the group session', () => {
    expect(readConsumerConfig({ PUSH_TIMEOUT_MS: '24000' }).pushTimeoutMs).to.equal(24_000);
    expect(() => readConsumerConfig({ PUSH_TIMEOUT_MS: '25000' })).to.throw(/PUSH_TIMEOUT_MS/);
  });

  it('reads the client-side limits, or none when the check is off', () => {
    expect(readConsumerConfig({}).limits?.maxLineBytes).to.equal(256 * 1024);
    expect(readConsumerConfig({ STORE_MAX_LINE_BYTES: '2000' }).limits?.maxLineBytes).to.equal(
      2000,
    );
    expect(readConsumerConfig({ STORE_MAX_CHUNK_AGE_S: '3600' }).limits?.maxChunkAgeMs).to.equal(
      3_600_000,
    );
    expect(readConsumerConfig({ STORE_LIMITS_CHECK: 'false' }).limits).to.equal(undefined);
    expect(() => readConsumerConfig({ STORE_MAX_LINE_BYTES: 'big' })).to.throw(
      /STORE_MAX_LINE_BYTES/,
    );
  });
});
