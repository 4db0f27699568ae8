// Every PromQL expression of the dashboards, correlations and trace-to-metrics links, run
// against the real Prometheus over the metrics of a real API, a real log consumer and the
// native Collector.
// A renamed metric or label anywhere in the stack makes the matching query come back empty,
// which is exactly what a dashboard panel would show ("No data"), and fails here.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { addScrapeTarget, ComponentGroup, removeScrapeTarget } from '../../stack/index.ts';
import { PROMQL_QUERIES, substituteVariables } from '../../grafana/src/queries.ts';
import { ctx, endpoint, kafka, poll, uniqueToken } from './support.ts';

interface QueryResponse {
  status: string;
  data: { result: { metric: Record<string, string> }[] };
}

async function instantQuery(expr: string): Promise<QueryResponse['data']['result']> {
  const response = await fetch(`${endpoint.prometheus}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  const body = (await response.json()) as QueryResponse;
  if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

describe('grafana: dashboard and correlation queries against the real Prometheus', function () {
  const token = uniqueToken('itgrafana');
  const apiJob = `${token}-api`;
  const consumerJob = `${token}-consumer`;
  const canaryJob = `${token}-canary`;
  const dlqTopic = `${token}-dlq`;
  /** Access log lines of requests carrying this user agent are refused by the fake Loki. */
  const poisonAgent = `poison-${token}`;
  const processes = new ComponentGroup();
  let loki: http.Server | undefined;
  let pushes = 0;
  let variables: Record<string, string>;
  let deadline = 0;

  before(async function () {
    this.timeout(90_000);
    const admin = kafka('it-grafana-admin').admin();
    await admin.connect();
    // A broker that has just started may briefly answer metadata requests with
    // UNKNOWN_TOPIC_OR_PARTITION; retry until the topic exists.
    await poll(
      async () => {
        await admin.createTopics({
          topics: [{ topic: dlqTopic, numPartitions: 1 }],
          waitForLeaders: true,
        });
        return (await admin.listTopics()).includes(dlqTopic) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    await admin.disconnect();

    // A stand-in for Loki that exercises the consumer's failure paths: the first push fails
    // transiently (a retry), and anything containing the poison token is refused for good
    // (first the batch, then the one record, which is dead-lettered).
    loki = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        pushes += 1;
        const body = Buffer.concat(chunks).toString('utf8');
        if (pushes === 1) response.writeHead(503).end('warming up');
        else if (body.includes(poisonAgent)) response.writeHead(400).end('refused by the test');
        else response.writeHead(204).end();
      });
    });
    loki.listen(0, '127.0.0.1');
    await once(loki, 'listening');
    const lokiPort = (loki.address() as AddressInfo).port;

    const api = await processes.start('api', endpoint, {
      env: { FAULT_ROUTES: 'true', OTEL_BLRP_SCHEDULE_DELAY: '200' },
    });
    const consumer = await processes.start('consumer', endpoint, {
      env: {
        LOKI_PUSH_URL: `http://127.0.0.1:${lokiPort}/loki/api/v1/push`,
        LOKI_PUSH_FORMAT: 'json',
        CONSUMER_GROUP: `${token}-group`,
        DLQ_TOPIC: dlqTopic,
        RETRY_INITIAL_DELAY_MS: '50',
        TOPIC_REFRESH_MS: '1000',
      },
    });
    // The canary's records go to the real VictoriaLogs through a consumer of their own, where
    // the canary reads them back.
    await processes.start('consumer', endpoint, {
      env: { CONSUMER_GROUP: `${token}-canary-group`, TOPIC_PATTERN: '^api-logs-canary$' },
    });
    const canary = await processes.start('canary', endpoint, {
      env: { CANARY_INTERVAL_MS: '200' },
    });
    const port = (url: string) => new URL(url).port;
    addScrapeTarget(`${token}-canary`, `127.0.0.1:${port(canary.url)}`, { job: canaryJob }, ctx);
    addScrapeTarget(`${token}-api`, `127.0.0.1:${port(api.url)}`, { job: apiJob }, ctx);
    addScrapeTarget(
      `${token}-consumer`,
      `127.0.0.1:${port(consumer.url)}`,
      { job: consumerJob },
      ctx,
    );

    // Real traffic: 2xx, 4xx (unknown id, invalid body, unknown path) and 5xx, plus an order.
    const base = api.url;
    const post = (url: string, body: unknown, agent = 'it-grafana') =>
      fetch(`${base}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': agent },
        body: JSON.stringify(body),
      });
    const user = (await (
      await post('/users', { username: `u${token}`.slice(0, 32), email: 'a@example.com' })
    ).json()) as { id: number };
    const product = (await (
      await post('/products', { name: 'widget', price: 2.5, stock: 100 })
    ).json()) as { id: number };
    expect(
      (await post('/orders', { userId: user.id, items: [{ productId: product.id, quantity: 1 }] }))
        .status,
    ).to.equal(201);
    for (let i = 0; i < 5; i += 1) {
      await fetch(`${base}/users/${user.id}`).then((r) => r.body?.cancel());
      await fetch(`${base}/products?limit=5`).then((r) => r.body?.cancel());
      await fetch(`${base}/users/999999999`).then((r) => r.body?.cancel());
      await fetch(`${base}/faults/error`).then((r) => r.body?.cancel());
      await fetch(`${base}/no/such/path`).then((r) => r.body?.cancel());
      await post('/users', { username: 'x' }).then((r) => r.body?.cancel());
    }
    const poisoned = await fetch(`${base}/health`, { headers: { 'user-agent': poisonAgent } });
    await poisoned.body?.cancel();

    variables = {
      job: apiJob,
      api: apiJob,
      consumer: consumerJob,
      canary: canaryJob,
      collector: 'otel-collector',
      route: '.*',
      __rate_interval: '1m',
      http_route: '/faults/error',
      http_response_status_code: '500',
      // What Grafana puts for `$__tags` in a trace-to-metrics query: the span's http.route.
      __tags: 'http_route="/faults/error"',
    };
    // One budget for all queries: the first ones wait for scrapes, the rest are then instant.
    deadline = Date.now() + 150_000;
  });

  after(async () => {
    removeScrapeTarget(`${token}-api`, ctx);
    removeScrapeTarget(`${token}-consumer`, ctx);
    removeScrapeTarget(`${token}-canary`, ctx);
    await processes.stopAll();
    loki?.close();
    const admin = kafka('it-grafana-admin').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [dlqTopic] }).catch(() => undefined);
    await admin.deleteGroups([`${token}-group`, `${token}-canary-group`]).catch(() => undefined);
    await admin.disconnect();
  });

  // The k6 row's queries need a k6 run's remote-written series: k6-prometheus.test.ts runs them.
  for (const query of PROMQL_QUERIES.filter((q) => !q.id.startsWith('k6.'))) {
    it(`${query.id} returns series`, async function () {
      this.timeout(180_000);
      const expr = substituteVariables(query.expr, variables);
      const result = await poll(
        async () => {
          const series = await instantQuery(expr);
          return series.length > 0 ? series : undefined;
        },
        { timeoutMs: Math.max(5_000, deadline - Date.now()), intervalMs: 1_000 },
      ).catch((error: unknown) => {
        throw new Error(`${expr}\nreturned no series: ${String(error)}`);
      });
      expect(result.length).to.be.greaterThan(0);
    });
  }
});
