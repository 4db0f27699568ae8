/**
 * The log consumer: Kafka `api-logs-*` -> Loki push API, with its own /health and /metrics.
 * Started with `npm run start:consumer`.
 */
import { exitOnConfigError } from '../shared/env.ts';
import { quietKafkajsTimerWarning } from '../shared/kafkajs-warnings.ts';
import { log, startOpsServer } from '../shared/self-observability.ts';
import { SERVICE } from '../telemetry/service.ts';
import { readConsumerConfig, type ConsumerConfig } from './config.ts';
import { createConsumerMetrics } from './metrics.ts';
import { LogShipper } from './shipper.ts';

let config: ConsumerConfig;
try {
  config = readConsumerConfig(process.env);
} catch (error) {
  exitOnConfigError(error);
}

quietKafkajsTimerWarning();

const metrics = createConsumerMetrics('log-consumer', SERVICE.version);
const shipper = new LogShipper(config, metrics, {
  topicRefreshMs: config.topicRefreshMs,
  lagIntervalMs: 10_000,
  log,
});
const startedAt = performance.now();

const server = startOpsServer({
  host: config.metricsHost,
  port: config.metricsPort,
  prometheus: metrics.prometheus,
  health: () => ({
    healthy: shipper.ready,
    body: {
      status: shipper.ready ? 'ok' : 'starting',
      version: SERVICE.version,
      uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
    },
  }),
  describe: { groupId: config.groupId, pushUrl: config.lokiPushUrl },
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('shutting down', { signal });
  await shipper.stop();
  await metrics.shutdown();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await shipper.start();
} catch (error) {
  log('could not start', { error: String(error) });
  process.exit(1);
}
