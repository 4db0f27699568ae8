import { request } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
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

  it('records a request cut off by the shutdown grace as aborted, and flushes it before exit', async function () {
    this.timeout(30_000);
    const api = await startComponent('api', endpoints(createContext()), {
      output: 'pipe',
      env: {
        // Records printed on stdout, so the test sees what the process flushed before exiting.
        OTEL_LOGS_EXPORTER: 'console',
        SHUTDOWN_GRACE_MS: '0',
      },
    });
    const { child } = api;
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = once(child, 'exit');

    // An upload that never completes: the grace of 0 ms closes its connection at once.
    const socket = connect(Number(new URL(api.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await once(socket, 'connect');
    socket.write(
      'POST /users HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\nX-Request-Id: cut-by-shutdown\r\n\r\n{"user',
    );
    // Once the API has the request, its id is in flight; then the signal.
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGTERM');
    await once(socket, 'close');
    const [code] = await exited;

    expect(code).to.equal(0);
    expect(received, 'the client received no status').to.equal('');
    const record = stdout.slice(stdout.indexOf("'request.id': 'cut-by-shutdown'") - 800);
    expect(stdout).to.include("'request.id': 'cut-by-shutdown'");
    expect(record).to.include("'error.type': 'aborted'");
    expect(record.slice(0, 1600)).to.not.include("'http.response.status_code'");
  });
});
