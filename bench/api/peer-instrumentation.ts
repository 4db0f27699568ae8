/**
 * The peer row of `npm run bench:api`: the API observed the way a Node service is commonly
 * observed without OpenTelemetry, loaded with `node --import` in front of the bare API. A
 * prom-client histogram of request durations by method, route and status, and one pino access
 * line per request, written asynchronously to a file (BENCH_PEER_LOG_FILE), as a service would write
 * it for a log shipper to tail. No trace context: pino has none to give.
 *
 * It hooks the same place the project's own recording does (Node's request-start diagnostics
 * channel, and the matched route the application annotates on the request), so both rows pay
 * for the same facts and differ only in how they are recorded.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { Histogram, Registry } from 'prom-client';
import { observeRequest } from '../../src/api/telemetry/server-requests.ts';

const registry = new Registry();
const duration = new Histogram({
  name: 'http_server_request_duration_seconds',
  help: 'Duration of HTTP server requests.',
  labelNames: ['method', 'route', 'status_code'] as const,
  // The buckets the project's own histogram uses (the semantic conventions' advice).
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  registers: [registry],
});
const logger = pino(
  { base: { service: 'shop-api' } },
  pino.destination({ dest: process.env['BENCH_PEER_LOG_FILE'] ?? '/dev/null', sync: false }),
);

subscribe('http.server.request.start', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  const startedAt = process.hrtime.bigint();
  const annotations = observeRequest(request, response);
  response.once('finish', () => {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const route = annotations.route?.() ?? '';
    duration.observe(
      { method: request.method ?? '', route, status_code: response.statusCode },
      seconds,
    );
    logger.info(
      {
        method: request.method,
        route,
        path: annotations.path,
        status: response.statusCode,
        duration: seconds,
        client: request.socket.remoteAddress,
        userAgent: request.headers['user-agent'],
        requestId: annotations.requestId,
      },
      'request',
    );
  });
});
