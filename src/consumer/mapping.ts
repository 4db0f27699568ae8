/**
 * Maps OTLP log records to Loki entries.
 *
 * - Stream labels stay few and low-cardinality (each label combination is a Loki stream):
 *   service_name, log_type (from the topic), level and deployment_environment.
 * - The line is one JSON object (the body as `msg`, plus the record's attributes, keys with
 *   dots turned into underscores) so that LogQL's `| json` extracts every field.
 * - Identifiers unique per record (trace_id, span_id, request_id) travel as structured
 *   metadata: filterable in LogQL without parsing, and never a label.
 */
import type { LokiEntry } from '../shared/loki-push.ts';
import type { AttributeValue, DecodedLogRecord, DecodedResourceLogs } from '../shared/otlp-logs.ts';

export interface MappedEntry {
  labels: Record<string, string>;
  entry: LokiEntry;
  /** Where the entry came from, shared objects of the decoded message: re-encoded for the DLQ. */
  source: { resource: DecodedResourceLogs; scope: DecodedScopeLogs; record: DecodedLogRecord };
}

type DecodedScopeLogs = DecodedResourceLogs['scopes'][number];

/** Attributes moved out of the line into structured metadata. */
const METADATA_ATTRIBUTES = new Map([['request.id', 'request_id']]);

/** Attributes already expressed as labels, or routing details with no value in the line. */
const DROPPED_ATTRIBUTES = new Set(['log.type', 'kafka.topic']);

const LEVELS: [minimumSeverity: number, level: string][] = [
  [21, 'fatal'],
  [17, 'error'],
  [13, 'warn'],
  [9, 'info'],
  [5, 'debug'],
  [1, 'trace'],
];

/** OTel severity numbers to Loki's level names; text wins only when no number is set. */
export function levelOf(record: Pick<DecodedLogRecord, 'severityNumber' | 'severityText'>): string {
  for (const [minimum, level] of LEVELS) {
    if (record.severityNumber >= minimum) return level;
  }
  const text = record.severityText.toLowerCase();
  return LEVELS.some(([, level]) => level === text) ? text : 'unknown';
}

function asString(value: AttributeValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(toJson(value));
}

function toJson(value: AttributeValue): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toJson(item)]));
  }
  return value;
}

function timestampOf(record: DecodedLogRecord, nowNs: bigint): bigint {
  if (record.timeUnixNano > 0n) return record.timeUnixNano;
  if (record.observedTimeUnixNano > 0n) return record.observedTimeUnixNano;
  return nowNs;
}

/** Attribute keys repeat on every record; their line keys are computed once. */
const lineKeys = new Map<string, string>();
function lineKey(attribute: string): string {
  let key = lineKeys.get(attribute);
  if (key === undefined) {
    key = attribute.replaceAll('.', '_');
    if (lineKeys.size < 10_000) lineKeys.set(attribute, key);
  }
  return key;
}

/**
 * @param logType the `log_type` label (the topic's suffix)
 * @param nowNs timestamp for records with neither time nor observed time, ns since the epoch
 * @param partition the Kafka partition, as the `messaging_destination_partition_id` label: each
 *   partition feeds streams of its own, so Loki's per-stream "too far behind" rule compares a
 *   lagging partition's entries only with that partition's (see limits.ts)
 */
export function mapResourceLogs(
  resourceLogs: DecodedResourceLogs[],
  logType: string,
  nowNs: bigint,
  partition?: number,
): MappedEntry[] {
  const mapped: MappedEntry[] = [];
  for (const resourceEntry of resourceLogs) {
    const { resource, scopes } = resourceEntry;
    const serviceName = asString(resource['service.name']) ?? 'unknown_service';
    const environment = asString(resource['deployment.environment.name']) ?? 'unknown';
    // One label object per level and resource, shared by its entries, so that grouping them
    // into streams needs no per-entry label formatting.
    const labelsByLevel = new Map<string, Record<string, string>>();
    const labelsFor = (level: string) => {
      let labels = labelsByLevel.get(level);
      if (!labels) {
        labels = {
          service_name: serviceName,
          log_type: logType,
          level,
          deployment_environment: environment,
          ...(partition !== undefined && {
            messaging_destination_partition_id: String(partition),
          }),
        };
        labelsByLevel.set(level, labels);
      }
      return labels;
    };
    for (const scope of scopes) {
      for (const record of scope.records) {
        // No prototype: an attribute named __proto__ is a field of the line like any other.
        const line: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        line['msg'] = toJson(record.body);
        const structuredMetadata: Record<string, string> = {};
        if (record.traceId) structuredMetadata['trace_id'] = record.traceId;
        if (record.spanId) structuredMetadata['span_id'] = record.spanId;
        if (record.eventName) line['event_name'] = record.eventName;
        const { attributes } = record;
        for (const key in attributes) {
          if (DROPPED_ATTRIBUTES.has(key)) continue;
          const value = attributes[key] ?? null;
          const metadataName = METADATA_ATTRIBUTES.get(key);
          if (metadataName) {
            const text = asString(value);
            if (text !== undefined) structuredMetadata[metadataName] = text;
          }
          // Strings and numbers, most values, are already what JSON.stringify takes.
          const json =
            typeof value === 'string' || typeof value === 'number' ? value : toJson(value);
          line[lineKey(key)] = json;
        }
        mapped.push({
          source: { resource: resourceEntry, scope, record },
          labels: labelsFor(levelOf(record)),
          entry: {
            timestampNs: timestampOf(record, nowNs),
            line: JSON.stringify(line),
            structuredMetadata,
          },
        });
      }
    }
  }
  return mapped;
}
