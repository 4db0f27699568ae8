// Encoders for Loki's push API (`POST /loki/api/v1/push`), shared by the log consumer and the
// tests. Both wire formats are supported: JSON, and protobuf compressed with snappy's *block*
// format (not the framed/stream format), which is what Loki and VictoriaLogs expect.
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

// The subset of Loki's pkg/push/push.proto (package logproto) that a client sends. gogoproto
// options are dropped; the field numbers and types are what matter on the wire.
const LOGPROTO = `
syntax = "proto3";
package logproto;

message PushRequest {
  repeated StreamAdapter streams = 1;
}

message StreamAdapter {
  // Prometheus-style label set, e.g. {service="api", type="access"}
  string labels = 1;
  repeated EntryAdapter entries = 2;
}

message EntryAdapter {
  Timestamp timestamp = 1;
  string line = 2;
  repeated LabelPairAdapter structuredMetadata = 3;
}

message LabelPairAdapter {
  string name = 1;
  string value = 2;
}

// Same layout as google.protobuf.Timestamp.
message Timestamp {
  int64 seconds = 1;
  int32 nanos = 2;
}
`;

const root = protobuf.parse(LOGPROTO, { keepCase: true }).root;
const PushRequest = root.lookupType('logproto.PushRequest');

export interface LokiEntry {
  /** Nanoseconds since the epoch; a bigint because milliseconds lose the ordering Loki needs. */
  timestampNs: bigint;
  line: string;
  structuredMetadata?: Record<string, string>;
}

export interface LokiStream {
  labels: Record<string, string>;
  entries: LokiEntry[];
}

export const LOKI_JSON_CONTENT_TYPE = 'application/json';
export const LOKI_PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Renders labels the way Loki parses them in the protobuf format: `{a="1", b="2"}`. */
export function formatLabels(labels: Record<string, string>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`);
  return `{${pairs.join(', ')}}`;
}

export function encodeLokiJson(streams: LokiStream[]): string {
  return JSON.stringify({
    streams: streams.map((stream) => ({
      stream: stream.labels,
      values: stream.entries.map((entry) =>
        entry.structuredMetadata && Object.keys(entry.structuredMetadata).length > 0
          ? [entry.timestampNs.toString(), entry.line, entry.structuredMetadata]
          : [entry.timestampNs.toString(), entry.line],
      ),
    })),
  });
}

/** Protobuf-encodes and snappy-compresses (block format) a push request. */
export function encodeLokiProtobuf(streams: LokiStream[]): Uint8Array {
  const message = PushRequest.fromObject({
    streams: streams.map((stream) => ({
      labels: formatLabels(stream.labels),
      entries: stream.entries.map((entry) => ({
        timestamp: {
          seconds: (entry.timestampNs / 1_000_000_000n).toString(),
          nanos: Number(entry.timestampNs % 1_000_000_000n),
        },
        line: entry.line,
        structuredMetadata: Object.entries(entry.structuredMetadata ?? {}).map(([name, value]) => ({
          name,
          value,
        })),
      })),
    })),
  });
  return snappy.compress(PushRequest.encode(message).finish());
}
