// A short k6 run with k6's Prometheus remote-write output into the real (native) Prometheus,
// next to the real API scraped by the same Prometheus: k6's series arrive, tagged with the run's
// testid and the routes, and every query of the dashboard's k6 row returns series, as a panel
// would show them.
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { K6_TREND_STATS } from '../../stack/loadtest.ts';
import { addScrapeTarget, removeScrapeTarget } from '../../stack/index.ts';
import { K6, substituteVariables } from '../../grafana/src/queries.ts';
import { REPO_ROOT, ROUTES, runK6, stopK6Runs } from './k6-support.ts';
import type { K6Run } from './k6-support.ts';
import { startApi, type RunningProcess } from './pipeline-support.ts';
import { ctx, endpoint, poll, uniqueToken } from './support.ts';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Evaluates `expr` now, or at `atMs` (epoch milliseconds). */
async function instantQuery(expr: string, atMs?: number): Promise<Sample[]> {
  const form = new URLSearchParams({ query: expr });
  if (atMs !== undefined) form.set('time', String(atMs / 1000));
  const response = await fetch(`${endpoint.prometheus}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
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
  /** When the k6 run ended, epoch ms. */
  let runEnd = 0;

  before(async function () {
    this.timeout(120_000);
    api = await startApi('collector', { OTEL_LOGS_EXPORTER: 'none' });
    addScrapeTarget(apiJob, new URL(api.url).host, { job: apiJob }, ctx);
    // The API's side of the row needs scrapes during the run, not only after it.
    await poll(
      async () => {
        const [up] = await instantQuery(`up{job="${apiJob}"}`);
        return up?.value[1] === '1' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
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
    runEnd = Date.now();
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
    expect(byRoute.map((sample) => sample.metric.name)).to.include.members(ROUTES);
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
          // NaN (0/0) is what a panel shows as a gap: wait for a real number. Evaluated just
          // after the run, so the rate window covers it however long the tests before took.
          const series = await instantQuery(expr, runEnd + 2_000);
          return series.some((sample) => Number.isFinite(Number(sample.value[1])))
            ? series
            : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1_000 },
      ).catch((error: unknown) => {
        throw new Error(`${expr}\nreturned no finite value: ${String(error)}`);
      });
      const value = Number(result[0]?.value[1]);
      // No request failed in the run: the failure rows read 0; every other one measured traffic.
      if (query.id.includes('failure')) expect(value).to.equal(0);
      else expect(value).to.be.greaterThan(0);
    });
  }
});

describe('k6: npm run loadtest (stack/loadtest.ts)', function () {
  this.timeout(180_000);
  const testid = uniqueToken('itlaunch');
  let api: RunningProcess | undefined;

  /** `node stack/loadtest.ts <args>` as `npm run loadtest -- <args>` runs it. */
  function launch(args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, ['stack/loadtest.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, K6_NO_USAGE_REPORT: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, output }));
    });
  }

  before(async () => {
    api = await startApi('collector', { OTEL_LOGS_EXPORTER: 'none' });
  });

  after(async () => {
    await api?.stop();
  });

  it('runs a script by name with k6 and sends its metrics to the native Prometheus', async () => {
    const { code, output } = await launch(['smoke', '--quiet'], {
      BASE_URL: api?.url ?? 'http://127.0.0.1:1',
      DURATION: '2s',
      TESTID: testid,
      K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s',
    });
    expect(code, output.slice(-4000)).to.equal(0);
    expect(output).to.match(/^k6 \d+\.\d+\.\d+ /m);
    expect(output).to.include(`target ${api?.url ?? ''}, testid ${testid}`);
    expect(output).to.include(`k6 metrics -> ${endpoint.prometheus}/api/v1/write`);
    const series = await poll(
      async () => {
        const result = await instantQuery(`sum(k6_iterations_total{testid="${testid}"})`);
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    expect(Number(series[0]?.value[1])).to.be.greaterThan(0);
  });

  it('refuses an unknown script, and lib.ts, with exit code 1', async () => {
    for (const name of ['no-such-script', 'lib']) {
      const { code, output } = await launch([name], {});
      expect(code).to.equal(1);
      expect(output).to.include(`no load test script "${name}" in loadtest/`);
    }
  });
});
