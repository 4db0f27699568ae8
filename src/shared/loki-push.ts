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

/**
 * Protobuf-encodes and snappy-compresses (block format) a push request (Loki's
 * `pkg/push/push.proto`, `logproto.PushRequest`).
 *
 * Written field by field with protobufjs' Writer: building the message objects for the generated
 * encoder first cost as much again for every entry (see decodeLokiProtobuf for the way back).
 *
 * @param streams entries grouped by label set; a stream's entries keep their order
 * @returns the request body, for `Content-Type: application/x-protobuf`
 */
export function encodeLokiProtobuf(streams: LokiStream[]): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const stream of streams) {
    // Field numbers and wire types: tag = field << 3 | 2 for strings and messages.
    writer.uint32(/* streams */ 0x0a).fork();
    writer.uint32(/* labels */ 0x0a).string(formatLabels(stream.labels));
    for (const entry of stream.entries) {
      writer.uint32(/* entries */ 0x12).fork();
      const ns = entry.timestampNs;
      writer
        .uint32(/* timestamp */ 0x0a)
        .fork()
        .uint32(/* seconds */ 0x08)
        .int64(Number(ns / 1_000_000_000n))
        .uint32(/* nanos */ 0x10)
        .int32(Number(ns % 1_000_000_000n))
        .ldelim();
      writer.uint32(/* line */ 0x12).string(entry.line);
      const metadata = entry.structuredMetadata;
      if (metadata) {
        for (const name in metadata) {
          writer
            .uint32(/* structuredMetadata */ 0x1a)
            .fork()
            .uint32(/* name */ 0x0a)
            .string(name)
            .uint32(/* value */ 0x12)
            .string(metadata[name] ?? '')
            .ldelim();
        }
      }
      writer.ldelim();
    }
    writer.ldelim();
  }
  return snappy.compress(writer.finish());
}

/**
 * Decodes a push body made by encodeLokiProtobuf (snappy block, then protobuf) with the
 * generated decoder, for tests and tools.
 */
export function decodeLokiProtobuf(body: Uint8Array): LokiStream[] {
  const request = PushRequest.toObject(PushRequest.decode(snappy.uncompress(body)), {
    longs: String,
    defaults: true,
  }) as {
    streams: {
      labels: string;
      entries: {
        timestamp: { seconds: string; nanos: number };
        line: string;
        structuredMetadata: { name: string; value: string }[];
      }[];
    }[];
  };
  return request.streams.map((stream) => ({
    labels: parseLabels(stream.labels),
    entries: stream.entries.map((entry) => ({
      timestampNs: BigInt(entry.timestamp.seconds) * 1_000_000_000n + BigInt(entry.timestamp.nanos),
      line: entry.line,
      structuredMetadata: Object.fromEntries(
        entry.structuredMetadata.map(({ name, value }) => [name, value]),
      ),
    })),
  }));
}

/** Reads a label set written by formatLabels. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, name = '', value = ''] of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels[name] = value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
  }
  return labels;
}
