// Decoder for the Kafka messages the Collector's kafka exporter writes with
// `encoding: otlp_proto`: each message is one OTLP ExportLogsServiceRequest.
// Only the fields this project reads are declared; protobuf skips the others.
import protobuf from 'protobufjs';

// Field numbers from opentelemetry-proto (collector/logs/v1, logs/v1, common/v1, resource/v1).
const OTLP_LOGS_PROTO = `
syntax = "proto3";
package otlp;

message ExportLogsServiceRequest {
  repeated ResourceLogs resource_logs = 1;
}
message ResourceLogs {
  Resource resource = 1;
  repeated ScopeLogs scope_logs = 2;
  string schema_url = 3;
}
message Resource {
  repeated KeyValue attributes = 1;
}
message ScopeLogs {
  InstrumentationScope scope = 1;
  repeated LogRecord log_records = 2;
}
message InstrumentationScope {
  string name = 1;
  string version = 2;
}
message LogRecord {
  fixed64 time_unix_nano = 1;
  int32 severity_number = 2;
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  bytes trace_id = 9;
  bytes span_id = 10;
  fixed64 observed_time_unix_nano = 11;
  string event_name = 12;
}
message KeyValue {
  string key = 1;
  AnyValue value = 2;
}
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue {
  repeated AnyValue values = 1;
}
message KeyValueList {
  repeated KeyValue values = 1;
}
`;

const root = protobuf.parse(OTLP_LOGS_PROTO, { keepCase: true }).root;
/** The generated protobufjs type, for encoding (and, in the tests, as the reference decoder). */
export const ExportLogsServiceRequest = root.lookupType('otlp.ExportLogsServiceRequest');

export type AttributeValue =
  | string
  | number
  | boolean
  | Uint8Array
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

export interface DecodedLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AttributeValue;
  attributes: Record<string, AttributeValue>;
  traceId: string;
  spanId: string;
  eventName: string;
}

export interface DecodedResourceLogs {
  resource: Record<string, AttributeValue>;
  scopes: { name: string; version: string; records: DecodedLogRecord[] }[];
}

// The consumer decodes every record it ships, so the decoder walks the wire format with
// protobufjs' Reader straight into the shapes below. The generated decoder followed by toObject
// built every message twice and turned each fixed64 into a Long and then a string: about half
// of the decode time in a profile of the consumer. The generated decoder stays the reference
// the unit tests compare against (ExportLogsServiceRequest above).
const { Reader } = protobuf;
type ProtoReader = protobuf.Reader;

/** Wire type 2 (length-delimited): the position where the field that starts here ends. */
function endOfField(reader: ProtoReader): number {
  const length = reader.uint32();
  return reader.pos + length;
}

/** fixed64 as an exact bigint (Long-free: two little-endian 32-bit halves). */
function readFixed64(reader: ProtoReader): bigint {
  const low = reader.fixed32();
  const high = reader.fixed32();
  return (BigInt(high) << 32n) | BigInt(low);
}

/**
 * An int64 varint as a number: exact up to 2^53, the nearest double beyond (as JSON.parse does).
 * Read in two 32-bit halves, like protobufjs' LongBits, without a Long for every value.
 */
function readInt64(reader: ProtoReader): number {
  const { buf, len } = reader;
  let pos = reader.pos;
  const next = (): number => {
    if (pos >= len) throw new RangeError('index out of range');
    return buf[pos++] ?? 0;
  };
  let low = 0;
  let high = 0;
  let byte: number;
  let done = false;
  for (let shift = 0; shift < 28 && !done; shift += 7) {
    byte = next();
    low |= (byte & 0x7f) << shift;
    done = byte < 0x80;
  }
  if (!done) {
    byte = next();
    low |= (byte & 0x0f) << 28;
    high = (byte & 0x7f) >> 4;
    done = byte < 0x80;
  }
  for (let shift = 3; shift < 32 && !done; shift += 7) {
    byte = next();
    high |= (byte & 0x7f) << shift;
    done = byte < 0x80;
  }
  if (!done) throw new Error('invalid varint encoding');
  reader.pos = pos;
  low >>>= 0;
  high >>>= 0;
  if (high >>> 31 === 0) return high * 2 ** 32 + low;
  // Two's complement: negate the 64-bit value.
  low = (~low + 1) >>> 0;
  high = ~high >>> 0;
  if (low === 0) high = (high + 1) >>> 0;
  return -(high * 2 ** 32 + low);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function readAnyValue(reader: ProtoReader, end: number): AttributeValue {
  let value: AttributeValue = null;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1:
        value = reader.string();
        break;
      case 2:
        value = reader.bool();
        break;
      case 3:
        value = readInt64(reader);
        break;
      case 4:
        value = reader.double();
        break;
      case 5: {
        const values: AttributeValue[] = [];
        const arrayEnd = endOfField(reader);
        while (reader.pos < arrayEnd) {
          const itemTag = reader.uint32();
          if (itemTag >>> 3 === 1) values.push(readAnyValue(reader, endOfField(reader)));
          else reader.skipType(itemTag & 7);
        }
        value = values;
        break;
      }
      case 6:
        value = readKeyValueList(reader, endOfField(reader), 1);
        break;
      case 7:
        // Copied: a view would keep the whole Kafka message alive as long as the value.
        value = Uint8Array.from(reader.bytes());
        break;
      default:
        reader.skipType(tag & 7);
    }
  }
  return value;
}

/** Reads the KeyValue entries (field `field`) of a message ending at `end` into `into`. */
function readKeyValueList(
  reader: ProtoReader,
  end: number,
  field: number,
  into: Record<string, AttributeValue> = {},
): Record<string, AttributeValue> {
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === field) readKeyValue(reader, endOfField(reader), into);
    else reader.skipType(tag & 7);
  }
  return into;
}

function readKeyValue(reader: ProtoReader, end: number, into: Record<string, AttributeValue>) {
  let key = '';
  let value: AttributeValue = null;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) key = reader.string();
    else if (tag >>> 3 === 2) value = readAnyValue(reader, endOfField(reader));
    else reader.skipType(tag & 7);
  }
  setAttribute(into, key, value);
}

/** `into[key] = value`, except that a key named `__proto__` is an attribute like any other. */
function setAttribute(
  into: Record<string, AttributeValue>,
  key: string,
  value: AttributeValue,
): void {
  if (key === '__proto__') {
    Object.defineProperty(into, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else into[key] = value;
}

function readLogRecord(reader: ProtoReader, end: number): DecodedLogRecord {
  const record: DecodedLogRecord = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: {},
    traceId: '',
    spanId: '',
    eventName: '',
  };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1:
        record.timeUnixNano = readFixed64(reader);
        break;
      case 2:
        record.severityNumber = reader.int32();
        break;
      case 3:
        record.severityText = reader.string();
        break;
      case 5:
        record.body = readAnyValue(reader, endOfField(reader));
        break;
      case 6:
        readKeyValue(reader, endOfField(reader), record.attributes);
        break;
      case 9:
        record.traceId = hex(reader.bytes());
        break;
      case 10:
        record.spanId = hex(reader.bytes());
        break;
      case 11:
        record.observedTimeUnixNano = readFixed64(reader);
        break;
      case 12:
        record.eventName = reader.string();
        break;
      default:
        reader.skipType(tag & 7);
    }
  }
  return record;
}

function readScopeLogs(reader: ProtoReader, end: number): DecodedResourceLogs['scopes'][number] {
  const scope: DecodedResourceLogs['scopes'][number] = { name: '', version: '', records: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) {
      const scopeEnd = endOfField(reader);
      while (reader.pos < scopeEnd) {
        const scopeTag = reader.uint32();
        if (scopeTag >>> 3 === 1) scope.name = reader.string();
        else if (scopeTag >>> 3 === 2) scope.version = reader.string();
        else reader.skipType(scopeTag & 7);
      }
    } else if (tag >>> 3 === 2) scope.records.push(readLogRecord(reader, endOfField(reader)));
    else reader.skipType(tag & 7);
  }
  return scope;
}

function readResourceLogs(reader: ProtoReader, end: number): DecodedResourceLogs {
  const resourceLogs: DecodedResourceLogs = { resource: {}, scopes: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    // Resource.attributes is field 1 of Resource; a repeated resource field merges, as in proto3.
    if (tag >>> 3 === 1) readKeyValueList(reader, endOfField(reader), 1, resourceLogs.resource);
    else if (tag >>> 3 === 2) resourceLogs.scopes.push(readScopeLogs(reader, endOfField(reader)));
    else reader.skipType(tag & 7);
  }
  return resourceLogs;
}

/**
 * Decodes an OTLP ExportLogsServiceRequest (opentelemetry-proto collector/logs/v1, protobuf).
 *
 * @param buffer the serialized request, e.g. one Kafka message value written with `otlp_proto`
 * @returns its resource logs; ids as lowercase hex, timestamps as ns bigints, int64 values as
 *   numbers, absent fields as their proto3 defaults
 * @throws RangeError (from protobufjs) when the bytes end inside a field
 */
export function decodeExportLogsServiceRequest(buffer: Uint8Array): DecodedResourceLogs[] {
  const reader = Reader.create(buffer);
  const resourceLogs: DecodedResourceLogs[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) resourceLogs.push(readResourceLogs(reader, endOfField(reader)));
    else reader.skipType(tag & 7);
  }
  if (reader.pos > reader.len) throw new RangeError('index out of range');
  return resourceLogs;
}

/** One log record to encode; ids are hex strings, attributes plain strings or numbers. */
export interface LogRecordToEncode {
  timeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: Record<string, string | number>;
  traceId?: string;
}

/** Encodes one resource's records as an ExportLogsServiceRequest (what otlp_proto carries). */
export function encodeExportLogsServiceRequest(
  resource: Record<string, string>,
  records: LogRecordToEncode[],
): Uint8Array {
  const keyValue = (key: string, value: string | number) => ({
    key,
    value:
      typeof value === 'string'
        ? { string_value: value }
        : Number.isInteger(value)
          ? { int_value: value }
          : { double_value: value },
  });
  const message = ExportLogsServiceRequest.fromObject({
    resource_logs: [
      {
        resource: {
          attributes: Object.entries(resource).map(([key, value]) => keyValue(key, value)),
        },
        scope_logs: [
          {
            scope: { name: 'bench' },
            log_records: records.map((record) => ({
              time_unix_nano: record.timeUnixNano.toString(),
              severity_number: record.severityNumber,
              severity_text: record.severityText,
              body: { string_value: record.body },
              attributes: Object.entries(record.attributes).map(([key, value]) =>
                keyValue(key, value),
              ),
              ...(record.traceId && { trace_id: Buffer.from(record.traceId, 'hex') }),
            })),
          },
        ],
      },
    ],
  });
  return ExportLogsServiceRequest.encode(message).finish();
}

function encodeAnyValue(value: AttributeValue): Record<string, unknown> {
  if (value === null) return {};
  if (typeof value === 'string') return { string_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { int_value: value } : { double_value: value };
  }
  if (value instanceof Uint8Array) return { bytes_value: value };
  if (Array.isArray(value)) return { array_value: { values: value.map(encodeAnyValue) } };
  return { kvlist_value: { values: encodeKeyValues(value) } };
}

function encodeKeyValues(attributes: Record<string, AttributeValue>) {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: encodeAnyValue(value) }));
}

/**
 * Encodes decoded resource logs back into an OTLP ExportLogsServiceRequest (protobuf), e.g. to
 * dead-letter just the refused records of a message as a message the consumer reads again.
 * Round trip with decodeExportLogsServiceRequest keeps every field it decodes, except that an
 * integer-valued double comes back as an int (the decoded form does not tell them apart).
 *
 * @param resourceLogs as decodeExportLogsServiceRequest returns them (ids as hex strings)
 * @returns the protobuf bytes
 */
export function encodeResourceLogs(resourceLogs: readonly DecodedResourceLogs[]): Uint8Array {
  const message = ExportLogsServiceRequest.fromObject({
    resource_logs: resourceLogs.map(({ resource, scopes }) => ({
      resource: { attributes: encodeKeyValues(resource) },
      scope_logs: scopes.map((scope) => ({
        scope: { name: scope.name, version: scope.version },
        log_records: scope.records.map((record) => ({
          time_unix_nano: record.timeUnixNano.toString(),
          observed_time_unix_nano: record.observedTimeUnixNano.toString(),
          severity_number: record.severityNumber,
          severity_text: record.severityText,
          body: encodeAnyValue(record.body),
          attributes: encodeKeyValues(record.attributes),
          ...(record.traceId && { trace_id: Buffer.from(record.traceId, 'hex') }),
          ...(record.spanId && { span_id: Buffer.from(record.spanId, 'hex') }),
          ...(record.eventName && { event_name: record.eventName }),
        })),
      })),
    })),
  });
  return ExportLogsServiceRequest.encode(message).finish();
}
