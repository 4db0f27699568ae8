/**
 * Telemetry settings. The standard OTEL_* variables keep their specified meaning (the exporters
 * read their own OTEL_EXPORTER_OTLP_* settings); this module adds the project's defaults and
 * validates the values that it interprets itself.
 */
import { readChoice, readInteger, readString } from '../shared/env.ts';

export const LOGS_EXPORTERS = ['otlp', 'kafka', 'console', 'none'] as const;
export const KAFKA_ENCODINGS = ['otlp_proto', 'otlp_json'] as const;
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

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
  const exportRetryMs = readInteger(env, 'LOG_EXPORT_RETRY_MS', 60_000, { min: 0 });
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
    kafka: {
      brokers: readString(env, 'KAFKA_BROKERS', '127.0.0.1:9092')
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
      encoding: readChoice(env, 'KAFKA_LOGS_ENCODING', KAFKA_ENCODINGS, 'otlp_proto'),
    },
    defaultInstrumentations: 'http,koa,kafkajs,runtime-node',
    batch: {
      maxQueueSize,
      maxExportBatchSize: readInteger(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 512, {
        min: 1,
        max: maxQueueSize,
      }),
      scheduledDelayMillis: readInteger(env, 'OTEL_BLRP_SCHEDULE_DELAY', 1000, { min: 0 }),
      // Longer than the retry window, or the processor would abandon a batch still being retried.
      exportTimeoutMillis: readInteger(env, 'OTEL_BLRP_EXPORT_TIMEOUT', exportRetryMs + 30_000, {
        min: 1,
      }),
    },
  };
}
