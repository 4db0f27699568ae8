import { expect } from 'chai';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import {
  decodeExportLogsServiceRequest,
  encodeResourceLogs,
  ExportLogsServiceRequest,
  type AttributeValue,
  type DecodedLogRecord,
  type DecodedResourceLogs,
} from '../../src/shared/otlp-logs.ts';

// The consumer's hand-written OTLP decoder against protobufjs' generated one.

const scalar: fc.Arbitrary<AttributeValue> = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.boolean(),
  fc.maxSafeInteger(),
  // Beyond 2^53 both decoders give the nearest double.
  fc
    .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    .map(Number)
    .filter(Number.isInteger),
  fc.double({ noNaN: true }).filter((value) => !Number.isInteger(value)),
  fc.uint8Array({ maxLength: 8 }),
);
const { value: attributeValue } = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 }),
  ),
}));
// Keys that are also Object.prototype's names must stay plain attributes.
const attributeKey = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString'));
const attributes = fc.dictionary(attributeKey, attributeValue, { maxKeys: 5 });
const hexId = (bytes: number) =>
  fc.oneof(
    fc.constant(''),
    fc
      .uint8Array({ minLength: bytes, maxLength: bytes })
      .map((b) => Buffer.from(b).toString('hex')),
  );
const record: fc.Arbitrary<DecodedLogRecord> = fc.record({
  timeUnixNano: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  observedTimeUnixNano: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  severityNumber: fc.integer({ min: 0, max: 24 }),
  severityText: fc.string(),
  body: attributeValue,
  attributes,
  traceId: hexId(16),
  spanId: hexId(8),
  eventName: fc.string(),
});
const resourceLogs: fc.Arbitrary<DecodedResourceLogs[]> = fc.array(
  fc.record({
    resource: attributes,
    scopes: fc.array(
      fc.record({
        name: fc.string(),
        version: fc.string(),
        records: fc.array(record, { maxLength: 4 }),
      }),
      { maxLength: 3 },
    ),
  }),
  { maxLength: 3 },
);

// The reference: protobufjs' generated decoder, mapped to the same shape.
/**
 * The same decoding through protobufjs' generated decoder: the reference the hand-written one is
 * tested against.
 */
function decodeExportLogsServiceRequestReference(buffer: Uint8Array): DecodedResourceLogs[] {
  const raw = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(buffer), {
    longs: String,
    defaults: false,
    oneofs: false,
  }) as RawRequest;
  return (raw.resource_logs ?? []).map((resourceLogs) => ({
    resource: rawKeyValues(resourceLogs.resource?.attributes),
    scopes: (resourceLogs.scope_logs ?? []).map((scopeLogs) => ({
      name: scopeLogs.scope?.name ?? '',
      version: scopeLogs.scope?.version ?? '',
      records: (scopeLogs.log_records ?? []).map((record) => ({
        timeUnixNano: BigInt(record.time_unix_nano ?? '0'),
        observedTimeUnixNano: BigInt(record.observed_time_unix_nano ?? '0'),
        severityNumber: record.severity_number ?? 0,
        severityText: record.severity_text ?? '',
        body: rawAnyValue(record.body),
        attributes: rawKeyValues(record.attributes),
        traceId: record.trace_id ? Buffer.from(record.trace_id).toString('hex') : '',
        spanId: record.span_id ? Buffer.from(record.span_id).toString('hex') : '',
        eventName: record.event_name ?? '',
      })),
    })),
  }));
}

interface RawAnyValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: string;
  double_value?: number;
  array_value?: { values?: RawAnyValue[] };
  kvlist_value?: { values?: RawKeyValue[] };
  bytes_value?: Uint8Array;
}
interface RawKeyValue {
  key: string;
  value?: RawAnyValue;
}
interface RawLogRecord {
  time_unix_nano?: string;
  observed_time_unix_nano?: string;
  severity_number?: number;
  severity_text?: string;
  body?: RawAnyValue;
  attributes?: RawKeyValue[];
  trace_id?: Uint8Array;
  span_id?: Uint8Array;
  event_name?: string;
}
interface RawRequest {
  resource_logs?: {
    resource?: { attributes?: RawKeyValue[] };
    scope_logs?: {
      scope?: { name?: string; version?: string };
      log_records?: RawLogRecord[];
    }[];
  }[];
}

function rawAnyValue(value: RawAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.string_value !== undefined) return value.string_value;
  if (value.bool_value !== undefined) return value.bool_value;
  if (value.int_value !== undefined) return Number(value.int_value);
  if (value.double_value !== undefined) return value.double_value;
  if (value.array_value !== undefined) return (value.array_value.values ?? []).map(rawAnyValue);
  if (value.kvlist_value !== undefined) return rawKeyValues(value.kvlist_value.values);
  if (value.bytes_value !== undefined) return Uint8Array.from(value.bytes_value);
  return null;
}

function rawKeyValues(list: RawKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? [])
    Object.defineProperty(out, key, {
      value: rawAnyValue(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

describe('OTLP logs decoder', () => {
  it('decodes what the generated protobufjs decoder decodes, field for field', () => {
    fc.assert(
      fc.property(resourceLogs, (input) => {
        const bytes = encodeResourceLogs(input);
        expect(decodeExportLogsServiceRequest(bytes)).to.deep.equal(
          decodeExportLogsServiceRequestReference(bytes),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('keeps 64-bit timestamps exact and copies bytes values out of the message', () => {
    const input: DecodedResourceLogs[] = [
      {
        resource: { 'service.name': 'shop-api' },
        scopes: [
          {
            name: 's',
            version: '1',
            records: [
              {
                timeUnixNano: 2n ** 64n - 1n,
                observedTimeUnixNano: 1_700_000_000_123_456_789n,
                severityNumber: 9,
                severityText: 'INFO',
                body: new Uint8Array([1, 2, 3]),
                attributes: { n: 2 ** 53 - 1 },
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                eventName: '',
              },
            ],
          },
        ],
      },
    ];
    const bytes = Buffer.from(encodeResourceLogs(input));
    const [decoded] = decodeExportLogsServiceRequest(bytes);
    const [decodedRecord] = decoded?.scopes[0]?.records ?? [];
    expect(decodedRecord?.timeUnixNano).to.equal(2n ** 64n - 1n);
    expect(decodedRecord?.observedTimeUnixNano).to.equal(1_700_000_000_123_456_789n);
    expect(decodedRecord?.traceId).to.equal('5b8efff798038103d269b633813fc60c');
    bytes.fill(0);
    expect(decodedRecord?.body).to.deep.equal(new Uint8Array([1, 2, 3]));
  });

  it('reads int64 values of every size like the generated decoder (nearest double past 2^53)', () => {
    for (const value of [
      '0',
      '1',
      '-1',
      '9007199254740993',
      '-9007199254740993',
      '9223372036854775807',
      '-9223372036854775808',
      '268435456',
      '-268435456',
    ]) {
      // ExportLogsServiceRequest { resource_logs { resource { attributes { key: "n", value { int_value } } } } }
      const writer = protobuf.Writer.create();
      writer.uint32(0x0a).fork().uint32(0x0a).fork().uint32(0x0a).fork();
      writer.uint32(0x0a).string('n').uint32(0x12).fork().uint32(0x18).int64(value).ldelim();
      writer.ldelim().ldelim().ldelim();
      const bytes = writer.finish();
      const [decoded] = decodeExportLogsServiceRequest(bytes);
      expect(decoded?.resource['n'], value).to.equal(Number(value));
      expect(decodeExportLogsServiceRequest(bytes)).to.deep.equal(
        decodeExportLogsServiceRequestReference(bytes),
      );
    }
  });

  it('refuses bytes that end inside a field, like the generated decoder', () => {
    fc.assert(
      fc.property(
        resourceLogs.filter((input) => input.length > 0),
        fc.nat(),
        (input, cut) => {
          const bytes = encodeResourceLogs(input);
          const truncated = bytes.subarray(0, cut % bytes.length);
          let reference: unknown;
          try {
            reference = decodeExportLogsServiceRequestReference(truncated);
          } catch {
            expect(() => decodeExportLogsServiceRequest(truncated)).to.throw(RangeError);
            return;
          }
          expect(decodeExportLogsServiceRequest(truncated)).to.deep.equal(reference);
        },
      ),
      { numRuns: 300 },
    );
  });
});
