// A short k6 run with k6's Prometheus remote-write output into the real (native) Prometheus,
// next to the real API scraped by the same Prometheus: k6's series arrive, tagged with the run's
// testid and the routes, and every query of the dashboard's k6 row returns series, as a panel
// would show them.
import { expect } from 'chai';
import { K6_TREND_STATS } from '../../services/loadtest.ts';
import { addScrapeTarget, removeScrapeTarget } from '../../services/index.ts';
import { K6, substituteVariables } from '../../grafana/src/queries.ts';
import { runK6, stopK6Runs } from './k6-support.ts';
import type { K6Run } from './k6-support.ts';
import { startApi, type RunningProcess } from './pipeline-support.ts';
import { ctx, endpoint, poll, uniqueToken } from './support.ts';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function instantQuery(expr: string): Promise<Sample[]> {
  const response = await fetch(`${endpoint.prometheus}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  const body = (await response.json()) as { status: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

describe('k6: results sent to the real Prometheus, beside the API', function () {
  this.timeout(180_000);
  const testid = uniqueToken('itk6');
  const apiJob = `${testid}-api`;
  let api: RunningProcess | undefined;
  let run: K6Run;

  before(async function () {
    this.timeout(120_000);
    api = await startApi('collector', { OTEL_LOGS_EXPORTER: 'none' });
    addScrapeTarget(apiJob, new URL(api.url).host, { job: apiJob }, ctx);
    run = await runK6(
      'smoke.ts',
      {
        BASE_URL: api.url,
        DURATION: '5s',
        TESTID: testid,
        K6_PROMETHEUS_RW_SERVER_URL: `${endpoint.prometheus}/api/v1/write`,
        K6_PROMETHEUS_RW_TREND_STATS: K6_TREND_STATS,
        K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s',
      },
      ['-o', 'experimental-prometheus-rw'],
    );
  });

  after(async () => {
    stopK6Runs();
    removeScrapeTarget(apiJob, ctx);
    await api?.stop();
  });

  it('k6 exits 0 and its request counter in Prometheus matches its own summary', async () => {
    expect(run.code, run.output.slice(-4000)).to.equal(0);
    const requests = run.metrics.http_reqs?.count ?? 0;
    expect(requests).to.be.greaterThan(0);
    const stored = await poll(
      async () => {
        const [sample] = await instantQuery(`sum(k6_http_reqs_total{testid="${testid}"})`);
        return sample !== undefined && Number(sample.value[1]) === requests ? requests : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    expect(stored).to.equal(requests);
  });

  it('tags the series with the testid, the route and the phase', async () => {
    const byRoute = await instantQuery(
      `sum by (name) (k6_http_reqs_total{testid="${testid}", phase="visit"})`,
    );
    expect(byRoute.map((sample) => sample.metric.name)).to.include.members([
      'GET /products',
      'GET /products/:id',
      'GET /users/:id',
      'GET /users',
      'POST /orders',
      'GET /orders/:id',
      'POST /users',
      'POST /products',
      'GET /analytics',
    ]);
    const p95 = await instantQuery(`max(k6_http_req_duration_p95{testid="${testid}"})`);
    // Seconds, not milliseconds: a local request takes well under a second.
    expect(Number(p95[0]?.value[1])).to.be.greaterThan(0).and.lessThan(1);
  });

  for (const query of Object.values(K6)) {
    it(`${query.id} (Grafana k6 row) returns series`, async () => {
      const expr = substituteVariables(query.expr, {
        testid,
        job: apiJob,
        __rate_interval: '1m',
      });
      const result = await poll(
        async () => {
          // NaN (0/0) is what a panel shows as a gap: wait for a real number.
          const series = await instantQuery(expr);
          return series.some((sample) => Number.isFinite(Number(sample.value[1])))
            ? series
            : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1_000 },
      ).catch((error: unknown) => {
        throw new Error(`${expr}\nreturned no finite value: ${String(error)}`);
      });
      expect(result.length).to.be.greaterThan(0);
    });
  }
});
