/**
 * Methods no route takes (RFC 9110): 501 for methods the server does not implement at all,
 * 405 with `Allow` for known methods a resource does not support, never 500.
 */
import { request } from 'node:http';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import { toApiError } from '../../src/api/errors.ts';
import { startApi, type RunningApi } from '../support/api-server.ts';
import { capturedLogs } from '../support/telemetry.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** fetch() refuses TRACE and odd methods, so these go through node:http. */
function send(baseUrl: string, method: string, path: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function errorCode(response: RawResponse): string {
  expect(response.headers['content-type']).to.match(/^application\/json/);
  const parsed = JSON.parse(response.body) as { error: { code: string; message: string } };
  expect(parsed.error.message).to.be.a('string');
  return parsed.error.code;
}

const records = (type: string): ReadableLogRecord[] =>
  capturedLogs.getFinishedLogRecords().filter((record) => record.attributes['log.type'] === type);

describe('methods no route takes', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());
  beforeEach(() => capturedLogs.reset());

  for (const method of ['PURGE', 'PROPFIND', 'LINK', 'MKCOL', 'UNLINK', 'REPORT']) {
    it(`${method} is not implemented: 501 on an unknown and on a known path, no error record`, async () => {
      for (const path of ['/nope', '/users', '/health']) {
        const response = await send(api.baseUrl, method, path);
        expect(response.status, `${method} ${path}`).to.equal(501);
        expect(errorCode(response)).to.equal('not_implemented');
      }
      expect(records('error'), 'error records').to.have.length(0);
      const statuses = records('access').map((r) => r.attributes['http.response.status_code']);
      expect(statuses).to.deep.equal([501, 501, 501]);
    });
  }

  const paths: Record<string, string> = {
    '/health': 'GET, HEAD, OPTIONS',
    '/analytics': 'GET, HEAD, OPTIONS',
    '/metrics': 'GET, HEAD, OPTIONS',
    '/openapi.json': 'GET, HEAD, OPTIONS',
    '/users': 'HEAD, GET, POST, OPTIONS',
    '/products': 'HEAD, GET, POST, OPTIONS',
    '/orders': 'HEAD, GET, POST, OPTIONS',
    '/users/1': 'HEAD, GET, OPTIONS',
    '/products/0': 'HEAD, GET, OPTIONS',
    '/orders/0': 'HEAD, GET, OPTIONS',
  };

  it('TRACE, QUERY, PUT, PATCH and DELETE on every resource: 405 with the Allow header', async () => {
    for (const [path, allow] of Object.entries(paths)) {
      for (const method of ['TRACE', 'QUERY', 'PUT', 'PATCH', 'DELETE']) {
        const response = await send(api.baseUrl, method, path);
        expect(response.status, `${method} ${path}`).to.equal(405);
        expect(errorCode(response)).to.equal('method_not_allowed');
        // Same methods, whichever order the router registered them in.
        const listed = String(response.headers['allow']).split(', ').sort();
        expect(listed, `Allow for ${path}`).to.deep.equal(allow.split(', ').sort());
      }
    }
    expect(records('error')).to.have.length(0);
  });

  it('POST where only GET exists is 405 too, with the resource methods in details', async () => {
    const response = await send(api.baseUrl, 'POST', '/health');
    expect(response.status).to.equal(405);
    expect(JSON.parse(response.body).error.details.allowed).to.include.members(['GET', 'HEAD']);
  });

  it('OPTIONS on a resource answers 204 with Allow; a known method on an unknown path is 404', async () => {
    const options = await send(api.baseUrl, 'OPTIONS', '/users');
    expect(options.status).to.equal(204);
    expect(String(options.headers['allow']).split(', ').sort()).to.deep.equal(
      ['GET', 'HEAD', 'OPTIONS', 'POST'].sort(),
    );
    for (const method of ['TRACE', 'OPTIONS', 'DELETE', 'GET']) {
      const response = await send(api.baseUrl, method, '/nope');
      expect(response.status, `${method} /nope`).to.equal(404);
      expect(errorCode(response)).to.equal('not_found');
    }
  });
});

describe('toApiError for HTTP errors from Koa and the router', () => {
  const httpError = (status: number, message: string, expose?: boolean) =>
    Object.assign(new Error(message), { status, ...(expose === undefined ? {} : { expose }) });

  it('keeps the status of a 4xx and names it after its reason phrase', () => {
    expect(toApiError(httpError(405, 'Method Not Allowed'))).to.include({
      status: 405,
      code: 'method_not_allowed',
    });
    expect(toApiError(httpError(406, 'nope'))).to.include({ status: 406, code: 'not_acceptable' });
    expect(toApiError(httpError(413, 'big'))).to.include({ code: 'payload_too_large' });
    expect(toApiError(httpError(400, 'secret detail', false))).to.include({
      status: 400,
      message: 'Bad Request',
    });
  });

  it('keeps 501 and 505, which refuse the request, and turns other 5xx into 500', () => {
    expect(toApiError(httpError(501, 'Not Implemented'))).to.include({
      status: 501,
      code: 'not_implemented',
    });
    expect(toApiError(httpError(505, 'x'))).to.include({
      status: 505,
      code: 'http_version_not_supported',
    });
    expect(toApiError(httpError(503, 'db down at /srv/x'))).to.include({
      status: 500,
      code: 'internal_error',
      message: 'internal server error',
    });
  });
});
