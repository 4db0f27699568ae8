import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { LokiClient, PushAborted } from '../../src/consumer/loki-client.ts';

/** A scripted push endpoint: answers each request with the next status in the list. */
async function scriptedEndpoint(
  statuses: number[],
): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = statuses[Math.min(hits, statuses.length - 1)] ?? 204;
      hits += 1;
      res.writeHead(status).end(status >= 400 ? 'entry too far behind' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/push`, hits: () => hits };
}

const stream = [{ labels: { log_type: 'app' }, entries: [{ timestampNs: 1n, line: '{}' }] }];
const client = (
  pushUrl: string,
  extra: Partial<ConstructorParameters<typeof LokiClient>[0]> = {},
) =>
  new LokiClient({
    pushUrl,
    tenant: 'team-a',
    format: 'protobuf',
    timeoutMs: 2000,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });

describe('LokiClient', () => {
  it('retries 429 and 5xx until the push is accepted', async () => {
    const endpoint = await scriptedEndpoint([503, 429, 500, 204]);
    const retries: string[] = [];
    const result = await client(endpoint.url, {
      onRetry: (_, cause) => void retries.push(cause),
    }).push(stream);
    endpoint.server.close();
    expect(result).to.deep.equal({ ok: true, attempts: 4 });
    expect(retries).to.deep.equal(['HTTP 503', 'HTTP 429', 'HTTP 500']);
  });

  it('returns a 400 rejection without retrying', async () => {
    const endpoint = await scriptedEndpoint([400]);
    const result = await client(endpoint.url).push(stream);
    endpoint.server.close();
    expect(result).to.deep.equal({ ok: false, status: 400, reason: 'entry too far behind' });
    expect(endpoint.hits()).to.equal(1);
  });

  it('keeps retrying an unreachable store and gives up only when stopping', async () => {
    const stop = new AbortController();
    let attempts = 0;
    const pushing = client('http://127.0.0.1:9/push', {
      stopSignal: stop.signal,
      onRetry: (attempt) => {
        attempts = attempt;
        if (attempt === 5) stop.abort();
      },
    }).push(stream);
    let failure: unknown;
    await pushing.catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(PushAborted);
    expect(attempts).to.equal(5);
  });
});
