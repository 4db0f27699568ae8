/**
 * The log consumer: Kafka `api-logs-*` -> Loki push API, with its own /health and /metrics.
 * Started with `npm run start:consumer`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitOnConfigError } from '../shared/env.ts';
import { quietKafkajsTimerWarning } from '../shared/kafkajs-warnings.ts';
import { SERVICE } from '../telemetry/service.ts';
import { readConsumerConfig, type ConsumerConfig } from './config.ts';
import { createConsumerMetrics } from './metrics.ts';
import { LogShipper } from './shipper.ts';

const log = (msg: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));

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

const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    metrics.prometheus.getMetricsRequestHandler(req, res);
    return;
  }
  if (req.url === '/health') {
    const body = {
      status: shipper.ready ? 'ok' : 'starting',
      version: SERVICE.version,
      uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
    };
    res.writeHead(shipper.ready ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code: 'not_found', message: 'only /health and /metrics' } }));
});
server.listen(config.metricsPort, config.metricsHost, () => {
  const { port } = server.address() as AddressInfo;
  log('listening', { port, groupId: config.groupId, pushUrl: config.lokiPushUrl });
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
