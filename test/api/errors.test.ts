import { request } from 'node:http';
import { expect } from 'chai';
import { startApi, type RunningApi } from '../support/api-server.ts';

describe('error responses', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ bodyLimitBytes: 1024 });
  });
  after(() => api.close());

  async function expectError(response: Response, status: number, code: string) {
    expect(response.status).to.equal(status);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const body = await response.json();
    expect(body.error.code).to.equal(code);
    expect(body.error.message).to.be.a('string');
    return body;
  }

  it('400 for malformed JSON', async () => {
    const response = await fetch(`${api.baseUrl}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username": ',
    });
    await expectError(response, 400, 'invalid_json');
  });

  it('415 for a body that is not JSON', async () => {
    const response = await fetch(`${api.baseUrl}/users`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'username=ada',
    });
    await expectError(response, 415, 'unsupported_media_type');
  });

  it('413 for a body over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ username: 'a'.repeat(2000), email: 'a@example.com' });
    const declared = await fetch(`${api.baseUrl}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    await expectError(declared, 413, 'payload_too_large');

    // Chunked upload: no Content-Length, so the limit must be enforced while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL('/users', api.baseUrl);
      const req = request(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(big.slice(0, 1000));
      req.end(big.slice(1000));
    });
    expect(status).to.equal(413);
  });

  it('404 for an unknown route and 405 for a wrong method', async () => {
    await expectError(await fetch(`${api.baseUrl}/nothing/here`), 404, 'not_found');
    await expectError(
      await fetch(`${api.baseUrl}/users`, { method: 'DELETE' }),
      405,
      'method_not_allowed',
    );
  });

  it('500 without a stack trace for an unexpected failure', async () => {
    const original = api.app.shop.analytics;
    api.app.shop.analytics = () => {
      throw new Error('secret internals at /srv/app.ts:12');
    };
    try {
      const body = await expectError(
        await fetch(`${api.baseUrl}/analytics`),
        500,
        'internal_error',
      );
      expect(JSON.stringify(body)).not.to.match(/secret|\.ts|at /);
    } finally {
      api.app.shop.analytics = original;
    }
  });

  it('sets security headers and echoes a safe request id', async () => {
    const response = await fetch(`${api.baseUrl}/health`, {
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(response.headers.get('x-request-id')).to.equal('abc-123');
    const forged = await fetch(`${api.baseUrl}/health`, { headers: { 'x-request-id': 'a b"c' } });
    expect(forged.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });
});

describe('fault injection route', () => {
  it('is absent by default and answers 500 when FAULT_ROUTES is on', async () => {
    const plain = await startApi();
    const faulty = await startApi({ faultRoutes: true });
    try {
      expect((await fetch(`${plain.baseUrl}/faults/error`)).status).to.equal(404);
      const response = await fetch(`${faulty.baseUrl}/faults/error`);
      expect(response.status).to.equal(500);
      expect((await response.json()).error.code).to.equal('internal_error');
    } finally {
      await Promise.all([plain.close(), faulty.close()]);
    }
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the per-client limit, in the error shape', async () => {
    const api = await startApi({ rateLimitPerSecond: 5 });
    try {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let index = 0; index < 8; index += 1) {
        const response = await fetch(`${api.baseUrl}/health`);
        statuses.push(response.status);
        if (response.status === 429) limited ??= response;
        else await response.body?.cancel();
      }
      // Eight requests may straddle a window boundary, so at least one, at most three, are refused.
      const refused = statuses.filter((status) => status === 429).length;
      expect(refused).to.be.within(1, 3);
      if (!limited) throw new Error('no request was refused');
      expect(Number(limited.headers.get('retry-after'))).to.be.at.least(1);
      expect((await limited.json()).error.code).to.equal('rate_limited');
    } finally {
      await api.close();
    }
  });
});
