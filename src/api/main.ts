/**
 * Starts the API. Run with telemetry: `node --import ./src/api/telemetry/register.ts src/api/main.ts`
 * (or `npm start` on the built files).
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitOnConfigError } from '../shared/env.ts';
import { activeTelemetry } from './telemetry/sdk.ts';
import { allRequestsRecorded } from './telemetry/server-requests.ts';
import { SERVICE } from './telemetry/service.ts';
import { createApp } from './app.ts';
import { readApiConfig, type ApiConfig } from './config.ts';
import { createApiServer } from './server.ts';

let config: ApiConfig;
try {
  config = readApiConfig(process.env);
} catch (error) {
  exitOnConfigError(error);
}

const { koa } = createApp(config, SERVICE.version);
const server = createApiServer(config, koa.callback());

server.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo;
  console.log(
    JSON.stringify({ msg: 'listening', host: config.host, port, version: SERVICE.version }),
  );
});

let stopping = false;

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ msg: 'shutting down', signal }));
  // Stop accepting; idle keep-alive sockets are closed now, busy ones after their response.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
  await closed;
  clearTimeout(grace);
  // The records of requests cut off above are written as their connections finish closing,
  // which is after the server's own 'close'; flushing before them would lose them.
  await Promise.race([allRequestsRecorded(), sleep(1000, undefined, { ref: false })]);
  await activeTelemetry()?.shutdown(5000);
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
