/**
 * The API's HTTP server: Node's server with the configured timeouts, and every request observed
 * for its access record and the request histogram, including those Node answers or refuses
 * without the application (see telemetry/server-requests.ts).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { observeServer } from './telemetry/server-requests.ts';
import type { ApiConfig } from './config.ts';

/**
 * How often Node looks for requests past their timeout, in milliseconds. Node checks only on
 * this interval (30 s by default), so a request could outlive REQUEST_TIMEOUT_MS by that much;
 * a tenth of the timeout, between 100 ms and 1 s, keeps the overshoot at most 10 %.
 */
export function connectionsCheckingIntervalMs(requestTimeoutMs: number): number {
  return Math.min(1000, Math.max(100, Math.round(requestTimeoutMs / 10)));
}

export function createApiServer(
  config: Pick<ApiConfig, 'requestTimeoutMs'>,
  handler: RequestListener,
): Server {
  const server = createServer(
    {
      // Time to receive a whole request, headers and body (Node answers 408 past it); the headers
      // have the same bound (Node's headersTimeout defaults to the smaller of 60 s and this).
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(config.requestTimeoutMs),
    },
    handler,
  );
  observeServer(server);
  return server;
}
