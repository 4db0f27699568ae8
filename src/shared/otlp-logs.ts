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
const ExportLogsServiceRequest = root.lookupType('otlp.ExportLogsServiceRequest');

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

function anyValue(value: RawAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.string_value !== undefined) return value.string_value;
  if (value.bool_value !== undefined) return value.bool_value;
  // int64 may exceed 2^53; kept exact only when it is safe, like JSON.parse would do.
  if (value.int_value !== undefined) return Number(value.int_value);
  if (value.double_value !== undefined) return value.double_value;
  if (value.array_value !== undefined) return (value.array_value.values ?? []).map(anyValue);
  if (value.kvlist_value !== undefined) return keyValues(value.kvlist_value.values);
  if (value.bytes_value !== undefined) return value.bytes_value;
  return null;
}

function keyValues(list: RawKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value);
  return out;
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes).toString('hex') : '';
}

export function decodeExportLogsServiceRequest(buffer: Uint8Array): DecodedResourceLogs[] {
  const raw = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(buffer), {
    longs: String,
    defaults: false,
    oneofs: false,
  }) as RawRequest;
  return (raw.resource_logs ?? []).map((resourceLogs) => ({
    resource: keyValues(resourceLogs.resource?.attributes),
    scopes: (resourceLogs.scope_logs ?? []).map((scopeLogs) => ({
      name: scopeLogs.scope?.name ?? '',
      version: scopeLogs.scope?.version ?? '',
      records: (scopeLogs.log_records ?? []).map((record) => ({
        timeUnixNano: BigInt(record.time_unix_nano ?? '0'),
        observedTimeUnixNano: BigInt(record.observed_time_unix_nano ?? '0'),
        severityNumber: record.severity_number ?? 0,
        severityText: record.severity_text ?? '',
        body: anyValue(record.body),
        attributes: keyValues(record.attributes),
        traceId: hex(record.trace_id),
        spanId: hex(record.span_id),
        eventName: record.event_name ?? '',
      })),
    })),
  }));
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
