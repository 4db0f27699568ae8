import path from 'node:path';

// Everything listens on loopback only: these are developer/test services with no auth.
export const HOST = '127.0.0.1';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

export interface Ports {
  kafka: number;
  kafkaController: number;
  otlpGrpc: number;
  otlpHttp: number;
  collectorHealth: number;
  collectorMetrics: number;
  prometheus: number;
  victoriaLogs: number;
}

const PORT_ENV: Record<keyof Ports, { env: string; fallback: number }> = {
  kafka: { env: 'KAFKA_PORT', fallback: 9092 },
  kafkaController: { env: 'KAFKA_CONTROLLER_PORT', fallback: 9093 },
  otlpGrpc: { env: 'OTLP_GRPC_PORT', fallback: 4317 },
  otlpHttp: { env: 'OTLP_HTTP_PORT', fallback: 4318 },
  collectorHealth: { env: 'COLLECTOR_HEALTH_PORT', fallback: 13133 },
  collectorMetrics: { env: 'COLLECTOR_METRICS_PORT', fallback: 8888 },
  prometheus: { env: 'PROMETHEUS_PORT', fallback: 9090 },
  victoriaLogs: { env: 'VICTORIALOGS_PORT', fallback: 9428 },
};

export interface ServicesConfig {
  ports: Ports;
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
}

export class ConfigError extends Error {}

function parsePort(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a port number (1-65535)`);
  }
  const port = Number(raw);
  if (port < 1 || port > 65535) {
    throw new ConfigError(`${name}=${raw} is out of range (1-65535)`);
  }
  return port;
}

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
  for (const [key, { env: name, fallback }] of Object.entries(PORT_ENV)) {
    const raw = env[name];
    ports[key as keyof Ports] = raw === undefined || raw === '' ? fallback : parsePort(name, raw);
  }
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other !== undefined) {
      throw new ConfigError(
        `${PORT_ENV[key as keyof Ports].env} and ${other} both resolve to port ${port}`,
      );
    }
    seen.set(port, PORT_ENV[key as keyof Ports].env);
  }

  const cacheDir = path.resolve(
    REPO_ROOT,
    env.SERVICES_CACHE_DIR || path.join('.cache', 'services'),
  );
  const runDir = path.resolve(REPO_ROOT, env.SERVICES_RUN_DIR || path.join('.cache', 'run'));
  return {
    ports,
    cacheDir,
    runDir,
    prometheusScrapeInterval: parseDuration(
      'PROMETHEUS_SCRAPE_INTERVAL',
      env.PROMETHEUS_SCRAPE_INTERVAL || '15s',
    ),
    apiMetricsTarget: parseTarget('API_METRICS_TARGET', env.API_METRICS_TARGET || `${HOST}:8000`),
    consumerMetricsTarget: parseTarget(
      'CONSUMER_METRICS_TARGET',
      env.CONSUMER_METRICS_TARGET || `${HOST}:9469`,
    ),
    canaryMetricsTarget: parseTarget(
      'CANARY_METRICS_TARGET',
      env.CANARY_METRICS_TARGET || `${HOST}:9470`,
    ),
    keepData: env.SERVICES_KEEP_DATA === '1' || env.SERVICES_KEEP_DATA === 'true',
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
}

export function endpointsOf(config: ServicesConfig): Endpoints {
  const { ports } = config;
  const victoriaLogs = `http://${HOST}:${ports.victoriaLogs}`;
  return {
    kafkaBrokers: [`${HOST}:${ports.kafka}`],
    otlpHttp: `http://${HOST}:${ports.otlpHttp}`,
    otlpGrpc: `${HOST}:${ports.otlpGrpc}`,
    collectorHealth: `http://${HOST}:${ports.collectorHealth}/`,
    collectorMetrics: `http://${HOST}:${ports.collectorMetrics}/metrics`,
    prometheus: `http://${HOST}:${ports.prometheus}`,
    victoriaLogs,
    lokiPush: `${victoriaLogs}/insert/loki/api/v1/push`,
    logsQuery: `${victoriaLogs}/select/logsql/query`,
  };
}
