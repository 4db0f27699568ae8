/**
 * Pipeline canary: emits sequence-numbered log records through the same path as the API's logs
 * (OTel SDK -> OTLP -> Collector -> Kafka -> consumer -> log store), reads them back from the
 * store and exposes, for Prometheus: records missing, records duplicated and end-to-end latency.
 * Started with `npm run start:canary`.
 */
import { randomBytes } from 'node:crypto';
import { logs, SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { exitOnConfigError } from '../shared/env.ts';
import { createSelfMetrics, log, startOpsServer } from '../shared/self-observability.ts';
import { RetryingLogRecordExporter } from '../shared/retrying-exporter.ts';
import { PACKAGE_VERSION } from '../shared/version.ts';
import { readCanaryConfig, type CanaryConfig } from './config.ts';
import { canaryRequestId, LokiReader, VictoriaLogsReader } from './store-reader.ts';
import { CanaryTracker } from './tracker.ts';

let config: CanaryConfig;
try {
  config = readCanaryConfig(process.env);
} catch (error) {
  exitOnConfigError(error);
}

// A fresh run id per process: sequence numbers restart at 0 and never collide with old runs.
const run = randomBytes(4).toString('hex');
const resourceAttributes = {
  'service.name': 'pipeline-canary',
  'service.version': PACKAGE_VERSION,
  'service.instance.id': run,
};

const loggerProvider = new LoggerProvider({
  resource: resourceFromAttributes(resourceAttributes),
  // OTEL_EXPORTER_OTLP_* apply, and failed exports are retried, as for the API.
  processors: [
    new BatchLogRecordProcessor({
      exporter: new RetryingLogRecordExporter(new OTLPLogExporter(), { maxElapsedMs: 60_000 }),
      scheduledDelayMillis: 200,
      exportTimeoutMillis: 90_000,
    }),
  ],
});
logs.setGlobalLoggerProvider(loggerProvider);
const logger = logs.getLogger('pipeline-canary');

const {
  prometheus,
  meter,
  shutdown: shutdownMetrics,
} = createSelfMetrics(resourceAttributes, 'pipeline-canary');
const sent = meter.createCounter('canary.records.sent', {
  unit: '{record}',
  description: 'Canary records emitted',
});
const duplicated = meter.createCounter('canary.records.duplicated', {
  unit: '{record}',
  description: 'Canary records found more than once in the store',
});
// Exposed at 0 from the first scrape, so an alert or panel on it sees the first duplicate.
duplicated.add(0);
const latency = meter.createHistogram('canary.e2e.latency', {
  unit: 's',
  description: 'From emitting a canary record to finding it in the store',
  advice: { explicitBucketBoundaries: [0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300] },
});
let missingNow = 0;
meter
  .createObservableGauge('canary.records.missing', {
    unit: '{record}',
    description: 'Canary records not found in the store within the deadline',
  })
  .addCallback((result) => result.observe(missingNow));
let storeReachable = 0;
meter
  .createObservableGauge('canary.store.up', {
    description: '1 when the last store query succeeded',
  })
  .addCallback((result) => result.observe(storeReachable));

const tracker = new CanaryTracker(config.deadlineMs);
const reader =
  config.store === 'loki'
    ? new LokiReader(config.storeUrl, config.lokiTenant)
    : new VictoriaLogsReader(config.storeUrl);

function emit(): void {
  const seq = tracker.emit(Date.now());
  logger.emit({
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    eventName: 'canary',
    body: `canary ${seq}`,
    attributes: {
      'log.type': 'canary',
      'request.id': canaryRequestId(run, seq),
      'canary.seq': seq,
    },
  });
  sent.add(1);
}

let checking = false;
async function check(): Promise<void> {
  if (checking) return;
  checking = true;
  try {
    const now = Date.now();
    // Look back over everything still of interest, plus a margin for clock rounding.
    const since = tracker.oldestEmitTime(now) - 5000;
    const found = await reader.sequenceNumbers(run, since);
    storeReachable = 1;
    const observation = tracker.observe(found, Date.now(), config.deadlineMs * 2);
    for (const { latencySeconds } of observation.arrived) latency.record(latencySeconds);
    if (observation.newlyDuplicated > 0) duplicated.add(observation.newlyDuplicated);
    if (observation.missing !== missingNow)
      log('missing records changed', { missing: observation.missing });
    missingNow = observation.missing;
  } catch (error) {
    storeReachable = 0;
    log('store query failed', { error: error instanceof Error ? error.message : String(error) });
  } finally {
    checking = false;
  }
}

const server = startOpsServer({
  host: config.metricsHost,
  port: config.metricsPort,
  prometheus,
  health: () => ({ healthy: true, body: { status: 'ok', run, version: PACKAGE_VERSION } }),
  describe: { run, store: config.store, storeUrl: config.storeUrl },
});

const timers = [
  setInterval(emit, config.intervalMs),
  setInterval(() => void check(), config.checkIntervalMs),
];

async function shutdown(signal: string): Promise<void> {
  log('shutting down', { signal });
  for (const timer of timers) clearInterval(timer);
  await loggerProvider.shutdown();
  await shutdownMetrics();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
