/**
 * What every long-running component of the pipeline (consumer, canary) exposes about itself: a
 * Prometheus /metrics endpoint built on the OpenTelemetry metrics SDK, a /health endpoint, and
 * one-line JSON logs on stdout. These components never export their own logs over OTLP: they
 * would feed the pipeline they observe.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics, type Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { observeProcessMemory } from './process-memory.ts';

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export const log: Log = (msg, fields = {}) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));

export interface SelfMetrics {
  readonly prometheus: PrometheusExporter;
  readonly meter: Meter;
  shutdown(): Promise<void>;
}

export function createSelfMetrics(resource: Record<string, string>, scope: string): SelfMetrics {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resource),
    readers: [prometheus],
  });
  metrics.setGlobalMeterProvider(provider);
  const meter = provider.getMeter(scope);
  observeProcessMemory(meter);
  return { prometheus, meter, shutdown: () => provider.shutdown() };
}

export interface OpsServerOptions {
  host: string;
  port: number;
  prometheus: PrometheusExporter;
  /** The /health answer: 200 when healthy, 503 otherwise, with `body` as JSON. */
  health(): { healthy: boolean; body: Record<string, unknown> };
  /** Logged (after `port`) in the start-up line, which tests and scripts wait for. */
  describe?: Record<string, unknown>;
}

export function startOpsServer({
  host,
  port,
  prometheus,
  health,
  describe = {},
}: OpsServerOptions): Server {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') return prometheus.getMetricsRequestHandler(req, res);
    if (req.url === '/health') {
      const { healthy, body } = health();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(body));
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'only /health and /metrics' } }));
  });
  server.listen(port, host, () => {
    log('listening', { port: (server.address() as AddressInfo).port, ...describe });
  });
  return server;
}
