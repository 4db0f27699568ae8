/**
 * Telemetry settings. The standard OTEL_* variables keep their specified meaning (the exporters
 * read their own OTEL_EXPORTER_OTLP_* settings); this module adds the project's defaults and
 * validates the values that it interprets itself.
 */
import { readChoice, readInteger, readString } from '../../shared/env.ts';
import { checkResourceLabels, parseResourceAttributesEnv } from './prometheus-labels.ts';
import { DEFAULT_PORTS } from '../../shared/topology.ts';

export const LOGS_EXPORTERS = ['otlp', 'kafka', 'console', 'none'] as const;
export const KAFKA_ENCODINGS = ['otlp_proto', 'otlp_json'] as const;
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
/**
 * Benchmark switch (TELEMETRY_BENCH_STEP): how much of the telemetry is switched on, each step
 * adding one piece to the previous, so that `npm run bench:api -- --breakdown` can attribute the
 * per-request cost. `export`, the default, is the full telemetry; the others exist only to be
 * measured and lose promises (no request histogram before `histogram`, no records before
 * `records`, nothing exported before `export`).
 */
export const BENCH_STEPS = ['context', 'http', 'koa', 'histogram', 'records', 'export'] as const;
export type BenchStep = (typeof BENCH_STEPS)[number];

/** Characters kept of one string attribute value (and of a record's body) by default. */
export const DEFAULT_VALUE_LENGTH_LIMIT = 4096;
/** Above this a single record could approach the export request bound on its own. */
export const MAX_VALUE_LENGTH_LIMIT = 32_768;
/**
 * Default bound of one encoded OTLP export request: about half of Kafka's default
 * `max.message.bytes` (1 000 000), which is what the Collector's Kafka exporter writes each
 * request (per topic) into, leaving room for the Kafka record's own framing.
 */
export const DEFAULT_MAX_EXPORT_REQUEST_BYTES = 512 * 1024;

export interface TelemetryConfig {
  /** Resource defaults; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them. */
  resourceDefaults: Record<string, string>;
  logsExporter: (typeof LOGS_EXPORTERS)[number];
  otlpLogsProtocol: (typeof OTLP_PROTOCOLS)[number];
  /** For OTEL_LOGS_EXPORTER=kafka: the direct path to Kafka, without a Collector. */
  kafka: { brokers: string[]; encoding: (typeof KAFKA_ENCODINGS)[number] };
  /** Instrumentations switched on when OTEL_NODE_ENABLED_INSTRUMENTATIONS is not set. */
  defaultInstrumentations: string;
  /** How long a failed batch export is retried before the batch is given up (and counted). */
  exportRetryMs: number;
  /** Benchmark switch: the last piece of the telemetry switched on (`export`: all of it). */
  benchStep: BenchStep;
  /**
   * Bounds of one log record, applied where it is created (OpenTelemetry log record limits):
   * longer string values are cut to `attributeValueLengthLimit` characters (and listed in the
   * record's `log.truncated_attributes`); attributes past `attributeCountLimit` are dropped and
   * counted in the record's `dropped_attributes_count`.
   */
  recordLimits: { attributeValueLengthLimit: number; attributeCountLimit: number };
  /** Largest encoded OTLP export request, in bytes; larger batches are split before export. */
  maxExportRequestBytes: number;
  batch: {
    maxQueueSize: number;
    maxExportBatchSize: number;
    scheduledDelayMillis: number;
    exportTimeoutMillis: number;
  };
}

export function readTelemetryConfig(
  env: NodeJS.ProcessEnv,
  service: { name: string; version: string },
): TelemetryConfig {
  const maxQueueSize = readInteger(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 8192, { min: 1 });
  // Malformed or colliding attributes are refused here already, naming the variable; the final
  // resource (with the detectors' attributes) is checked again when telemetry starts.
  checkResourceLabels(parseResourceAttributesEnv(env['OTEL_RESOURCE_ATTRIBUTES']));
  const exportRetryMs = readInteger(env, 'LOG_EXPORT_RETRY_MS', 60_000, { min: 0 });
  // The log-record specific variable wins over the general one, as the specification says.
  const valueLengthVariable = env['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT']?.trim()
    ? 'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT'
    : 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT';
  const countVariable = env['OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT']?.trim()
    ? 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT'
    : 'OTEL_ATTRIBUTE_COUNT_LIMIT';
  return {
    resourceDefaults: {
      'service.name': service.name,
      'service.version': service.version,
      'deployment.environment.name': 'development',
    },
    logsExporter: readChoice(env, 'OTEL_LOGS_EXPORTER', LOGS_EXPORTERS, 'otlp'),
    otlpLogsProtocol: readChoice(
      env,
      'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL',
      OTLP_PROTOCOLS,
      readChoice(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', OTLP_PROTOCOLS, 'http/protobuf'),
    ),
    exportRetryMs,
    benchStep: readChoice(env, 'TELEMETRY_BENCH_STEP', BENCH_STEPS, 'export'),
    kafka: {
      brokers: readString(env, 'KAFKA_BROKERS', `127.0.0.1:${DEFAULT_PORTS.kafka}`)
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
      encoding: readChoice(env, 'KAFKA_LOGS_ENCODING', KAFKA_ENCODINGS, 'otlp_proto'),
    },
    defaultInstrumentations: 'http,koa,kafkajs,runtime-node',
    recordLimits: {
      // The specification's default is no limit; 4096 characters keep a whole user agent or
      // path readable while bounding a record (see DEFAULT_MAX_EXPORT_REQUEST_BYTES).
      attributeValueLengthLimit: readInteger(env, valueLengthVariable, DEFAULT_VALUE_LENGTH_LIMIT, {
        min: 1,
        max: MAX_VALUE_LENGTH_LIMIT,
      }),
      attributeCountLimit: readInteger(env, countVariable, 128, { min: 1, max: 1024 }),
    },
    maxExportRequestBytes: readInteger(
      env,
      'LOG_EXPORT_MAX_REQUEST_BYTES',
      DEFAULT_MAX_EXPORT_REQUEST_BYTES,
      { min: 64 * 1024, max: 64 * 1024 * 1024 },
    ),
    batch: {
      maxQueueSize,
      maxExportBatchSize: readInteger(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 512, {
        min: 1,
        max: maxQueueSize,
      }),
      // 200 ms instead of the specification's 1 s: the wait in the batch was the largest share of
      // emit-to-queryable latency (bench:pipeline's hop budget); at high rates a batch fills to
      // OTEL_BLRP_MAX_EXPORT_BATCH_SIZE first, so the shorter delay adds exports only when idle.
      scheduledDelayMillis: readInteger(env, 'OTEL_BLRP_SCHEDULE_DELAY', 200, { min: 0 }),
      // Longer than the retry window, or the processor would abandon a batch still being retried.
      exportTimeoutMillis: readInteger(env, 'OTEL_BLRP_EXPORT_TIMEOUT', exportRetryMs + 30_000, {
        min: 1,
      }),
    },
  };
}
