/** The canary's settings, validated at start. */
import { ConfigError, readChoice, readInteger, readString } from '../shared/env.ts';
import { DEFAULT_PORTS } from '../shared/topology.ts';

export interface CanaryConfig {
  store: 'loki' | 'victorialogs';
  /** Loki's base URL (e.g. http://loki:3100 in compose) or VictoriaLogs' (natively). */
  storeUrl: string;
  lokiTenant: string | undefined;
  intervalMs: number;
  /** A record not queryable this long after it was emitted counts as missing. */
  deadlineMs: number;
  checkIntervalMs: number;
  metricsHost: string;
  metricsPort: number;
}

export function readCanaryConfig(env: NodeJS.ProcessEnv): CanaryConfig {
  const store = readChoice(env, 'CANARY_STORE', ['loki', 'victorialogs'], 'loki');
  const storeUrl = readString(
    env,
    'CANARY_STORE_URL',
    `http://127.0.0.1:${store === 'loki' ? DEFAULT_PORTS.loki : DEFAULT_PORTS.victoriaLogs}`,
  );
  if (!/^https?:\/\/[^/]+/.test(storeUrl)) {
    throw new ConfigError(`CANARY_STORE_URL must be an http(s) URL, got "${storeUrl}"`);
  }
  return {
    store,
    storeUrl,
    lokiTenant: env['LOKI_TENANT']?.trim() || undefined,
    intervalMs: readInteger(env, 'CANARY_INTERVAL_MS', 1000, { min: 10 }),
    deadlineMs: readInteger(env, 'CANARY_DEADLINE_MS', 60_000, { min: 1000 }),
    checkIntervalMs: readInteger(env, 'CANARY_CHECK_INTERVAL_MS', 1000, { min: 100 }),
    metricsHost: readString(env, 'METRICS_HOST', '0.0.0.0'),
    metricsPort: readInteger(env, 'METRICS_PORT', DEFAULT_PORTS.canaryMetrics, {
      min: 0,
      max: 65535,
    }),
  };
}
