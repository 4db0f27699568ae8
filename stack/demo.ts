/**
 * The native demo (`npm run demo`): the backing services, the API, the log consumer, the pipeline
 * canary and the load generator, all on this machine without Docker. Prints where to look and
 * stops everything it started on Ctrl-C, SIGTERM, a closed output pipe (`npm run demo | head`),
 * an error, or after `--duration` seconds.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ComponentGroup } from './components.ts';
import type { ComponentProcess } from './components.ts';
import { exitOnConfigError, readInteger } from '../src/shared/env.ts';
import {
  addScrapeTarget,
  createContext,
  endpoints,
  httpOk,
  poll,
  removeScrapeTarget,
  serviceStatus,
  startServices,
  stopServices,
} from './index.ts';
import { guardOutput } from './progress.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '0' },
    rate: { type: 'string', default: '10' },
  },
});
const durationSeconds = Number(values.duration);
const ctx = createContext();
/**
 * Log consumer instances in the one consumer group (CONSUMER_INSTANCES, default 1): the group
 * spreads the topics' partitions over them, so more instances than a topic has partitions
 * leaves the extra ones idle for that topic.
 */
let consumerInstances = 1;
try {
  consumerInstances = readInteger(process.env, 'CONSUMER_INSTANCES', 1, { min: 1, max: 8 });
} catch (error) {
  exitOnConfigError(error);
}
/** Scrape targets registered for the consumer instances after the first. */
const extraTargets: string[] = [];
const endpoint = endpoints(ctx);
const portOf = (target: string) => target.split(':').at(-1) ?? '';
const logDir = join(ctx.config.runDir, 'demo');
const components = new ComponentGroup();

let stopping: Promise<never> | undefined;
let servicesStartedHere = false;
/** Aborted once the demo is stopping, so a start still in progress launches nothing more. */
const stopRequested = new AbortController();
let starting: Promise<unknown> | undefined;

/** Stops what this demo started, once, whatever asked for it, then exits with `exitCode`. */
function stopAll(exitCode: number, reason?: string): Promise<never> {
  stopping ??= (async () => {
    if (reason) console.error(reason);
    console.log('\nstopping the demo...');
    // Load first, so the API and consumer can flush what the last requests produced.
    await components.stopAll();
    for (const id of extraTargets) removeScrapeTarget(id, ctx);
    stopRequested.abort();
    // A start in progress stops what it launched itself once it sees the abort; waiting for it
    // means no service is spawned after the stop below has looked for it.
    await starting?.catch(() => undefined);
    if (servicesStartedHere) await stopServices(ctx);
    else
      console.log(
        'the services were running before the demo; they are left up (npm run services:down)',
      );
    process.exit(exitCode);
  })();
  return stopping;
}

// A closed stdout (the reader of a pipe went away) must end the demo cleanly, not crash it
// and leave the detached services behind.
guardOutput(() => void stopAll(0));
process.on('SIGINT', () => void stopAll(130));
process.on('SIGTERM', () => void stopAll(143));
process.on('uncaughtException', (error) => void stopAll(1, `demo failed: ${error.message}`));
process.on('unhandledRejection', (error) => void stopAll(1, `demo failed: ${String(error)}`));

async function main(): Promise<void> {
  const before = await serviceStatus(ctx);
  servicesStartedHere = !before.every((service) => service.healthy);
  if (servicesStartedHere) {
    starting = startServices(ctx, { signal: stopRequested.signal });
    await starting;
  }
  if (stopping) return;

  const logTo = (name: string) => ({ file: join(logDir, `${name}.log`) });
  const resource = process.env.OTEL_RESOURCE_ATTRIBUTES ?? 'deployment.environment.name=demo';
  // Each on the port the native Prometheus scrapes (stack/config.ts).
  const api = await components.start('api', endpoint, {
    output: logTo('api'),
    env: {
      PORT: portOf(ctx.config.apiMetricsTarget),
      FAULT_ROUTES: 'true',
      OTEL_RESOURCE_ATTRIBUTES: resource,
      // Spans go to the Collector's traces pipeline, then to Jaeger; `none` turns them off.
      OTEL_TRACES_EXPORTER: process.env.OTEL_TRACES_EXPORTER ?? 'otlp',
    },
  });
  // The first instance on the port Prometheus scrapes; the others on free ports, each added
  // to the same job, so that every instance's share shows in log_consumer_assigned_partitions.
  const consumers: ComponentProcess[] = [];
  for (let instance = 1; instance <= consumerInstances; instance++) {
    const label = instance === 1 ? 'consumer' : `consumer-${instance}`;
    const started = await components.start('consumer', endpoint, {
      output: logTo(label),
      env: {
        METRICS_PORT: instance === 1 ? portOf(ctx.config.consumerMetricsTarget) : '0',
        TOPIC_REFRESH_MS: '5000',
      },
    });
    if (instance > 1) {
      const id = `demo-${label}`;
      addScrapeTarget(id, new URL(started.url).host, { job: 'log-consumer' }, ctx);
      extraTargets.push(id);
    }
    consumers.push(started);
  }
  const consumer = consumers[0];
  if (!consumer) throw new Error('no consumer started');
  const canary = await components.start('canary', endpoint, {
    output: logTo('canary'),
    env: {
      METRICS_PORT: portOf(ctx.config.canaryMetricsTarget),
      OTEL_RESOURCE_ATTRIBUTES: resource,
    },
  });
  for (const component of [api, ...consumers, canary]) {
    component.exited.then(
      (code) =>
        void stopAll(1, `${component.name} exited unexpectedly (${code}); its log: ${logDir}`),
    );
  }
  await poll(async () => ((await httpOk(`${consumer.url}/health`)) ? true : undefined), {
    timeoutMs: 90_000,
  });

  console.log(
    [
      '',
      'the demo is running:',
      `  API              ${api.url}   (docs: ${api.url}/docs, metrics: ${api.url}/metrics)`,
      `  Prometheus       ${endpoint.prometheus}   (try: sum by (http_route) (rate(http_server_request_duration_count[1m])))`,
      `  log store (UI)   ${endpoint.victoriaLogs}/select/vmui   (try: {log_type="access"})`,
      `  traces (Jaeger)  ${endpoint.jaegerQuery}/api/traces?service=shop-api&tags={"error":"true"}   (the query API; the web UI is in the compose image)`,
      ...consumers.map(
        (instance, index) =>
          `  consumer${index === 0 ? '        ' : `-${index + 1}      `} ${instance.url}/metrics`,
      ),
      `  canary           ${canary.url}/metrics   (records sent, missing, end-to-end latency)`,
      `  logs             ${logDir}/{api,consumer,canary}.log and ${ctx.config.runDir}/<service>/`,
      durationSeconds ? `stopping after ${durationSeconds} s` : 'Ctrl-C stops everything',
      '',
    ].join('\n'),
  );

  await components.start('loadgen', endpoint, {
    output: 'inherit',
    args: ['--target', api.url, '--rate', String(values.rate), '--bad-share', '0.05'],
  });
  if (durationSeconds > 0) {
    await new Promise((resolve) => setTimeout(resolve, durationSeconds * 1000));
    await stopAll(0);
  }
}

main().catch((error: unknown) =>
  stopAll(1, `demo failed: ${error instanceof Error ? error.message : String(error)}`),
);
