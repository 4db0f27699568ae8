import { expect } from 'chai';
import type { Context } from 'koa';
import { rateLimit } from '../../src/api/middleware/rate-limit.ts';
import { ApiError } from '../../src/api/errors.ts';

function fakeContext(ip: string) {
  const headers: Record<string, string> = {};
  return {
    request: { ip },
    set: (name: string, value: string) => (headers[name] = value),
    headers,
  } as unknown as Context & {
    headers: Record<string, string>;
  };
}

describe('rateLimit', () => {
  it('limits each client separately and resets every window', async () => {
    let time = 0;
    const limiter = rateLimit({ limit: 2, windowMs: 1000, now: () => time });
    const run = async (ip: string) => {
      try {
        await limiter(fakeContext(ip), async () => undefined);
        return 'ok';
      } catch (error) {
        return error instanceof ApiError ? error.status : 'other';
      }
    };
    expect([await run('a'), await run('a'), await run('a'), await run('b')]).to.deep.equal([
      'ok',
      'ok',
      429,
      'ok',
    ]);
    time = 1500;
    expect(await run('a')).to.equal('ok');
  });

  it('keeps a bounded table: unknown clients beyond the cap share one bucket', async () => {
    const limiter = rateLimit({ limit: 1, windowMs: 1000, maxClients: 2, now: () => 0 });
    const statuses: (string | number)[] = [];
    for (const ip of ['a', 'b', 'c', 'd']) {
      try {
        await limiter(fakeContext(ip), async () => undefined);
        statuses.push('ok');
      } catch (error) {
        statuses.push((error as ApiError).status);
      }
    }
    expect(statuses).to.deep.equal(['ok', 'ok', 'ok', 429]);
  });
});
