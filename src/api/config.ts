/** The API's own settings, read once at start-up and validated with clear messages. */
import { readBoolean, readInteger, readString } from '../shared/env.ts';
import { DEFAULT_PORTS } from '../shared/topology.ts';

export interface ApiConfig {
  host: string;
  port: number;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  /** Records kept per collection (users, products, orders) before the oldest is evicted. */
  storeCapacity: number;
  lowStockThreshold: number;
  /** How long SIGTERM waits for in-flight requests before closing their connections. */
  shutdownGraceMs: number;
  /** Requests per client address per second before 429; 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** Time allowed to receive a whole request (headers and body) before Node answers 408. */
  requestTimeoutMs: number;
  /** Serves GET /faults/error (always 500) so demos and tests can produce server errors. */
  faultRoutes: boolean;
}

export function readApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  return {
    host: readString(env, 'HOST', '0.0.0.0'),
    port: readInteger(env, 'PORT', DEFAULT_PORTS.api, { min: 0, max: 65535 }),
    bodyLimitBytes: readInteger(env, 'BODY_LIMIT_BYTES', 64 * 1024, { min: 1 }),
    storeCapacity: readInteger(env, 'STORE_CAPACITY', 100_000, { min: 1 }),
    lowStockThreshold: readInteger(env, 'LOW_STOCK_THRESHOLD', 10, { min: 0 }),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
    faultRoutes: readBoolean(env, 'FAULT_ROUTES', false),
    rateLimitPerSecond: readInteger(env, 'RATE_LIMIT_PER_SECOND', 0, { min: 0 }),
    requestTimeoutMs: readInteger(env, 'REQUEST_TIMEOUT_MS', 30_000, { min: 1000 }),
  };
}
