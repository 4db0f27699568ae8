import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { addScrapeTarget, removeScrapeTarget } from '../../stack/index.ts';
import { ctx, endpoint, poll, uniqueToken } from './support.ts';

interface QueryResponse {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe('Prometheus scraping a target registered at run time', () => {
  const id = uniqueToken('it-target-');
  let server: http.Server;

  before(async () => {
    server = http.createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(
        `# HELP integration_probe_value A value served by the integration test.\n` +
          `# TYPE integration_probe_value gauge\n` +
          `integration_probe_value{probe="${id}"} 42\n`,
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  after(async () => {
    removeScrapeTarget(id, ctx);
    server.close();
    await once(server, 'close');
  });

  it('finds the metric through the query API', async () => {
    const { port } = server.address() as AddressInfo;
    addScrapeTarget(id, `127.0.0.1:${port}`, { suite: 'integration' }, ctx);

    const query = encodeURIComponent(`integration_probe_value{probe="${id}"}`);
    const result = await poll(
      async () => {
        const response = await fetch(`${endpoint.prometheus}/api/v1/query?query=${query}`);
        const body = (await response.json()) as QueryResponse;
        return body.status === 'success' && body.data.result.length > 0
          ? body.data.result
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(result).to.have.length(1);
    expect(result[0]?.value[1]).to.equal('42');
    expect(result[0]?.metric).to.include({ job: 'dynamic', suite: 'integration' });
  });
});
