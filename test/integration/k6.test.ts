// Every script in loadtest/ run with real k6 against the real API (its own process, with the
// OpenTelemetry SDK), shortened through the scripts' own variables to a few seconds each. A run
// passes only if k6 exits 0, no check and no request failed, and every threshold was computed
// from at least one sample: a threshold over no data passes vacuously (p95 = 0 s), which is the
// defect these tests exist to catch.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startApi, type RunningProcess } from './pipeline-support.ts';
import { REPO_ROOT, runK6, sampleCount, stopK6Runs } from './k6-support.ts';
import type { K6Run } from './k6-support.ts';
import { ROUTES } from './k6-support.ts';

/** Each script's own variables, shortening it to a few seconds. */
const SHORT_RUNS: Record<string, Record<string, string>> = {
  'smoke.ts': { DURATION: '3s' },
  'average-load.ts': { VUS: '3', RAMP: '1s', HOLD: '3s' },
  'spike.ts': {
    BASE_VISITS_PER_S: '2',
    PEAK_VISITS_PER_S: '10',
    CALM: '1s',
    RAMP: '1s',
    HOLD: '2s',
  },
  'soak.ts': { VISITS_PER_S: '5', DURATION: '4s' },
};

function failedThresholds(run: K6Run): string[] {
  return Object.entries(run.metrics).flatMap(([name, metric]) =>
    Object.entries(metric.thresholds ?? {})
      .filter(([, failed]) => failed)
      .map(([expression]) => `${name}: ${expression}`),
  );
}

function explain(run: K6Run): string {
  return `k6 exited ${run.code}; output:\n${run.output.slice(-6000)}`;
}

describe('k6: every load test script, run against the real API', function () {
  this.timeout(180_000);
  let api: RunningProcess | undefined;

  before(async () => {
    api = await startApi('collector', { OTEL_LOGS_EXPORTER: 'none' });
  });

  after(async () => {
    stopK6Runs();
    await api?.stop();
  });

  it('has a short run below for every script in loadtest/', () => {
    const scripts = readdirSync(path.join(REPO_ROOT, 'loadtest')).filter(
      (file) => file.endsWith('.ts') && file !== 'lib.ts',
    );
    expect(scripts).to.have.members(Object.keys(SHORT_RUNS));
  });

  for (const [script, env] of Object.entries(SHORT_RUNS)) {
    it(`${script} passes, with every threshold computed from real samples`, async () => {
      const run = await runK6(script, { ...env, BASE_URL: api?.url ?? '' });
      expect(run.code, explain(run)).to.equal(0);
      expect(failedThresholds(run), explain(run)).to.deep.equal([]);

      const { checks, http_req_failed: failed, iterations } = run.metrics;
      expect(checks?.fails, 'failed checks').to.equal(0);
      expect(checks?.passes, 'passed checks').to.be.greaterThan(0);
      // A rate metric's "passes" are its true values: here, the failed requests.
      expect(failed?.passes, 'failed requests').to.equal(0);
      expect(sampleCount(iterations), 'iterations').to.be.greaterThan(0);

      const withThresholds = Object.entries(run.metrics).filter(([, m]) => m.thresholds);
      expect(withThresholds.length).to.be.greaterThan(ROUTES.length * 2);
      for (const [name, metric] of withThresholds) {
        // A count of bad events passes on zero by design; what it guards is that iterations ran.
        const samples =
          name === 'dropped_iterations' ? sampleCount(iterations) : sampleCount(metric);
        expect(samples, `${name} was evaluated over no sample`).to.be.greaterThan(0);
      }
      for (const route of ROUTES) {
        const requests = run.metrics[`http_reqs{name:${route},phase:visit}`];
        expect(requests?.thresholds, `${route}: minimum request count`).to.have.key('count>=1');
        expect(sampleCount(requests), `${route} requested during the visits`).to.be.at.least(1);
        expect(
          run.metrics[`http_req_duration{name:${route},phase:visit}`]?.thresholds,
          `${route}: latency threshold`,
        ).to.be.an('object');
      }
      if (script === 'spike.ts' || script === 'soak.ts') {
        expect(run.metrics.dropped_iterations?.thresholds).to.have.key('count==0');
      }
    });
  }

  it('the thresholds of lib.ts fail a run that leaves routes without a request (exit 99)', async () => {
    // A script with the shared thresholds whose visits request one route only: the p95 of the
    // others is 0 s, which alone would pass; their minimum request counts fail the run.
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-partial-'));
    try {
      const script = path.join(dir, 'partial.ts');
      writeFileSync(
        script,
        [
          "import http from 'k6/http';",
          `import { thresholds } from ${JSON.stringify(path.join(REPO_ROOT, 'loadtest', 'lib.ts'))};`,
          'export const options = {',
          '  iterations: 3,',
          '  thresholds: thresholds({ p95Ms: 200, maxErrorRate: 0.01 }),',
          '};',
          'export default function () {',
          "  http.get(`${__ENV.BASE_URL}/products`, { tags: { name: 'GET /products', phase: 'visit' } });",
          '}',
          '',
        ].join('\n'),
      );
      const run = await runK6(script, { BASE_URL: api?.url ?? '' });
      expect(run.code, explain(run)).to.equal(99);
      const failed = failedThresholds(run);
      expect(failed).to.include('http_reqs{name:GET /analytics,phase:visit}: count>=1');
      expect(failed).to.include('http_reqs{name:POST /users,phase:visit}: count>=1');
      expect(failed.some((name) => name.includes('GET /products,'))).to.equal(false);
      expect(failed).to.have.lengthOf(ROUTES.length - 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('spike.ts refuses the old PEAK_RPS variable, which counted visits, not requests', async () => {
    const run = await runK6('spike.ts', { PEAK_RPS: '50', BASE_URL: api?.url ?? '' });
    expect(run.code, explain(run)).to.not.equal(0);
    expect(run.output).to.include('PEAK_RPS was renamed PEAK_VISITS_PER_S');
  });
});

describe('k6: the thresholds fail a run against an API that cannot keep up', function () {
  this.timeout(180_000);
  let api: RunningProcess | undefined;

  before(async () => {
    // 20 requests/s per client; the spike's peak asks for about 30 visits/s x 5.5 requests.
    api = await startApi('collector', { OTEL_LOGS_EXPORTER: 'none', RATE_LIMIT_PER_SECOND: '20' });
  });

  after(async () => {
    stopK6Runs();
    await api?.stop();
  });

  it('spike.ts exits 99 (thresholds crossed) once the API answers 429', async () => {
    const run = await runK6('spike.ts', {
      BASE_URL: api?.url ?? '',
      BASE_VISITS_PER_S: '2',
      PEAK_VISITS_PER_S: '30',
      CALM: '1s',
      RAMP: '1s',
      HOLD: '10s',
    });
    expect(run.code, explain(run)).to.equal(99);
    expect(run.metrics.http_req_failed?.thresholds, explain(run)).to.deep.equal({
      'rate<0.05': true,
    });
    expect(run.metrics.http_req_failed?.passes, 'failed requests').to.be.greaterThan(0);
  });
});
