/**
 * Turns a Kafka message value into OTLP log records. The Collector's kafka exporter writes one
 * ExportLogsServiceRequest per message, as protobuf (`otlp_proto`, the default) or as the OTLP
 * JSON mapping (`otlp_json`); `auto` tells them apart by the first byte, since a protobuf
 * ExportLogsServiceRequest starts with field 1's tag (0x0a) and JSON with `{`.
 */
import {
  decodeExportLogsServiceRequest,
  type AttributeValue,
  type DecodedLogRecord,
  type DecodedResourceLogs,
} from './otlp-logs.ts';

export type MessageEncoding = 'auto' | 'otlp_proto' | 'otlp_json';

export class UndecodableMessage extends Error {
  override name = 'UndecodableMessage';
}

export function decodeMessage(
  value: Buffer | null,
  encoding: MessageEncoding,
): DecodedResourceLogs[] {
  if (!value || value.length === 0) throw new UndecodableMessage('empty message');
  const json = encoding === 'otlp_json' || (encoding === 'auto' && value[0] === 0x7b);
  try {
    const decoded = json
      ? decodeOtlpJson(value.toString('utf8'))
      : decodeExportLogsServiceRequest(value);
    if (decoded.length === 0) throw new UndecodableMessage('no resource logs in message');
    return decoded;
  } catch (error) {
    if (error instanceof UndecodableMessage) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new UndecodableMessage(
      `not an OTLP ${json ? 'JSON' : 'protobuf'} logs request: ${reason}`,
    );
  }
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
  bytesValue?: string;
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonLogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityNumber?: number;
  severityText?: string;
  body?: JsonAnyValue;
  attributes?: JsonKeyValue[];
  traceId?: string;
  spanId?: string;
  eventName?: string;
}
interface JsonRequest {
  resourceLogs?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeLogs?: { scope?: { name?: string; version?: string }; logRecords?: JsonLogRecord[] }[];
  }[];
}

function jsonValue(value: JsonAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(jsonValue);
  if (value.kvlistValue !== undefined) return jsonKeyValues(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return Buffer.from(value.bytesValue, 'base64');
  return null;
}

function jsonKeyValues(list: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = jsonValue(value);
  return out;
}

function decodeOtlpJson(text: string): DecodedResourceLogs[] {
  const request = JSON.parse(text) as JsonRequest;
  if (typeof request !== 'object' || request === null || !Array.isArray(request.resourceLogs)) {
    throw new UndecodableMessage('JSON without resourceLogs');
  }
  return request.resourceLogs.map((resourceLogs) => ({
    resource: jsonKeyValues(resourceLogs.resource?.attributes),
    scopes: (resourceLogs.scopeLogs ?? []).map((scopeLogs) => ({
      name: scopeLogs.scope?.name ?? '',
      version: scopeLogs.scope?.version ?? '',
      records: (scopeLogs.logRecords ?? []).map((record): DecodedLogRecord => ({
        timeUnixNano: BigInt(record.timeUnixNano ?? 0),
        observedTimeUnixNano: BigInt(record.observedTimeUnixNano ?? 0),
        severityNumber: record.severityNumber ?? 0,
        severityText: record.severityText ?? '',
        body: jsonValue(record.body),
        attributes: jsonKeyValues(record.attributes),
        // The OTLP JSON mapping writes ids as hex, unlike protobuf's JSON mapping (base64).
        traceId: (record.traceId ?? '').toLowerCase(),
        spanId: (record.spanId ?? '').toLowerCase(),
        eventName: record.eventName ?? '',
      })),
    })),
  }));
}
