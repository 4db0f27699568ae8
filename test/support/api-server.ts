/** Runs the real Koa app on an ephemeral loopback port for one test file. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App } from '../../src/api/app.ts';
import { readApiConfig, type ApiConfig } from '../../src/api/config.ts';
import { createApiServer } from '../../src/api/server.ts';

export interface RunningApi {
  baseUrl: string;
  app: App;
  close(): Promise<void>;
}

export async function startApi(overrides: Partial<ApiConfig> = {}): Promise<RunningApi> {
  const config = { ...readApiConfig({}), host: '127.0.0.1', port: 0, ...overrides };
  const app = createApp(config, 'test');
  const server: Server = createApiServer(config, app.koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    app,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function postJson(baseUrl: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
