import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createContext, serviceStatus } from '../../stack/index.ts';
import { logsql } from './pipeline-support.ts';
import { endpoint, isListening, ownStack, poll } from './support.ts';

async function promQuery(query: string): Promise<{ value: [number, string] }[]> {
  const url = `${endpoint.prometheus}/api/v1/query?query=${encodeURIComponent(query)}`;
  const body = await (await fetch(url)).json();
  return body.data?.result ?? [];
}

describe('native demo (npm run demo)', function () {
  this.timeout(300_000);

  it('runs the API, consumer and load generator; metrics reach Prometheus and logs the store', async () => {
    const demo = spawn(process.execPath, ['stack/demo.ts', '--duration', '30', '--rate', '20'], {
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

    // The demo runs the canary on the port Prometheus scrapes, so its alerts mean something.
    const canary = await poll(
      async () => {
        const result = await promQuery('max(max_over_time(canary_records_sent_total[10m]))');
        return Number(result[0]?.value[1] ?? 0) > 0 ? result : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(Number(canary[0]?.value[1])).to.be.greaterThan(0);

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

  for (const { when, marker, block } of [
    // `npm run demo | head -n 5`: the reader leaves while the services are still starting.
    { when: 'while its services start', marker: '==> start', block: 17_000 },
    { when: 'once it runs', marker: 'the demo is running', block: 18_000 },
  ]) {
    it(`stops everything it started when its output pipe closes ${when} (npm run demo | head)`, async () => {
      // A port block and run directory of its own (one per case, so a case never meets what the
      // one before it left in the kernel), so the demo starts (and must stop) its own
      // backing services instead of reusing the suite's.
      const runDir = mkdtempSync(join(tmpdir(), 'demo-epipe-'));
      const { env, ports } = ownStack(block, runDir);
      const demo = spawn(process.execPath, ['stack/demo.ts'], {
        env,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      try {
        let output = '';
        await new Promise<void>((resolve, reject) => {
          demo.stdout.on('data', (chunk: Buffer) => {
            output += String(chunk);
            if (output.includes(marker)) resolve();
          });
          demo.once('exit', (code) => reject(new Error(`demo exited (${code}): ${output}`)));
        });
        // The reader goes away, as `head` does after its lines: the demo's next write fails.
        demo.stdout.destroy();
        const [code] = (await once(demo, 'exit')) as [number | null];
        expect(code).to.equal(0);
        const listening: number[] = [];
        for (const port of ports) {
          if (await isListening(port)) listening.push(port);
        }
        expect(listening, 'ports still taken after the demo ended').to.deep.equal([]);
        // A service launched just before the demo exited may not listen yet: its process is
        // what must be gone.
        const alive = (await serviceStatus(createContext(() => undefined, env)))
          .filter((service) => service.alive)
          .map((service) => service.name);
        expect(alive, 'services still running after the demo ended').to.deep.equal([]);
      } finally {
        if (demo.exitCode === null) demo.kill('SIGKILL');
        rmSync(runDir, { recursive: true, force: true });
      }
    });
  }
});
