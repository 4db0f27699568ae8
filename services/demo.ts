/**
 * The native demo (`npm run demo`): the backing services, the API, the log consumer and the load
 * generator, all on this machine without Docker. Prints where to look and stops everything it
 * started on Ctrl-C (or after `--duration` seconds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './config.ts';
import {
  createContext,
  endpoints,
  httpOk,
  poll,
  serviceStatus,
  startServices,
  stopServices,
} from './index.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '0' },
    rate: { type: 'string', default: '10' },
  },
});
const durationSeconds = Number(values.duration);
const ctx = createContext();
const endpoint = endpoints(ctx);
const API_PORT = Number(process.env['PORT'] ?? 8000);
const CONSUMER_PORT = Number(process.env['METRICS_PORT'] ?? 9469);
const logDir = join(ctx.config.runDir, 'demo');
mkdirSync(logDir, { recursive: true });

const children: { name: string; child: ChildProcess }[] = [];

function launch(
  name: string,
  args: string[],
  env: Record<string, string>,
  inheritOutput = false,
): void {
  const logFile = join(logDir, `${name}.log`);
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', inheritOutput ? 'inherit' : 'pipe', inheritOutput ? 'inherit' : 'pipe'],
  });
  if (!inheritOutput) {
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  child.once('exit', (code, signal) => {
    if (!stopping)
      console.error(`${name} exited unexpectedly (${signal ?? code}); its log: ${logFile}`);
  });
  children.push({ name, child });
}

let stopping = false;
let servicesStartedHere = false;

async function stopAll(exitCode: number): Promise<never> {
  if (stopping) process.exit(exitCode);
  stopping = true;
  console.log('\nstopping the demo...');
  // Load first, so the API and consumer can flush what the last requests produced.
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (servicesStartedHere) await stopServices(ctx);
  else
    console.log(
      'the services were running before the demo; they are left up (npm run services:down)',
    );
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function main(): Promise<void> {
  const before = await serviceStatus(ctx);
  servicesStartedHere = !before.every((service) => service.healthy);
  if (servicesStartedHere) await startServices(ctx);

  launch('api', ['--import', './src/telemetry/register.ts', 'src/api/main.ts'], {
    PORT: String(API_PORT),
    HOST: '127.0.0.1',
    FAULT_ROUTES: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint.otlpHttp,
    OTEL_RESOURCE_ATTRIBUTES:
      process.env['OTEL_RESOURCE_ATTRIBUTES'] ?? 'deployment.environment.name=demo',
  });
  launch('consumer', ['src/consumer/main.ts'], {
    KAFKA_BROKERS: endpoint.kafkaBrokers.join(','),
    LOKI_PUSH_URL: endpoint.lokiPush,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(CONSUMER_PORT),
    TOPIC_REFRESH_MS: '5000',
  });
  const apiUrl = `http://127.0.0.1:${API_PORT}`;
  await poll(async () => ((await httpOk(`${apiUrl}/health`)) ? true : undefined), {
    timeoutMs: 60_000,
  });
  await poll(
    async () => ((await httpOk(`http://127.0.0.1:${CONSUMER_PORT}/health`)) ? true : undefined),
    {
      timeoutMs: 90_000,
    },
  );

  console.log(
    [
      '',
      'the demo is running:',
      `  API              ${apiUrl}   (docs: ${apiUrl}/docs, metrics: ${apiUrl}/metrics)`,
      `  Prometheus       ${endpoint.prometheus}   (try: sum by (http_route) (rate(http_server_request_duration_count[1m])))`,
      `  log store (UI)   ${endpoint.victoriaLogs}/select/vmui   (try: {log_type="access"})`,
      `  consumer         http://127.0.0.1:${CONSUMER_PORT}/metrics`,
      `  logs             ${logDir}/{api,consumer}.log and ${ctx.config.runDir}/<service>/`,
      durationSeconds ? `stopping after ${durationSeconds} s` : 'Ctrl-C stops everything',
      '',
    ].join('\n'),
  );

  launch(
    'loadgen',
    [
      'src/loadgen/main.ts',
      '--target',
      apiUrl,
      '--rate',
      String(values.rate),
      '--bad-share',
      '0.05',
    ],
    {},
    true,
  );
  if (durationSeconds > 0) {
    await new Promise((resolve) => setTimeout(resolve, durationSeconds * 1000));
    await stopAll(0);
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});
