import path from 'node:path';
import { ConfigError, readInteger } from '../src/shared/env.ts';
import { DEFAULT_PORTS } from '../src/shared/topology.ts';

// Everything listens on loopback only: these are developer/test services with no auth.
export const HOST = '127.0.0.1';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

export interface Ports {
  kafka: number;
  kafkaController: number;
  kafka2: number;
  kafkaController2: number;
  kafka3: number;
  kafkaController3: number;
  otlpGrpc: number;
  otlpHttp: number;
  collectorHealth: number;
  collectorMetrics: number;
  prometheus: number;
  victoriaLogs: number;
  jaegerOtlpHttp: number;
  jaegerQuery: number;
  jaegerQueryGrpc: number;
  jaegerHealth: number;
}

/** The variable that moves each backing service's port; defaults from src/shared/topology.ts. */
const PORT_ENV: Record<keyof Ports, string> = {
  kafka: 'KAFKA_PORT',
  kafkaController: 'KAFKA_CONTROLLER_PORT',
  kafka2: 'KAFKA_2_PORT',
  kafkaController2: 'KAFKA_2_CONTROLLER_PORT',
  kafka3: 'KAFKA_3_PORT',
  kafkaController3: 'KAFKA_3_CONTROLLER_PORT',
  otlpGrpc: 'OTLP_GRPC_PORT',
  otlpHttp: 'OTLP_HTTP_PORT',
  collectorHealth: 'COLLECTOR_HEALTH_PORT',
  collectorMetrics: 'COLLECTOR_METRICS_PORT',
  prometheus: 'PROMETHEUS_PORT',
  victoriaLogs: 'VICTORIALOGS_PORT',
  jaegerOtlpHttp: 'JAEGER_OTLP_HTTP_PORT',
  jaegerQuery: 'JAEGER_QUERY_PORT',
  jaegerQueryGrpc: 'JAEGER_QUERY_GRPC_PORT',
  jaegerHealth: 'JAEGER_HEALTH_PORT',
};

/** Largest Kafka cluster the native stack runs: one port pair per node in `Ports`. */
export const MAX_KAFKA_NODES = 3;

/** The broker and controller ports of one Kafka node (1-based). */
export interface KafkaNodePorts {
  node: number;
  broker: number;
  controller: number;
  brokerEnv: string;
  controllerEnv: string;
}

export function kafkaNodePorts(config: ServicesConfig, node: number): KafkaNodePorts {
  const suffix = node === 1 ? '' : String(node);
  const broker = `kafka${suffix}` as keyof Ports;
  const controller = `kafkaController${suffix}` as keyof Ports;
  return {
    node,
    broker: config.ports[broker],
    controller: config.ports[controller],
    brokerEnv: PORT_ENV[broker],
    controllerEnv: PORT_ENV[controller],
  };
}

/** Every node of the configured Kafka cluster, node 1 first. */
export function kafkaNodes(config: ServicesConfig): KafkaNodePorts[] {
  return Array.from({ length: config.kafkaBrokers }, (_, index) =>
    kafkaNodePorts(config, index + 1),
  );
}

export interface ServicesConfig {
  ports: Ports;
  /**
   * Kafka nodes (KAFKA_BROKERS_COUNT, 1 to 3; default 1): each one broker and controller. With
   * more than one, topics get one replica per node and `min.insync.replicas` of one less.
   */
  kafkaBrokers: number;
  /** Downloads and builds; survives `down`. */
  cacheDir: string;
  /** Pid files, logs and per-run data. */
  runDir: string;
  prometheusScrapeInterval: string;
  /** Scrape targets of the API, the consumer and the canary that Prometheus scrapes by default. */
  apiMetricsTarget: string;
  consumerMetricsTarget: string;
  canaryMetricsTarget: string;
  keepData: boolean;
  /**
   * Collector configuration files merged over otel-collector/config.yaml, in order (absolute
   * paths; `OTELCOL_EXTRA_CONFIGS`, separated by the platform's path delimiter). The
   * experiments use them to swap exporters without copying the base file.
   */
  collectorExtraConfigs: string[];
}

export { ConfigError };

function parseDuration(name: string, raw: string): string {
  // Prometheus' own duration syntax; validated here so a typo fails before anything starts.
  if (!/^(\d+(ms|s|m|h))+$/.test(raw)) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not a Prometheus duration (e.g. 1s, 15s)`,
    );
  }
  return raw;
}

function parseTarget(name: string, raw: string): string {
  if (!/^[\w.-]+:\d+$/.test(raw)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must look like host:port`);
  }
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServicesConfig {
  const ports = {} as Ports;
  for (const [key, name] of Object.entries(PORT_ENV) as [keyof Ports, string][]) {
    ports[key] = readInteger(env, name, DEFAULT_PORTS[key], { min: 1, max: 65535 });
  }
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other !== undefined) {
      throw new ConfigError(
        `${PORT_ENV[key as keyof Ports]} and ${other} both resolve to port ${port}`,
      );
    }
    seen.set(port, PORT_ENV[key as keyof Ports]);
  }

  const cacheDir = path.resolve(
    REPO_ROOT,
    env.SERVICES_CACHE_DIR || path.join('.cache', 'services'),
  );
  const runDir = path.resolve(REPO_ROOT, env.SERVICES_RUN_DIR || path.join('.cache', 'run'));
  return {
    ports,
    kafkaBrokers: readInteger(env, 'KAFKA_BROKERS_COUNT', 1, { min: 1, max: MAX_KAFKA_NODES }),
    cacheDir,
    runDir,
    prometheusScrapeInterval: parseDuration(
      'PROMETHEUS_SCRAPE_INTERVAL',
      env.PROMETHEUS_SCRAPE_INTERVAL || '15s',
    ),
    apiMetricsTarget: parseTarget(
      'API_METRICS_TARGET',
      env.API_METRICS_TARGET || `${HOST}:${DEFAULT_PORTS.api}`,
    ),
    consumerMetricsTarget: parseTarget(
      'CONSUMER_METRICS_TARGET',
      env.CONSUMER_METRICS_TARGET || `${HOST}:${DEFAULT_PORTS.consumerMetrics}`,
    ),
    canaryMetricsTarget: parseTarget(
      'CANARY_METRICS_TARGET',
      env.CANARY_METRICS_TARGET || `${HOST}:${DEFAULT_PORTS.canaryMetrics}`,
    ),
    keepData: env.SERVICES_KEEP_DATA === '1' || env.SERVICES_KEEP_DATA === 'true',
    collectorExtraConfigs: (env.OTELCOL_EXTRA_CONFIGS ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((file) => path.resolve(REPO_ROOT, file)),
  };
}

export interface Endpoints {
  kafkaBrokers: string[];
  otlpHttp: string;
  otlpGrpc: string;
  collectorHealth: string;
  collectorMetrics: string;
  prometheus: string;
  victoriaLogs: string;
  /** Loki-compatible push endpoint served by VictoriaLogs. */
  lokiPush: string;
  logsQuery: string;
  /** Jaeger's OTLP/HTTP base URL (the Collector appends /v1/traces). */
  jaegerOtlpHttp: string;
  /** Jaeger's query service: GET /api/traces/<trace id>, /api/services, the UI. */
  jaegerQuery: string;
}

export function endpointsOf(config: ServicesConfig): Endpoints {
  const { ports } = config;
  const victoriaLogs = `http://${HOST}:${ports.victoriaLogs}`;
  return {
    kafkaBrokers: kafkaNodes(config).map(({ broker }) => `${HOST}:${broker}`),
    otlpHttp: `http://${HOST}:${ports.otlpHttp}`,
    otlpGrpc: `${HOST}:${ports.otlpGrpc}`,
    collectorHealth: `http://${HOST}:${ports.collectorHealth}/`,
    collectorMetrics: `http://${HOST}:${ports.collectorMetrics}/metrics`,
    prometheus: `http://${HOST}:${ports.prometheus}`,
    victoriaLogs,
    lokiPush: `${victoriaLogs}/insert/loki/api/v1/push`,
    logsQuery: `${victoriaLogs}/select/logsql/query`,
    jaegerOtlpHttp: `http://${HOST}:${ports.jaegerOtlpHttp}`,
    jaegerQuery: `http://${HOST}:${ports.jaegerQuery}`,
  };
}
