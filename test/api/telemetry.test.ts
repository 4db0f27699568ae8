import { randomUUID } from 'node:crypto';
import { SeverityNumber } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import { postJson, startApi, type RunningApi } from '../support/api-server.ts';
import { checkMetrics } from '../support/promtool.ts';
import { capturedLogs } from '../support/telemetry.ts';

const HISTOGRAM = 'http_server_request_duration_bucket';

function routeLabels(metricsText: string): Set<string> {
  const routes = new Set<string>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(HISTOGRAM)) continue;
    const route = /http_route="([^"]*)"/.exec(line)?.[1];
    if (route !== undefined) routes.add(route);
  }
  return routes;
}

describe('telemetry through the real SDK', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());
  beforeEach(() => capturedLogs.reset());

  // Every page the tests see must be one Prometheus accepts whole.
  const scrape = async () => {
    const page = await (await fetch(`${api.baseUrl}/metrics`)).text();
    expect(checkMetrics(page), 'promtool check metrics').to.equal('');
    return page;
  };

  describe('GET /metrics', () => {
    it('labels the request histogram with the route template, never the raw id', async () => {
      await fetch(`${api.baseUrl}/users/42`);
      const text = await scrape();
      const lines = text.split('\n').filter((line) => line.startsWith(HISTOGRAM));
      const userLines = lines.filter(
        (line) =>
          line.includes('http_route="/users/:id"') &&
          line.includes('http_request_method="GET"') &&
          line.includes('http_response_status_code="404"'),
      );
      expect(userLines, 'buckets for GET /users/:id 404').to.have.length.greaterThan(0);
      expect(text).to.not.include('http_route="/users/42"');
      expect(text).to.match(/# TYPE http_server_request_duration histogram/);
    });

    it('adds no route label values for a burst of random unknown paths', async () => {
      await fetch(`${api.baseUrl}/health`);
      const before = routeLabels(await scrape());
      for (let index = 0; index < 50; index += 1) {
        await fetch(`${api.baseUrl}/${randomUUID()}/${index}?q=${randomUUID()}`);
      }
      const after = routeLabels(await scrape());
      expect([...after].sort()).to.deep.equal([...before].sort());
    });

    it('exposes the business metrics and the SDK queue metrics', async () => {
      const user = await (
        await postJson(api.baseUrl, '/users', { username: 'm_user', email: 'm@example.com' })
      ).json();
      const product = await (
        await postJson(api.baseUrl, '/products', { name: 'M', price: 2.5, stock: 3 })
      ).json();
      await postJson(api.baseUrl, '/orders', {
        userId: user.id,
        items: [{ productId: product.id, quantity: 1 }],
      });
      const text = await scrape();
      expect(text).to.match(/^shop_orders_created_total(\{[^}]*\})? [1-9]/m);
      expect(text).to.match(/^shop_order_value_count(\{[^}]*\})? [1-9]/m);
      expect(text).to.match(/^shop_inventory_units(\{[^}]*\})? \d+/m);
      expect(text).to.match(/^shop_inventory_low_stock_products(\{[^}]*\})? \d+/m);
    });

    it('exposes its own memory: RSS, and the V8 heap apart from memory outside it', async () => {
      const text = await scrape();
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
      const rss = value(/^process_memory_usage\{[^}]*\} (\S+)$/m);
      const heapUsed = value(
        /^nodejs_memory_usage\{[^}]*nodejs_memory_type="heap_used"[^}]*\} (\S+)$/m,
      );
      const heapTotal = value(
        /^nodejs_memory_usage\{[^}]*nodejs_memory_type="heap_total"[^}]*\} (\S+)$/m,
      );
      expect(heapUsed).to.be.greaterThan(1024 * 1024);
      expect(heapTotal).to.be.at.least(heapUsed);
      expect(rss).to.be.greaterThan(heapUsed);
      expect(text).to.match(/^nodejs_memory_usage\{[^}]*nodejs_memory_type="external"/m);
    });
  });

  describe('log records', () => {
    const records = (type: string): ReadableLogRecord[] =>
      capturedLogs
        .getFinishedLogRecords()
        .filter((record) => record.attributes['log.type'] === type);

    it('writes exactly one access record per request with its attributes and trace id', async () => {
      const statuses: number[] = [];
      for (const path of ['/health', '/users/7', '/nowhere']) {
        statuses.push(
          (await fetch(`${api.baseUrl}${path}`, { headers: { 'user-agent': 'probe/1.0' } })).status,
        );
      }
      const access = records('access');
      expect(access).to.have.length(3);
      expect(access.map((record) => record.attributes['http.response.status_code'])).to.deep.equal(
        statuses,
      );
      const [health, user, unknown] = access;
      expect(health?.attributes).to.include({
        'http.request.method': 'GET',
        'http.route': '/health',
        'url.path': '/health',
        'user_agent.original': 'probe/1.0',
        'client.address': '127.0.0.1',
      });
      expect(health?.attributes['request.id']).to.be.a('string');
      expect(health?.attributes['http.server.request.duration']).to.be.a('number');
      expect(health?.severityNumber).to.equal(SeverityNumber.INFO);
      expect(user?.attributes['http.route']).to.equal('/users/:id');
      expect(user?.severityNumber).to.equal(SeverityNumber.WARN);
      expect(unknown?.attributes['http.route']).to.equal(undefined);
      for (const record of access) {
        expect(record.spanContext?.traceId).to.match(/^[0-9a-f]{32}$/);
      }
      const ids = new Set(access.map((record) => record.attributes['request.id']));
      expect(ids.size).to.equal(3);
    });

    it('writes an ERROR access record and an error record with exception attributes for a 5xx', async () => {
      const original = api.app.shop.analytics;
      api.app.shop.analytics = () => {
        throw new TypeError('analytics exploded');
      };
      try {
        expect((await fetch(`${api.baseUrl}/analytics`)).status).to.equal(500);
      } finally {
        api.app.shop.analytics = original;
      }
      const [access] = records('access');
      expect(access?.severityNumber).to.equal(SeverityNumber.ERROR);
      const errors = records('error');
      expect(errors).to.have.length(1);
      expect(errors[0]?.attributes).to.include({
        'exception.type': 'TypeError',
        'exception.message': 'analytics exploded',
        'request.id': access?.attributes['request.id'],
      });
      expect(errors[0]?.attributes['exception.stacktrace']).to.include('TypeError');
      expect(errors[0]?.spanContext?.traceId).to.equal(access?.spanContext?.traceId);
    });

    it('continues the trace of an incoming traceparent header', async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      await fetch(`${api.baseUrl}/health`, {
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      const [access] = records('access');
      expect(access?.spanContext?.traceId).to.equal(traceId);
      expect(access?.spanContext?.spanId).to.match(/^[0-9a-f]{16}$/);
      expect(access?.spanContext?.spanId).to.not.equal('00f067aa0ba902b7');
    });

    it('writes app records for created orders and low stock', async () => {
      const user = await (
        await postJson(api.baseUrl, '/users', { username: 'l_user', email: 'l@example.com' })
      ).json();
      const product = await (
        await postJson(api.baseUrl, '/products', { name: 'L', price: 1, stock: 12 })
      ).json();
      await postJson(api.baseUrl, '/orders', {
        userId: user.id,
        items: [{ productId: product.id, quantity: 5 }],
      });
      const events = records('app').map((record) => record.eventName);
      expect(events).to.deep.equal(['order.created', 'stock.low']);
    });

    it('keeps hostile user-controlled text inside single attribute values', async () => {
      // Header values cannot carry CR/LF at all; the path can, percent-encoded.
      const agent = 'evil" log.type=error level="fatal';
      await fetch(`${api.baseUrl}/users/1%0D%0Alog.type=error`, {
        headers: { 'user-agent': agent },
      });
      const [access, ...rest] = records('access');
      expect(rest).to.deep.equal([]);
      expect(access?.attributes['log.type']).to.equal('access');
      expect(access?.attributes['url.path']).to.equal('/users/1%0D%0Alog.type=error');
      expect(access?.attributes['user_agent.original']).to.equal(agent);
      expect(Object.keys(access?.attributes ?? {})).to.not.include('level');
    });
  });
});
