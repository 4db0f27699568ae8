/**
 * Bounds the size of one exported request. The batch processor cuts batches by record count
 * (OTEL_BLRP_MAX_EXPORT_BATCH_SIZE), not by bytes, so a burst of large records (long user agents,
 * long paths) could otherwise make one OTLP request bigger than a later hop accepts: the
 * Collector writes one Kafka record per request and topic, and Kafka refuses a record over its
 * `max.message.bytes` (1 000 000 by default) as a permanent error, losing the whole batch.
 *
 * Each batch whose encoded size could exceed the bound is split, by halves, until every part
 * encodes to at most `maxRequestBytes`; RetryingLogRecordExporter exports the parts one after
 * the other, each retried on its own within the batch's retry window. One record
 * cannot be split: the record limits (OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT) keep each of
 * the project's records far below the bound, and a record that still exceeds it alone is
 * exported on its own rather than dropped here.
 */
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

export type RequestEncoding = 'protobuf' | 'json';

export interface SizeBoundOptions {
  /** Largest encoded OTLP ExportLogsServiceRequest, in bytes. */
  maxRequestBytes: number;
  /** The encoding the inner exporter uses on the wire. */
  encoding: RequestEncoding;
}

/**
 * Encoded size of one OTLP ExportLogsServiceRequest holding `records`, in bytes: exactly the
 * bytes the OTLP/HTTP exporters (and the direct Kafka exporter) put on the wire, uncompressed.
 */
export function encodedRequestBytes(
  records: ReadableLogRecord[],
  encoding: RequestEncoding,
): number {
  const serializer = encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  return serializer.serializeRequest(records)?.byteLength ?? 0;
}

/**
 * A cheap upper bound of the protobuf encoding of `records` (bytes), so that the common case,
 * a batch far below the bound, costs no extra serialization. Each string counts its UTF-8 bytes
 * plus generous framing; the resource and scope are counted once per record, which overcounts.
 */
function protobufUpperBound(records: ReadableLogRecord[]): number {
  let total = 0;
  for (const record of records) {
    total += 128 + anyValueBytes(record.body) + textBytes(record.severityText);
    total += textBytes(record.eventName) + attributesBytes(record.attributes);
    total += attributesBytes(record.resource.attributes);
    const scope = record.instrumentationScope;
    total += textBytes(scope.name) + textBytes(scope.version) + textBytes(scope.schemaUrl);
  }
  return total;
}

function textBytes(text: string | undefined): number {
  return text === undefined ? 0 : Buffer.byteLength(text) + 8;
}

function attributesBytes(attributes: Readonly<Record<string, unknown>>): number {
  let total = 0;
  for (const [key, value] of Object.entries(attributes)) {
    total += 16 + Buffer.byteLength(key) + anyValueBytes(value);
  }
  return total;
}

function anyValueBytes(value: unknown): number {
  if (value === undefined || value === null) return 4;
  if (typeof value === 'string') return textBytes(value);
  if (value instanceof Uint8Array) return value.byteLength + 8;
  if (Array.isArray(value))
    return value.reduce((sum: number, item) => sum + 8 + anyValueBytes(item), 8);
  if (typeof value === 'object') return 8 + attributesBytes(value as Record<string, unknown>);
  return 16; // numbers and booleans
}

/**
 * The parts `records` is exported in, in order, each encoding to at most `maxRequestBytes`
 * (a part of one record may exceed it: one record cannot be split).
 */
export function splitBySize(
  records: ReadableLogRecord[],
  { maxRequestBytes, encoding }: SizeBoundOptions,
): ReadableLogRecord[][] {
  if (records.length === 0) return [];
  if (encoding === 'protobuf' && protobufUpperBound(records) <= maxRequestBytes) return [records];
  const parts: ReadableLogRecord[][] = [];
  const pending = [records];
  while (pending.length > 0) {
    const part = pending.shift() as ReadableLogRecord[];
    if (part.length === 1 || encodedRequestBytes(part, encoding) <= maxRequestBytes) {
      parts.push(part);
      continue;
    }
    const middle = Math.ceil(part.length / 2);
    // Front half first, so that records keep their order across the parts.
    pending.unshift(part.slice(0, middle), part.slice(middle));
  }
  return parts;
}
