/**
 * One request, one status: whatever way a request ends, its access record, its point in the
 * http.server.request.duration histogram and what the client read off the wire agree. Clients
 * here are raw sockets, so requests can be malformed, cut short, stalled or reset.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Attributes } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import fc from 'fast-check';
import { createApp } from '../../src/api/app.ts';
import { readApiConfig } from '../../src/api/config.ts';
import { connectionsCheckingIntervalMs, createApiServer } from '../../src/api/server.ts';
import { activeTelemetry } from '../../src/api/telemetry/sdk.ts';
import { createContext, endpoints, startComponent } from '../../stack/index.ts';
import { capturedLogs } from '../support/telemetry.ts';

interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

async function startServer(requestTimeoutMs: number): Promise<RunningServer> {
  const config = { ...readApiConfig({}), requestTimeoutMs };
  const server = createApiServer(config, createApp(config, 'test').koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One step of a raw client: bytes to send, a pause, or how the client ends. */
type Step =
  | { send: string }
  | { pause: number }
  | { end: 'fin' } // half-close, then read whatever the server still sends
  | { end: 'reset' } // RST: the client goes away at once
  | { end: 'wait' }; // wait for the server to close the connection

/** Runs `steps` on a fresh connection; everything the client read, once the socket closed. */
async function rawExchange(port: number, steps: Step[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined); // a reset or a write after the server closed
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  for (const step of steps) {
    if (socket.destroyed) break;
    if ('send' in step) socket.write(Buffer.from(step.send, 'latin1'));
    else if ('pause' in step) await sleep(step.pause);
    else if (step.end === 'fin') socket.end();
    else if (step.end === 'reset') socket.resetAndDestroy();
  }
  await closed;
  return received;
}

/** The final (non-1xx) status the client read, if any. */
function clientStatus(received: string): number | undefined {
  const statuses = [...received.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) =>
    Number(match[1]),
  );
  return statuses.filter((status) => status >= 200).at(0);
}

/** Until the server has no connection left and has written what it records on close. */
async function settled(server: Server): Promise<void> {
  for (;;) {
    const count = await new Promise<number>((resolve, reject) =>
      server.getConnections((error, connections) => (error ? reject(error) : resolve(connections))),
    );
    if (count === 0) break;
    await sleep(5);
  }
  await sleep(5); // response 'close' events are emitted on the next tick
}

interface HistogramPoint {
  attributes: Attributes;
  count: number;
}

/** The project's http.server.request.duration points, read from the SDK without a scrape. */
async function histogramPoints(): Promise<Map<string, HistogramPoint>> {
  const telemetry = activeTelemetry();
  if (!telemetry) throw new Error('telemetry is not running');
  const { resourceMetrics } = await telemetry.prometheus.collect();
  const points = new Map<string, HistogramPoint>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== 'http.server.request.duration') continue;
      for (const point of (metric as HistogramMetricData).dataPoints) {
        const key = `${scope.scope.name} ${JSON.stringify(point.attributes)}`;
        points.set(key, { attributes: point.attributes, count: point.value.count });
      }
    }
  }
  return points;
}

/** The points that grew between two reads, with how much. */
function grown(before: Map<string, HistogramPoint>, after: Map<string, HistogramPoint>) {
  return [...after]
    .map(([key, point]) => ({ ...point, count: point.count - (before.get(key)?.count ?? 0) }))
    .filter((point) => point.count !== 0);
}

interface Ending {
  client: number | undefined;
  records: ReadableLogRecord[];
  points: HistogramPoint[];
}

async function observe(running: RunningServer, steps: Step[]): Promise<Ending> {
  await settled(running.server);
  capturedLogs.reset();
  const before = await histogramPoints();
  const received = await rawExchange(running.port, steps);
  await settled(running.server);
  const records = capturedLogs
    .getFinishedLogRecords()
    .filter((record) => record.attributes['log.type'] === 'access');
  return {
    client: clientStatus(received),
    records,
    points: grown(before, await histogramPoints()),
  };
}

/** Asserts the one-request-one-status promise for an exchange that made exactly one request. */
function expectOneStatus({ client, records, points }: Ending, label = ''): void {
  expect(records, `${label} access records`).to.have.lengthOf(1);
  expect(points, `${label} histogram points`).to.have.lengthOf(1);
  const [record] = records as [ReadableLogRecord];
  const [point] = points as [HistogramPoint];
  expect(point.count, `${label} histogram count`).to.equal(1);
  const recorded = record.attributes['http.response.status_code'];
  expect(recorded, `${label} record vs client`).to.equal(client);
  expect(point.attributes['http.response.status_code'], `${label} histogram vs client`).to.equal(
    client,
  );
  expect(point.attributes['error.type'], `${label} error.type`).to.equal(
    record.attributes['error.type'],
  );
  expect(point.attributes['http.request.method'], `${label} method`).to.equal(
    record.attributes['http.request.method'],
  );
}

const post = (declared: number, contentType = 'application/json') =>
  `POST /users HTTP/1.1\r\nHost: api\r\nContent-Type: ${contentType}\r\n` +
  `Content-Length: ${declared}\r\nX-Request-Id: endings\r\n\r\n`;

describe('one request, one status', () => {
  describe('with REQUEST_TIMEOUT_MS=2000', () => {
    let running: RunningServer;
    before(async () => {
      running = await startServer(2000);
    });
    after(() => running.close());

    it('checks for expired requests often enough to time out near the configured value', () => {
      expect(running.server.requestTimeout).to.equal(2000);
      expect(running.server.headersTimeout).to.equal(2000);
      // Set from the options; @types/node does not declare the property.
      const server = running.server as Server & { connectionsCheckingInterval?: number };
      expect(server.connectionsCheckingInterval).to.equal(200);
      expect(connectionsCheckingIntervalMs(30_000)).to.equal(1000);
      expect(connectionsCheckingIntervalMs(1000)).to.equal(100);
    });

    it('a POST /users announcing 100 bytes and sending 10: 408 for client, record and histogram', async function () {
      this.timeout(30_000);
      const ending = await observe(running, [{ send: `${post(100)}0123456789` }, { end: 'wait' }]);
      expect(ending.client).to.equal(408);
      expectOneStatus(ending);
      const [record] = ending.records as [ReadableLogRecord];
      expect(record.attributes).to.include({
        'http.route': '/users',
        'request.id': 'endings',
        'error.type': 'timeout',
      });
      expect(ending.points[0]?.attributes).to.include({ 'http.route': '/users' });
    });

    it('a client that half-closes mid-body: 400 for client, record and histogram', async () => {
      const ending = await observe(running, [{ send: `${post(100)}0123456789` }, { end: 'fin' }]);
      expect(ending.client).to.equal(400);
      expectOneStatus(ending);
      expect(ending.records[0]?.attributes['error.type']).to.equal('HPE_INVALID_EOF_STATE');
    });

    it('a client that resets mid-body: no status anywhere, error.type aborted', async () => {
      const ending = await observe(running, [
        { send: `${post(100)}0123456789` },
        { pause: 50 },
        { end: 'reset' },
      ]);
      expect(ending.client).to.equal(undefined);
      expectOneStatus(ending);
      expect(ending.records[0]?.attributes['error.type']).to.equal('aborted');
      expect(ending.records[0]?.attributes['http.route']).to.equal('/users');
    });

    it('headers that never finish: 408, recorded though the request never reached Koa', async function () {
      this.timeout(30_000);
      const ending = await observe(running, [
        { send: 'GET /health HTTP/1.1\r\nHo' },
        { end: 'wait' },
      ]);
      expect(ending.client).to.equal(408);
      expectOneStatus(ending);
      expect(ending.records[0]?.attributes).to.include({
        'http.request.method': '_OTHER',
        'error.type': 'timeout',
      });
    });

    it('headers over Node’s size limit: 431 everywhere', async () => {
      const ending = await observe(running, [
        { send: `GET /health HTTP/1.1\r\nHost: api\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n` },
        { end: 'wait' },
      ]);
      expect(ending.client).to.equal(431);
      expectOneStatus(ending);
    });

    it('an unparseable request: 400 everywhere, and its X-Request-Id names the record', async () => {
      const socketText = await (async () => {
        capturedLogs.reset();
        return rawExchange(running.port, [{ send: 'NOT A REQUEST\r\n\r\n' }, { end: 'wait' }]);
      })();
      await settled(running.server);
      expect(clientStatus(socketText)).to.equal(400);
      const id = /X-Request-Id: (\S+)/i.exec(socketText)?.[1];
      const [record] = capturedLogs.getFinishedLogRecords();
      expect(record?.attributes['request.id']).to.equal(id);
      expect(record?.attributes['http.response.status_code']).to.equal(400);
    });

    it('a request Node answers itself (HTTP/1.1 without Host): 400 everywhere', async () => {
      const ending = await observe(running, [
        { send: 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n' },
        { end: 'wait' },
      ]);
      expect(ending.client).to.equal(400);
      expectOneStatus(ending);
    });

    it('an early answer (415) whose body then stalls past the timeout: one record, one status', async function () {
      this.timeout(30_000);
      const ending = await observe(running, [
        { send: `${post(100, 'text/plain')}0123456789` },
        { end: 'wait' },
      ]);
      expect(ending.client).to.equal(415);
      expectOneStatus(ending);
    });

    it('CONNECT, which Node would close unanswered: 501 everywhere', async () => {
      const ending = await observe(running, [
        { send: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n' },
        { end: 'wait' },
      ]);
      expect(ending.client).to.equal(501);
      expectOneStatus(ending);
      expect(ending.records[0]?.attributes).to.include({
        'http.request.method': 'CONNECT',
        'url.path': 'example.com:443',
      });
    });

    it('reports a method outside the standard set as _OTHER, keeping the original on the record', async () => {
      const ending = await observe(running, [
        { send: 'PURGE /nope HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n' },
        { end: 'wait' },
      ]);
      expectOneStatus(ending);
      expect(ending.points[0]?.attributes['http.request.method']).to.equal('_OTHER');
      expect(ending.records[0]?.attributes).to.include({
        'http.request.method': '_OTHER',
        'http.request.method_original': 'PURGE',
      });
    });

    it('normal and router-refused requests keep their status', async () => {
      for (const [request, status] of [
        ['GET /health HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n', 200],
        ['GET /nope HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n', 404],
        ['DELETE /users HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n', 405],
      ] as const) {
        const ending = await observe(running, [{ send: request }, { end: 'wait' }]);
        expect(ending.client, request).to.equal(status);
        expectOneStatus(ending, request);
      }
    });
  });

  it('agrees for random methods, paths, bodies, timings and endings (raw sockets)', async function () {
    this.timeout(300_000);
    const running = await startServer(1000);
    try {
      const method = fc.constantFrom(
        'GET',
        'POST',
        'PUT',
        'DELETE',
        'PATCH',
        'HEAD',
        'OPTIONS',
        'PURGE',
        'PROPFIND',
        'MKCOL',
        'BREW',
        'CONNECT',
        'get',
      );
      const path = fc.constantFrom('/users', '/users/1', '/health', '/nope', '/products', '/%zz');
      const request = fc.record({
        method,
        path,
        host: fc.boolean(),
        contentType: fc.constantFrom('application/json', 'text/plain', undefined),
        declared: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
        body: fc.string({ maxLength: 60 }),
        extraHeader: fc.constantFrom(
          '',
          'X-Note: ok\r\n',
          'Bad Header\r\n',
          `X-Big: ${'b'.repeat(17_000)}\r\n`,
        ),
      });
      const ending = fc.constantFrom('wait' as const, 'fin' as const);
      const cut = fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined });
      const pauses = fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 3 });
      const garbage = fc.option(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }), {
        nil: undefined,
      });
      await fc.assert(
        fc.asyncProperty(
          request,
          cut,
          ending,
          pauses,
          garbage,
          async (shape, cutAt, end, waits, junk) => {
            const headers =
              `${shape.method} ${shape.path} HTTP/1.1\r\n` +
              (shape.host ? 'Host: api\r\n' : '') +
              (shape.contentType ? `Content-Type: ${shape.contentType}\r\n` : '') +
              (shape.declared !== undefined ? `Content-Length: ${shape.declared}\r\n` : '') +
              shape.extraHeader +
              'Connection: close\r\n\r\n';
            let text = junk ?? headers + shape.body.slice(0, shape.declared ?? 0);
            // A request cut short: only its first bytes are sent, in pieces with pauses.
            if (cutAt !== undefined) text = text.slice(0, cutAt);
            if (text.length === 0) text = 'G';
            const steps: Step[] = [];
            const pieces = waits.length;
            const size = Math.ceil(text.length / pieces);
            waits.forEach((pause, index) => {
              steps.push({ send: text.slice(index * size, (index + 1) * size) }, { pause });
            });
            steps.push(end === 'fin' ? { end: 'fin' } : { end: 'wait' });
            const observed = await observe(running, steps);
            expectOneStatus(observed, JSON.stringify(text.slice(0, 120)));
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await running.close();
    }
  });

  it('gives a recorded span the status of the record, not the one Koa never sent', async function () {
    this.timeout(30_000);
    const api = await startComponent('api', endpoints(createContext()), {
      output: 'pipe',
      env: {
        REQUEST_TIMEOUT_MS: '1000',
        OTEL_LOGS_EXPORTER: 'none',
        // Spans recorded and printed on stdout.
        OTEL_TRACES_EXPORTER: 'console',
      },
    });
    let stdout = '';
    api.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      const received = await rawExchange(Number(new URL(api.url).port), [
        { send: `${post(100)}0123456789` },
        { end: 'wait' },
      ]);
      expect(clientStatus(received)).to.equal(408);
    } finally {
      await api.stop(); // flushes the span
    }
    const span = stdout.slice(stdout.indexOf("name: 'POST"));
    expect(span, stdout.slice(-3000)).to.include("'http.response.status_code': 408");
    expect(span).to.include("'error.type': 'timeout'");
  });
});
