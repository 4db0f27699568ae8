import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import { logsql } from './pipeline-support.ts';
import { endpoint, poll } from './support.ts';

async function promQuery(query: string): Promise<{ value: [number, string] }[]> {
  const url = `${endpoint.prometheus}/api/v1/query?query=${encodeURIComponent(query)}`;
  const body = await (await fetch(url)).json();
  return body.data?.result ?? [];
}

describe('native demo (npm run demo)', function () {
  this.timeout(300_000);

  it('runs the API, consumer and load generator; metrics reach Prometheus and logs the store', async () => {
    const demo = spawn(process.execPath, ['services/demo.ts', '--duration', '30', '--rate', '20'], {
      env: { ...process.env, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=demo-test' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    demo.stdout?.on('data', (chunk) => (output += String(chunk)));
    const [code] = await once(demo, 'exit');
    expect(code, output).to.equal(0);
    expect(output).to.include('the demo is running');
    expect(output).to.match(/summary: \d+ requests/);

    const series = await poll(
      async () => {
        // The demo has stopped by now, so its series are stale for an instant query; a range
        // function still sees the samples scraped while it ran.
        const result = await promQuery(
          'sum(max_over_time(http_server_request_duration_count{job="api"}[10m]))',
        );
        return result.length > 0 && Number(result[0]?.value[1]) > 0 ? result : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(Number(series[0]?.value[1])).to.be.greaterThan(0);

    const [row] = await poll(
      async () => {
        const rows = await logsql(
          '{deployment_environment="demo-test", log_type="access"} | stats count() total',
        );
        return Number(rows[0]?.['total'] ?? 0) > 0 ? rows : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(Number(row?.['total'])).to.be.greaterThan(100);
  });
});
