import { request } from 'node:http';
import { once } from 'node:events';
import { expect } from 'chai';
import { createContext, endpoints, startComponent } from '../../stack/index.ts';

describe('graceful shutdown', () => {
  it('finishes in-flight requests after SIGTERM and exits 0', async function () {
    this.timeout(30_000);
    const api = await startComponent('api', endpoints(createContext()), {
      env: { OTEL_LOGS_EXPORTER: 'none' },
    });
    const { child } = api;
    const port = Number(new URL(api.url).port);
    const exited = once(child, 'exit');

    // An upload that is still arriving when the signal comes.
    const body = JSON.stringify({ username: 'late_user', email: 'late@example.com' });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/users',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += String(chunk)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      req.on('socket', (socket) =>
        socket.on('connect', () => {
          // Give the server the headers, then signal, then finish the body.
          setTimeout(() => {
            child.kill('SIGTERM');
            setTimeout(() => req.end(body.slice(10)), 300);
          }, 200);
        }),
      );
    });

    const result = await response;
    expect(result.status).to.equal(201);
    expect(JSON.parse(result.text)).to.include({ username: 'late_user' });
    const [code] = await exited;
    expect(code).to.equal(0);
  });
});
