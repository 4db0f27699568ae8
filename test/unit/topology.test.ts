// The ports and scrape jobs of src/shared/topology.ts are the one statement of where things
// listen; the native Prometheus configuration is generated from it, and compose.yaml and its
// Prometheus configuration must say the same.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadConfig } from '../../stack/config.ts';
import { renderConfig } from '../../stack/prometheus.ts';
import { stopOrder } from '../../stack/registry.ts';
import { DEFAULT_PORTS, SCRAPE_JOBS } from '../../src/shared/topology.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
}
interface PrometheusFile {
  scrape_configs: ScrapeConfig[];
}
interface ComposeFile {
  services: Record<
    string,
    { ports?: string[]; environment?: Record<string, string | number>; healthcheck?: unknown }
  >;
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const jobsOf = (config: PrometheusFile) =>
  Object.fromEntries(
    config.scrape_configs.map((scrape) => [
      scrape.job_name,
      scrape.static_configs?.flatMap((entry) => entry.targets) ?? [],
    ]),
  );

describe('topology: one statement of every port and scrape job', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as ComposeFile;
  const env = (service: string, name: string) =>
    String(compose.services[service]?.environment?.[name] ?? '');

  it('generates the native Prometheus configuration from the scrape jobs', () => {
    const config = loadConfig({});
    const jobs = jobsOf(parse(renderConfig(config)) as PrometheusFile);
    for (const { job, port } of SCRAPE_JOBS) {
      expect(jobs[job], job).to.deep.equal([`127.0.0.1:${DEFAULT_PORTS[port]}`]);
    }
    const moved = loadConfig({ PROMETHEUS_PORT: '19090', CANARY_METRICS_TARGET: '127.0.0.1:1' });
    const movedJobs = jobsOf(parse(renderConfig(moved)) as PrometheusFile);
    expect(movedJobs['prometheus']).to.deep.equal(['127.0.0.1:19090']);
    expect(movedJobs['canary']).to.deep.equal(['127.0.0.1:1']);
  });

  it("has compose's Prometheus scrape the same jobs on the same ports", () => {
    const jobs = jobsOf(parse(read('prometheus/prometheus.yml')) as PrometheusFile);
    expect(Object.keys(jobs).sort()).to.deep.equal(SCRAPE_JOBS.map(({ job }) => job).sort());
    for (const { job, port, composeService } of SCRAPE_JOBS) {
      expect(jobs[job], job).to.deep.equal([`${composeService}:${DEFAULT_PORTS[port]}`]);
    }
  });

  it('has compose.yaml listen, connect and publish on the same ports', () => {
    expect(env('api', 'PORT')).to.equal(String(DEFAULT_PORTS.api));
    expect(env('log-consumer', 'METRICS_PORT')).to.equal(String(DEFAULT_PORTS.consumerMetrics));
    expect(env('canary', 'METRICS_PORT')).to.equal(String(DEFAULT_PORTS.canaryMetrics));
    for (const service of ['otel-collector', 'log-consumer']) {
      const brokers = env(service, 'KAFKA_BROKERS');
      if (brokers) expect(brokers, service).to.equal(`kafka:${DEFAULT_PORTS.kafka}`);
    }
    for (const service of ['api', 'canary']) {
      expect(env(service, 'OTEL_EXPORTER_OTLP_ENDPOINT'), service).to.equal(
        `http://otel-collector:${DEFAULT_PORTS.otlpHttp}`,
      );
    }
    expect(env('log-consumer', 'LOKI_PUSH_URL')).to.match(
      new RegExp(`^http://loki:${DEFAULT_PORTS.loki}/`),
    );
    expect(env('loadgen', 'LOADGEN_TARGET')).to.equal(`http://api:${DEFAULT_PORTS.api}`);
    expect(env('otel-collector', 'JAEGER_OTLP_ENDPOINT')).to.equal(
      `http://jaeger:${DEFAULT_PORTS.jaegerOtlpHttp}`,
    );
    expect(JSON.stringify(compose.services['jaeger']?.healthcheck)).to.include(
      `:${DEFAULT_PORTS.jaegerHealth}/status`,
    );
    const published = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    for (const port of [
      DEFAULT_PORTS.api,
      DEFAULT_PORTS.grafana,
      DEFAULT_PORTS.loki,
      DEFAULT_PORTS.prometheus,
      DEFAULT_PORTS.jaegerQuery,
    ]) {
      expect(published, String(port)).to.include(`127.0.0.1:${port}:${port}`);
    }
  });

  it("has Jaeger's config file and the Collector's traces exporter default to the same ports", () => {
    const jaeger = read('jaeger/config.yaml');
    const defaultOf = (variable: string) =>
      new RegExp(`\\$\\{env:${variable}:-([^}]+)\\}`).exec(jaeger)?.[1];
    expect(defaultOf('JAEGER_OTLP_HTTP_PORT')).to.equal(String(DEFAULT_PORTS.jaegerOtlpHttp));
    expect(defaultOf('JAEGER_QUERY_PORT')).to.equal(String(DEFAULT_PORTS.jaegerQuery));
    expect(defaultOf('JAEGER_QUERY_GRPC_PORT')).to.equal(String(DEFAULT_PORTS.jaegerQueryGrpc));
    expect(defaultOf('JAEGER_HEALTH_PORT')).to.equal(String(DEFAULT_PORTS.jaegerHealth));
    expect(read('otel-collector/config.yaml')).to.include(
      `\${env:JAEGER_OTLP_ENDPOINT:-http://127.0.0.1:${DEFAULT_PORTS.jaegerOtlpHttp}}`,
    );
  });

  it('stops a service before the ones it starts after', () => {
    const order = stopOrder();
    expect(order.indexOf('collector')).to.be.lessThan(order.indexOf('kafka'));
    expect(order.indexOf('collector')).to.be.lessThan(order.indexOf('jaeger'));
    expect([...order].sort()).to.deep.equal([
      'collector',
      'jaeger',
      'kafka',
      'prometheus',
      'victorialogs',
    ]);
  });
});
