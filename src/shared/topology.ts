/**
 * Where every part of the system listens by default: the one statement of each port number.
 * Components read their defaults from here, the native stack (stack/config.ts) moves each
 * with an environment variable, and a unit test checks compose.yaml and its Prometheus
 * configuration against the same numbers.
 */
export const DEFAULT_PORTS = {
  /** The shop API: HTTP, and its own /metrics. */
  api: 8000,
  /** The log consumer's /health and /metrics. */
  consumerMetrics: 9469,
  /** The pipeline canary's /health and /metrics. */
  canaryMetrics: 9470,
  kafka: 9092,
  kafkaController: 9093,
  /** The second and third nodes of the optional three-broker cluster (KAFKA_BROKERS_COUNT=3). */
  kafka2: 9094,
  kafkaController2: 9095,
  kafka3: 9096,
  kafkaController3: 9097,
  otlpGrpc: 4317,
  otlpHttp: 4318,
  collectorHealth: 13133,
  collectorMetrics: 8888,
  prometheus: 9090,
  /** VictoriaLogs, the native stand-in for Loki (Loki push API and LogsQL). */
  victoriaLogs: 9428,
  /**
   * Jaeger v2's OTLP/HTTP receiver, where the Collector's traces pipeline exports. Not 4318:
   * natively it shares the loopback interface with the Collector's own receiver.
   */
  jaegerOtlpHttp: 4320,
  /** Jaeger's query service: HTTP API (/api/traces, /api/v3) and web UI. */
  jaegerQuery: 16686,
  /** Jaeger's query service over gRPC (api_v2/api_v3); bound so it never takes 16685 of a host. */
  jaegerQueryGrpc: 16685,
  /** Jaeger's health check (healthcheckv2 extension, GET /status). */
  jaegerHealth: 13134,
  /** Loki, in compose. */
  loki: 3100,
  /** Grafana, in compose. */
  grafana: 3000,
} as const;

export type PortName = keyof typeof DEFAULT_PORTS;

/**
 * What Prometheus scrapes, by job name (the dashboards and alerts select on these). `component`
 * names the port in DEFAULT_PORTS and the compose service that serves it.
 */
export const SCRAPE_JOBS = [
  { job: 'prometheus', port: 'prometheus', composeService: 'localhost' },
  { job: 'otel-collector', port: 'collectorMetrics', composeService: 'otel-collector' },
  { job: 'api', port: 'api', composeService: 'api' },
  { job: 'log-consumer', port: 'consumerMetrics', composeService: 'log-consumer' },
  { job: 'canary', port: 'canaryMetrics', composeService: 'canary' },
] as const satisfies readonly { job: string; port: PortName; composeService: string }[];
