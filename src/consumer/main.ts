/**
 * The log consumer: Kafka `api-logs-*` -> Loki push API, with its own /health and /metrics.
 * Started with `npm run start:consumer`.
 */
import { exitOnConfigError } from '../shared/env.ts';
import { KAFKA_TOPICS } from '../shared/kafka-topics.ts';
import { log, startOpsServer } from '../shared/self-observability.ts';
import { PACKAGE_VERSION } from '../shared/version.ts';
import { readConsumerConfig, type ConsumerConfig } from './config.ts';
import { createConsumerMetrics } from './metrics.ts';
import { LogShipper } from './shipper.ts';

let config: ConsumerConfig;
try {
  config = readConsumerConfig(process.env);
} catch (error) {
  exitOnConfigError(error);
}

const metrics = createConsumerMetrics(
  'log-consumer',
  PACKAGE_VERSION,
  KAFKA_TOPICS.map(({ name }) => name).filter((name) => config.topicPattern.test(name)),
);
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
  // Unready while the store fails or refuses pushes: records wait in Kafka meanwhile, and the
  // store's own answer says what to fix (a wrong URL, tenant or credentials, or an outage).
  health: () => {
    const { up, cause } = shipper.store;
    return {
      healthy: shipper.ready && up,
      body: {
        status: !shipper.ready ? 'starting' : up ? 'ok' : 'store_unavailable',
        ...(!up && { store: { pushUrl: config.lokiPushUrl, lastAnswer: cause } }),
        version: PACKAGE_VERSION,
        uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
      },
    };
  },
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
