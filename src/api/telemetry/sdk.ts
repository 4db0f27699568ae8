/**
 * Starts the OpenTelemetry Node SDK: resource, instrumentations, the Prometheus exporter (served
 * by the API on its own port) and the log pipeline (batch processor -> OTLP/HTTP).
 *
 * The MeterProvider is built here rather than by NodeSDK so that the SDK's own self-observability
 * metrics (exported / failed / dropped log records, queue size) can be wired into the log
 * processor and exporter, which need a meter provider when they are constructed.
 */
import type { IncomingMessage } from 'node:http';
import { createNoopMeter, metrics } from '@opentelemetry/api';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { OTLPLogExporter as OTLPGrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as OTLPJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OTLPProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { KoaLayerType } from '@opentelemetry/instrumentation-koa';
import {
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  ConsoleLogRecordExporter,
  type LogRecordExporter,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import { observeProcessMemory } from '../../shared/process-memory.ts';
import { BENCH_STEPS, type BenchStep, type TelemetryConfig } from './config.ts';
import { KafkaLogRecordExporter } from './kafka-log-exporter.ts';
import { configureRecordLimits } from './logs.ts';
import { checkResourceLabels } from './prometheus-labels.ts';
import { alignSpanWithRecord } from './server-requests.ts';
import { RetryingLogRecordExporter } from '../../shared/retrying-exporter.ts';
import { splitBySize } from './request-size.ts';

export interface TelemetryOverrides {
  /** Replaces the configured log pipeline, e.g. with an in-memory exporter in tests. */
  logRecordProcessors?: LogRecordProcessor[];
}

export interface Telemetry {
  /** Renders the Prometheus text exposition for GET /metrics. */
  readonly prometheus: PrometheusExporter;
  /** Flushes pending telemetry; resolves after at most `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

let active: Telemetry | undefined;

/**
 * Whether spans are recorded and exported: OTEL_TRACES_EXPORTER names at least one exporter
 * other than `none` (the specification's value that turns traces off). The demo and compose set
 * it to `otlp`.
 */
export function tracesExported(env: NodeJS.ProcessEnv): boolean {
  const names = (env['OTEL_TRACES_EXPORTER'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return names.length > 0 && !names.includes('none');
}

/** The running telemetry, if the process was started with it. */
export function activeTelemetry(): Telemetry | undefined {
  return active;
}

export async function startTelemetry(
  config: TelemetryConfig,
  overrides: TelemetryOverrides = {},
): Promise<Telemetry> {
  if (active) return active;

  const resource = resourceFromAttributes(config.resourceDefaults).merge(
    detectResources({
      detectors: [
        envDetector,
        hostDetector,
        osDetector,
        processDetector,
        serviceInstanceIdDetector,
      ],
    }),
  );
  // host.id is read asynchronously; exporters must not see the resource before it settles.
  await resource.waitForAsyncAttributes?.();
  // Before anything is served: a resource Prometheus cannot label would break every scrape.
  checkResourceLabels(resource.attributes);

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({
    resource,
    readers: [prometheus],
    views: [
      // The http instrumentation records the status its response object holds when the
      // connection closes, which for a timed-out or aborted request is one the client never
      // received (Koa's initial 404). server-requests.ts records this histogram instead, from
      // the same outcome as the access record.
      {
        meterName: '@opentelemetry/instrumentation-http',
        instrumentName: 'http.server.request.duration',
        aggregation: { type: AggregationType.DROP },
      },
    ],
  });
  const upTo = (step: BenchStep) =>
    BENCH_STEPS.indexOf(config.benchStep) >= BENCH_STEPS.indexOf(step);
  // Instrumentations take their meter from the global provider when they are constructed.
  // (Before the benchmark step `histogram` no meter is registered: every metric is a no-op.)
  if (upTo('histogram')) {
    metrics.setGlobalMeterProvider(meterProvider);
    observeProcessMemory(meterProvider.getMeter('shop-api.process'));
  }

  process.env['OTEL_NODE_ENABLED_INSTRUMENTATIONS'] ??= config.defaultInstrumentations;
  // NodeSDK builds its LoggerProvider's limits from these variables only; writing the resolved
  // values back gives the SDK the project's defaults and the same numbers logs.ts bounds with.
  const { attributeValueLengthLimit, attributeCountLimit } = config.recordLimits;
  process.env['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT'] = String(attributeValueLengthLimit);
  process.env['OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT'] = String(attributeCountLimit);
  configureRecordLimits(config.recordLimits);
  // Benchmark steps before `histogram` switch the instrumentations on one at a time. An
  // instrumentation patches as soon as it is constructed, so the ones left out are not built.
  const offBefore = (step: BenchStep) => (upTo(step) ? {} : { enabled: false });
  const instrumentations = getNodeAutoInstrumentations({
    '@opentelemetry/instrumentation-http': {
      ...offBefore('http'),
      // Scrapes and health probes would otherwise dominate the request histogram's traffic.
      ignoreIncomingRequestHook: (request) => request.url === '/metrics',
      // The span's status is the one the client received, as on the access record.
      applyCustomAttributesOnSpan: (span, request) => {
        // The hook is shared with client spans; only server requests were observed.
        if ('httpVersion' in request) alignSpanWithRecord(span, request as IncomingMessage);
      },
    },
    // One span per plain middleware would multiply the per-request cost for no insight; the
    // router layer still gets its span and still reports the matched route.
    '@opentelemetry/instrumentation-koa': {
      ...offBefore('koa'),
      ignoreLayersType: [KoaLayerType.MIDDLEWARE],
    },
    '@opentelemetry/instrumentation-kafkajs': offBefore('histogram'),
    '@opentelemetry/instrumentation-runtime-node': offBefore('histogram'),
  });
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    metricReaders: [],
    logRecordProcessors:
      overrides.logRecordProcessors ??
      (upTo('export')
        ? createLogRecordProcessors(config, meterProvider)
        : // Benchmark steps: records made and dropped (`records`), or none made at all (a
          // provider without processors reports itself disabled to every emit).
          upTo('records')
          ? [DISCARD_RECORDS]
          : []),
    // With OTEL_TRACES_EXPORTER unset or `none` spans are not exported, so none is recorded
    // either: the AlwaysOff sampler still gives each request a trace and span id (continuing an
    // incoming traceparent), which is all the log records need, at a fraction of a recorded
    // span's cost. Otherwise NodeSDK builds the exporter and a batch span processor from the
    // standard OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* / OTEL_BSP_* variables, and the
    // sampler from OTEL_TRACES_SAMPLER, whose default (parentbased_always_on) records every
    // request: the Collector's tail_sampling decides what is kept, once it sees the whole trace.
    ...(tracesExported(process.env)
      ? {}
      : { spanProcessors: [new NoopSpanProcessor()], sampler: new AlwaysOffSampler() }),
    instrumentations,
  });
  sdk.start();
  // The http instrumentation's own duration histogram is dropped by the view above, but a
  // dropped instrument still pays for every recording (the SDK hashes its attributes into a
  // map, twice, and allocates nothing to keep): about 3 µs a request, against 0.1 µs for a
  // kept histogram point. A no-op meter makes its recordings free. start() has just handed
  // every instrumentation the global provider, so this comes after it.
  for (const instrumentation of instrumentations) {
    if (instrumentation.instrumentationName === '@opentelemetry/instrumentation-http') {
      instrumentation.setMeterProvider({ getMeter: () => createNoopMeter() });
    }
  }

  active = {
    prometheus,
    shutdown: async (timeoutMs = 5000) => {
      const flushed = Promise.all([sdk.shutdown(), meterProvider.shutdown()]).then(() => undefined);
      await Promise.race([
        flushed,
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
    },
  };
  return active;
}

/** Benchmark step `records`: every record is created, none is queued or exported. */
const DISCARD_RECORDS: LogRecordProcessor = {
  onEmit: () => {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

function createLogRecordProcessors(
  config: TelemetryConfig,
  meterProvider: MeterProvider,
): LogRecordProcessor[] {
  const direct = createLogRecordExporter(config, meterProvider);
  if (!direct) return [];
  const encoding =
    config.logsExporter === 'kafka'
      ? config.kafka.encoding === 'otlp_json'
        ? 'json'
        : 'protobuf'
      : config.otlpLogsProtocol === 'http/json'
        ? 'json'
        : 'protobuf';
  const bound = { maxRequestBytes: config.maxExportRequestBytes, encoding } as const;
  const exporter =
    config.logsExporter === 'console'
      ? direct
      : new RetryingLogRecordExporter(direct, {
          maxElapsedMs: config.exportRetryMs,
          split: (records) => splitBySize(records, bound),
        });
  return [
    new BatchLogRecordProcessor({
      exporter,
      ...config.batch,
      selfObsMeterProvider: meterProvider,
    }),
  ];
}

function createLogRecordExporter(
  config: TelemetryConfig,
  meterProvider: MeterProvider,
): LogRecordExporter | undefined {
  switch (config.logsExporter) {
    case 'none':
      return undefined;
    case 'console':
      return new ConsoleLogRecordExporter();
    case 'kafka':
      return new KafkaLogRecordExporter(config.kafka);
    case 'otlp':
      switch (config.otlpLogsProtocol) {
        case 'http/json':
          return new OTLPJsonLogExporter({ selfObsMeterProvider: meterProvider });
        case 'grpc':
          // Reads OTEL_EXPORTER_OTLP_(LOGS_)ENDPOINT like the others; the Collector's gRPC port.
          return new OTLPGrpcLogExporter({ selfObsMeterProvider: meterProvider });
        case 'http/protobuf':
          return new OTLPProtoLogExporter({ selfObsMeterProvider: meterProvider });
      }
  }
}
