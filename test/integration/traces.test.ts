/**
 * The traces path through real parts: API (OTLP spans) -> Collector (traces pipeline, tail
 * sampling) -> Jaeger v2, beside the logs path API -> Collector -> Kafka -> consumer -> log store.
 * A failed request is findable in Jaeger by the trace id its caller sent, and its log records
 * carry that trace id; a fast successful one is dropped when the kept share is 0.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  EXAMPLE_VARIABLES,
  substituteVariables,
  TRACE_SEARCHES,
} from '../../grafana/src/queries.ts';
import { startService, stopService } from '../../stack/index.ts';
import { logsql, startApi, startConsumer, TrackedProcesses } from './pipeline-support.ts';
import { ctx, endpoint, poll } from './support.ts';

/** One span of Jaeger's HTTP query API (`GET /api/traces/<trace id>`, the API Grafana reads). */
interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}

/** The spans of a trace, or undefined while Jaeger answers 404 (not stored, or not yet). */
async function jaegerTrace(traceId: string): Promise<JaegerSpan[] | undefined> {
  const response = await fetch(`${endpoint.jaegerQuery}/api/traces/${traceId}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Jaeger ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { data: { spans: JaegerSpan[] }[] };
  return body.data[0]?.spans;
}

/** The one span `matches` selects; fails the test, naming `what`, when there is none. */
function spanWhere(
  spans: JaegerSpan[],
  what: string,
  matches: (span: JaegerSpan) => boolean,
): JaegerSpan {
  const span = spans.find(matches);
  if (!span) {
    throw new Error(`no ${what} among ${spans.map((s) => s.operationName).join(', ')}`);
  }
  return span;
}

/**
 * The trace ids a Grafana trace search finds, asked the way Grafana's Jaeger datasource asks:
 * GET /api/traces with the service, the logfmt tags of the query as a JSON object, and a time
 * range in microseconds.
 */
async function searchTraces(
  search: (typeof TRACE_SEARCHES)[keyof typeof TRACE_SEARCHES],
  variables: Record<string, string>,
): Promise<string[]> {
  const tags: Record<string, string> = {};
  const logfmt = substituteVariables(search.tags, { ...EXAMPLE_VARIABLES, ...variables });
  for (const [, key, quoted, bare] of logfmt.matchAll(/([\w.]+)=(?:"([^"]*)"|(\S+))/g)) {
    if (key) tags[key] = quoted ?? bare ?? '';
  }
  const now = Date.now() * 1000;
  const query = new URLSearchParams({
    service: search.service,
    tags: JSON.stringify(tags),
    start: String(now - 3_600_000_000),
    end: String(now + 60_000_000),
    limit: '20',
  });
  if (search.minDuration) {
    query.set('minDuration', substituteVariables(search.minDuration, variables));
  }
  const response = await fetch(`${endpoint.jaegerQuery}/api/traces?${query}`);
  if (!response.ok) throw new Error(`Jaeger ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { data: { traceID: string }[] | null };
  return (body.data ?? []).map((trace) => trace.traceID);
}

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((candidate) => candidate.key === key)?.value;
}

function traceparent(): { traceId: string; parentId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
}

/**
 * Restarts the Collector with `env` in its environment (the services are launched with the
 * test process' environment), so that the sampling settings under test apply.
 */
async function restartCollector(env: Record<string, string | undefined>): Promise<void> {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
  await stopService('collector', {}, ctx);
  await startService('collector', ctx);
}

describe('traces through the Collector to Jaeger', function () {
  this.timeout(240_000);
  const processes = new TrackedProcesses();
  const { track } = processes;
  const saved = {
    TRACES_KEPT_PERCENT: process.env.TRACES_KEPT_PERCENT,
    TRACES_DECISION_WAIT: process.env.TRACES_DECISION_WAIT,
  };

  // Nothing but errors and slow traces is kept; decisions come one second after a trace starts.
  before(() => restartCollector({ TRACES_KEPT_PERCENT: '0', TRACES_DECISION_WAIT: '1s' }));
  after(() => restartCollector(saved));
  afterEach(() => processes.stopAll());

  it('keeps a failed request with its spans and log records, and drops a fast successful one', async () => {
    await track(startConsumer());
    const api = await track(
      startApi('collector', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_SCHEDULE_DELAY: '200' }),
    );

    // The successful request goes first: its sampling decision is due no later than the failed
    // one's, so once the failed trace is in Jaeger the other one has been decided too.
    const fast = traceparent();
    const ok = await fetch(`${api.url}/users`, { headers: { traceparent: fast.header } });
    expect(ok.status).to.equal(200);
    const failed = traceparent();
    const fault = await fetch(`${api.url}/faults/error`, {
      headers: { traceparent: failed.header },
    });
    expect(fault.status).to.equal(500);

    const spans = await poll(() => jaegerTrace(failed.traceId), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    // The server span continues the caller's trace: its parent is the caller's span.
    const server = spanWhere(spans, 'server span, child of the traceparent span', (span) =>
      span.references.some((ref) => ref.refType === 'CHILD_OF' && ref.spanID === failed.parentId),
    );
    expect(tag(server, 'http.response.status_code')).to.equal(500);
    expect(tag(server, 'http.route')).to.equal('/faults/error');
    expect(tag(server, 'error.type')).to.equal('500');
    expect(tag(server, 'otel.status_code')).to.equal('ERROR');
    const children = spans.filter((span) =>
      span.references.some((ref) => ref.spanID === server.spanID),
    );
    expect(children.map((span) => span.operationName)).to.include('router - /faults/error');

    // The same trace id on the request's access and error records in the log store.
    const rows = await poll(
      async () => {
        const found = await logsql(`trace_id:"${failed.traceId}"`);
        const types = new Set(found.map((row) => row['log_type']));
        return types.has('access') && types.has('error') ? found : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    for (const row of rows) expect(row['trace_id']).to.equal(failed.traceId);

    expect(await jaegerTrace(fast.traceId), 'the fast successful trace').to.equal(undefined);

    // The dashboard's "failed requests" search of the route finds it; the "slow" one, above a
    // second, does not.
    expect(
      await searchTraces(TRACE_SEARCHES.failed, {
        trace_route: '/faults/error',
        trace_status: '500',
      }),
    ).to.include(failed.traceId);
    expect(
      await searchTraces(TRACE_SEARCHES.slow, {
        trace_route: '/faults/error',
        slow_duration: '1s',
      }),
    ).to.not.include(failed.traceId);
  });

  it('records one span per store operation and per order placement step', async () => {
    await track(startConsumer());
    const api = await track(
      startApi('collector', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_SCHEDULE_DELAY: '200' }),
    );
    const post = (path: string, body: unknown, header?: string) =>
      fetch(`${api.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(header ? { traceparent: header } : {}) },
        body: JSON.stringify(body),
      });
    const user = (await (
      await post('/users', { username: `trace_${Date.now()}`, email: 'shopper@example.com' })
    ).json()) as { id: number };
    const product = (await (
      await post('/products', { name: 'Lamp', price: 12.5, stock: 3 })
    ).json()) as { id: number };
    const order = traceparent();
    const placed = await post(
      '/orders',
      { userId: user.id, items: [{ productId: product.id, quantity: 2 }] },
      order.header,
    );
    expect(placed.status).to.equal(201);
    // With a kept share of 0 a successful trace is dropped; a failing request sent with the same
    // traceparent joins the trace and makes tail sampling keep all of it.
    await fetch(`${api.url}/faults/error`, { headers: { traceparent: order.header } });

    const spans = await poll(
      async () => {
        const found = await jaegerTrace(order.traceId);
        return found?.some((span) => span.operationName === 'order.record') ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const names = spans.map((span) => span.operationName);
    expect(names).to.include.members([
      'order.validate',
      'order.reserve_stock',
      'order.record',
      'get users',
      'get products',
      'insert orders',
    ]);
    const insert = spanWhere(
      spans,
      'insert orders',
      (span) => span.operationName === 'insert orders',
    );
    expect(tag(insert, 'db.system.name')).to.equal('memory');
    expect(tag(insert, 'db.collection.name')).to.equal('orders');
    expect(tag(insert, 'db.operation.name')).to.equal('insert');
    // The store span is a child of its step, which is a child of the router span.
    const record = spanWhere(
      spans,
      'order.record',
      (span) => span.operationName === 'order.record',
    );
    expect(insert.references[0]?.spanID).to.equal(record.spanID);
    const router = spans.find((span) => span.spanID === record.references[0]?.spanID);
    expect(router?.operationName).to.equal('router - /orders');
  });
});
