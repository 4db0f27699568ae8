/**
 * Log pipeline benchmark, everything co-located on this machine with the native services.
 *
 * 1. End to end: a sustained rate sweep through the API (OTLP -> Collector -> Kafka -> consumer
 *    -> log store), with every component at its default settings. For each rate: records
 *    landed, loss (requests answered minus distinct request ids found in the store), the API's
 *    CPU per request, and emit-to-queryable latency as a budget hop by hop, from probes sent
 *    four times a second (latency.ts).
 * 2. Consumer alone: a topic pre-filled with `--records` records is drained into the store,
 *    with the consumer's defaults; records/s (from its first acknowledged push, and with its
 *    start), CPU per record of the consumer, the store and Kafka, next to two ceilings: kcat
 *    reading the same topic, and the store taking the same records as pre-encoded pushes with
 *    no Kafka and no decoding. Drained with PARTITIONS_IN_PARALLEL=1 (the default) and 3,
 *    `--consumer-rounds` times each; with `--consumer-instances 1,2,3`, by that many instances
 *    of one group (the topic has one partition per instance at most, so 3 bounds the useful
 *    count), one partition at a time each. On a cluster (KAFKA_BROKERS_COUNT=3) the topic is
 *    replicated like the project's.
 *
 *   npm run bench:pipeline                                 # 250..5000/s, 30 s each, 1M records
 *   npm run bench:pipeline -- --rates 5000 --seconds 300   # the 5-minute sustained run
 *   npm run bench:pipeline -- --skip-e2e --cpu-prof        # consumer profiles, .cache/profiles
 *   KAFKA_BROKERS_COUNT=3 npm run bench:pipeline -- --consumer-instances 1,2,3
 *   npm run bench:pipeline -- --render bench/results/pipeline.json   # Markdown again
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import {
  createContext,
  endpoints,
  poll,
  quietKafkajsTimerWarning,
  withServices,
} from '../../stack/index.ts';
import {
  decodeExportLogsServiceRequest,
  encodeExportLogsServiceRequest,
  type LogRecordToEncode,
} from '../../src/shared/otlp-logs.ts';
import { encodeLokiProtobuf, LOKI_PROTOBUF_CONTENT_TYPE } from '../../src/shared/loki-push.ts';
import { readConsumerConfig } from '../../src/consumer/config.ts';
import { mapResourceLogs } from '../../src/consumer/mapping.ts';
import { toStreams } from '../../src/consumer/shipper.ts';
import { cpuSecondsOf, ProcessMeter } from '../../experiments/process-stats.ts';
import {
  scrapeMetric,
  startComponent,
  type ComponentEnv,
  type ComponentProcess,
} from '../../stack/index.ts';
import { REPO_ROOT as ROOT } from '../../stack/config.ts';
import { runningPid } from '../../stack/lifecycle.ts';
import {
  distinctRequestIds,
  driveTaggedLoad,
  landedOf,
  queryLogs,
} from '../../stack/request-ids.ts';
import { HOPS, LatencyProbes, type Hop } from './latency.ts';
import {
  RECORDS_PER_MESSAGE,
  renderMarkdown,
  type CeilingResult,
  type ConsumerResult,
  type PipelineReport,
  type SweepResult,
} from './results.ts';
import { describeMachine, invokedCommand, machineLine } from '../report.ts';
import { replicationOf, waitForTopicLeaders } from '../../stack/kafka.ts';

quietKafkajsTimerWarning();
const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '250,1000,2500,5000' },
    seconds: { type: 'string', default: '30' },
    records: { type: 'string', default: '1000000' },
    'skip-e2e': { type: 'boolean', default: false },
    'skip-consumer': { type: 'boolean', default: false },
    // Without kcat's raw read of each pre-filled topic (the consumer's ceiling on the Kafka side).
    'skip-kcat': { type: 'boolean', default: false },
    // Where the JSON and Markdown results go (the committed ones are in bench/results).
    out: { type: 'string', default: 'bench/results' },
    // Renders a results JSON as Markdown again (beside it, same name), measuring nothing.
    render: { type: 'string' },
    'consumer-rounds': { type: 'string', default: '2' },
    'consumer-instances': { type: 'string', default: '' },
    // Writes a V8 CPU profile of each consumer under .cache/profiles (open in Chrome DevTools).
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const RATES = args.rates.split(',').map(Number);
const SECONDS = Number(args.seconds);
const PREFILL_RECORDS = Number(args.records);
const PROBE_INTERVAL_MS = 250;

const ctx = createContext((line) => console.log(`[services] ${line}`));
const endpoint = endpoints(ctx);
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const PROFILES_DIR = join(ROOT, '.cache/profiles');

/**
 * A consumer with the default settings, except where `env` says (topics, group). With
 * `--cpu-prof` its profile goes to `.cache/profiles/<profile>`, written when it stops.
 */
function startConsumer(
  profile: string,
  env: ComponentEnv<'consumer'> = {},
): Promise<ComponentProcess> {
  const dir = join(PROFILES_DIR, profile);
  if (args['cpu-prof']) log(`CPU profile of this consumer: ${dir}`);
  return startComponent('consumer', endpoint, {
    env: { TOPIC_REFRESH_MS: '1000', ...env },
    ...(args['cpu-prof'] && { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] }),
  });
}

/** How many logs the LogsQL `query` selects. */
async function logsCount(query: string): Promise<number> {
  const [row] = await queryLogs(endpoint, `${query} | stats count() n`);
  return Number(row?.['n'] ?? 0);
}

/** The consumer's defaults: what a drain without overrides uses. */
const CONSUMER_DEFAULTS = readConsumerConfig({});

/** The records of pre-filled message `index`: access records with unique request ids. */
function benchRecords(prefix: string, index: number, now: bigint): LogRecordToEncode[] {
  return Array.from({ length: RECORDS_PER_MESSAGE }, (_, offset) => ({
    timeUnixNano: now + BigInt(index * RECORDS_PER_MESSAGE + offset),
    severityNumber: 9,
    severityText: 'INFO',
    body: 'GET /users/:id 200',
    attributes: {
      'log.type': 'access',
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'http.response.status_code': 200,
      'request.id': `${prefix}-${index}-${offset}`,
    },
  }));
}

/** CPU seconds of the processes a drain keeps busy, sampled from /proc while it runs. */
class DrainMeters {
  readonly #meters: Map<string, ProcessMeter>;
  readonly #timer: NodeJS.Timeout;
  constructor(pids: Record<string, () => number | undefined>) {
    this.#meters = new Map(
      Object.entries(pids).map(([name, pidOf]) => [name, new ProcessMeter(pidOf)]),
    );
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 1000);
  }
  #sample(): void {
    for (const meter of this.#meters.values()) meter.sample();
  }
  /** Stops sampling; CPU seconds per name. */
  stop(): Record<string, number> {
    clearInterval(this.#timer);
    this.#sample();
    return Object.fromEntries(
      [...this.#meters].map(([name, meter]) => [name, Number(meter.usage().cpuSeconds.toFixed(2))]),
    );
  }
}

const servicePid = (name: 'victorialogs' | 'kafka') => () => runningPid(ctx, name);

async function sweep(): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  const consumer = await startConsumer('sweep');
  const api = await startComponent('api', endpoint, {
    env: { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=bench' },
  });
  try {
    for (const rate of RATES) {
      const token = `bench${rate}x${Date.now().toString(36)}`;
      const probes = new LatencyProbes(endpoint, `${token}p`, api.url, CONSUMER_DEFAULTS.groupId);
      await probes.start();
      let probing = true;
      let unsent = 0;
      // Four probes of each kind a second, for the whole load.
      const probing$ = (async () => {
        while (probing) {
          // A probe that cannot be sent (a component stopping) is missing from the budget,
          // never the end of the run.
          await probes.send().catch((error: unknown) => {
            if (unsent++ === 0) log(`a probe could not be sent (reported once): ${String(error)}`);
          });
          await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
        }
      })();
      log(
        `e2e ${rate}/s for ${SECONDS}s (rate ${RATES.indexOf(rate) + 1} of ${RATES.length}, ` +
          `about ${(RATES.length - RATES.indexOf(rate)) * (SECONDS + 5)} s of sweep left) ...`,
      );
      const apiPid = api.child.pid ?? 0;
      const apiCpuBefore = cpuSecondsOf(apiPid) ?? 0;
      const load = await driveTaggedLoad(api.url, `${token}-`, SECONDS, rate);
      const apiCpuMicros = ((cpuSecondsOf(apiPid) ?? 0) - apiCpuBefore) * 1e6;
      probing = false;
      await probing$;
      const answered = load.answered.size;
      const drainStarted = performance.now();
      try {
        await poll(
          async () =>
            (await distinctRequestIds(endpoint, `${token}-`)) >= answered ? true : undefined,
          { timeoutMs: 180_000, intervalMs: 1000 },
        );
      } catch {
        // Reported as loss below.
      }
      const { lost, found, duplicates } = await landedOf(endpoint, `${token}-`, load.answered);
      await probes.settle(60_000);
      await probes.stop();
      const hops = probes.summary();
      const drainSeconds = (performance.now() - drainStarted) / 1000;
      const entry: SweepResult = {
        rate,
        seconds: SECONDS,
        requestsAnswered: answered,
        achievedRequestsPerSecond: answered / SECONDS,
        landed: found,
        landedPerSecond: found / (SECONDS + drainSeconds),
        lost,
        duplicates,
        drainSeconds,
        latencyP50Ms: hops.requestToQueryable.p50Ms,
        latencyP99Ms: hops.requestToQueryable.p99Ms,
        probes: probes.apiProbes.sent,
        probesNeverQueryable: probes.apiProbes.missing,
        hops,
        apiCpuMicrosPerRequest: apiCpuMicros / Math.max(1, answered),
      };
      results.push(entry);
      log(
        `e2e ${rate}/s: answered ${answered} (${entry.achievedRequestsPerSecond.toFixed(0)}/s), request ids landed ${found}, ` +
          `lost ${entry.lost}, drain ${drainSeconds.toFixed(1)} s, emit-to-queryable p50 ${entry.latencyP50Ms.toFixed(0)} ms ` +
          `p99 ${entry.latencyP99Ms.toFixed(0)} ms (${entry.probes} probes)`,
      );
      for (const [hop, stats] of Object.entries(hops)) {
        log(
          `  ${HOPS[hop as Hop]}: p50 ${stats.p50Ms.toFixed(0)} ms, p99 ${stats.p99Ms.toFixed(0)} ms (${stats.count})`,
        );
      }
    }
  } finally {
    await api.stop();
    await consumer.stop();
  }
  return results;
}

function ensureKcat(): boolean {
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    log('installing kcat (Debian package) for the raw read ceiling ...');
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', 'kcat'], { stdio: 'inherit' });
      return true;
    } catch {
      log('kcat unavailable; the raw read ceiling is skipped');
      return false;
    }
  }
}

async function consumerAlone(partitionsInParallel: number, instances = 1): Promise<ConsumerResult> {
  const topic = `api-logs-bench${Date.now().toString(36)}`;
  const kafka = new kafkajs.Kafka({
    clientId: 'bench',
    brokers: endpoint.kafkaBrokers,
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: 3,
        replicationFactor: replicationOf(ctx.config).factor,
        configEntries: [
          { name: 'min.insync.replicas', value: String(replicationOf(ctx.config).minInsync) },
        ],
      },
    ],
    waitForLeaders: false,
  });
  await waitForTopicLeaders(admin, [topic]);
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  const messages = Math.ceil(PREFILL_RECORDS / RECORDS_PER_MESSAGE);
  const now = BigInt(Date.now()) * 1_000_000n;
  log(`pre-filling ${topic} with ${messages * RECORDS_PER_MESSAGE} records ...`);
  const prefillStarted = performance.now();
  for (let sent = 0; sent < messages;) {
    const batch = [];
    for (let index = 0; index < 200 && sent < messages; index += 1, sent += 1) {
      const records = benchRecords(topic, sent, now);
      batch.push({
        value: Buffer.from(encodeExportLogsServiceRequest({ 'service.name': 'bench' }, records)),
      });
    }
    await producer.send({ topic, messages: batch, compression: kafkajs.CompressionTypes.GZIP });
    if (sent % 2000 === 0)
      log(
        `  ${sent * RECORDS_PER_MESSAGE} records (${((performance.now() - prefillStarted) / 1000).toFixed(0)} s)`,
      );
  }
  await producer.disconnect();
  await admin.disconnect();
  const records = messages * RECORDS_PER_MESSAGE;

  let kcatSeconds: number | undefined;
  if (!args['skip-kcat'] && ensureKcat()) {
    const started = performance.now();
    execFileSync(
      'kcat',
      [
        '-C',
        '-b',
        endpoint.kafkaBrokers.join(','),
        '-t',
        topic,
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%o\n',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        maxBuffer: 1024 * 1024 * 1024,
      },
    );
    kcatSeconds = (performance.now() - started) / 1000;
    log(`kcat read ${messages} messages (${records} records) in ${kcatSeconds.toFixed(1)} s`);
  }

  log(
    `draining with ${instances} consumer instance(s), PARTITIONS_IN_PARALLEL=${partitionsInParallel} ...`,
  );
  // Started one after another, timed from the first: the drain includes the group's
  // rebalances as the others join, as it would when instances are added under load.
  const consumers: ComponentProcess[] = [];
  const started = performance.now();
  for (let instance = 0; instance < instances; instance++) {
    consumers.push(
      await startConsumer(
        `${topic}-partitions-in-parallel-${partitionsInParallel}-instance-${instance + 1}`,
        {
          PARTITIONS_IN_PARALLEL: String(partitionsInParallel),
          CONSUMER_GROUP: `bench-${topic}`,
          TOPIC_PATTERN: `^${topic}$`,
        },
      ),
    );
  }
  // From the moment the consumers listen: their start-up (loading modules) is not shipping.
  const meters = new DrainMeters({
    consumer: () => consumers[0]?.child.pid,
    victorialogs: servicePid('victorialogs'),
    kafka: servicePid('kafka'),
  });
  // Polled often enough to time the first acknowledged push: the drain's rate is taken from
  // there, apart from the start (process, Kafka connection, group join).
  let pushed = 0;
  let first: { at: number; pushed: number } | undefined;
  let lastProgress = performance.now();
  await poll(
    async () => {
      pushed = 0;
      for (const consumer of consumers) {
        pushed += await scrapeMetric(consumer.url, 'log_consumer_records_pushed_total');
      }
      const now = performance.now();
      if (!first && pushed > 0) first = { at: now, pushed };
      if (now - lastProgress >= 2000 && first && pushed < records) {
        lastProgress = now;
        const rate = ((pushed - first.pushed) * 1000) / Math.max(1, now - first.at);
        log(
          `  ${pushed} of ${records} records pushed (${rate.toFixed(0)}/s, about ` +
            `${rate > 0 ? ((records - pushed) / rate).toFixed(0) : '?'} s left)`,
        );
      }
      return pushed >= records ? true : undefined;
    },
    { timeoutMs: 3_600_000, intervalMs: 100, abort: () => undefined },
  );
  const finished = performance.now();
  const consumerSeconds = (finished - started) / 1000;
  const startSeconds = ((first?.at ?? finished) - started) / 1000;
  const steadyRecordsPerSecond =
    first && finished > first.at ? ((records - first.pushed) * 1000) / (finished - first.at) : NaN;
  const cpuSeconds = meters.stop();
  for (const consumer of consumers) await consumer.stop();
  // The store makes fresh data queryable after a short delay.
  let landedInStore = 0;
  await poll(
    async () => {
      landedInStore = await logsCount(`request_id:~"^${topic}-"`);
      return landedInStore >= records ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  ).catch(() => undefined);
  log(
    `consumer drained ${records} records in ${consumerSeconds.toFixed(1)} s; ${landedInStore} found in the store`,
  );
  // The topic matches the pipeline consumer's pattern: left behind, its records would be shipped
  // again by the next consumer of the default group (the demo, the soak, the tests).
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  return {
    partitionsInParallel,
    instances,
    kafkaNodes: ctx.config.kafkaBrokers,
    records,
    consumerSeconds,
    consumerRecordsPerSecond: records / consumerSeconds,
    startSeconds,
    steadyRecordsPerSecond,
    landedInStore,
    kcatSeconds,
    kcatRecordsPerSecond: kcatSeconds ? records / kcatSeconds : undefined,
    cpuSeconds,
  };
}

/**
 * The store's own ingest ceiling: the records a drain ships, mapped and encoded by the
 * consumer's code beforehand (same lines, labels, metadata and push size), then replayed at the
 * store's push endpoint with no Kafka and no decoding in the way.
 */
async function storeCeiling(inFlight: number): Promise<CeilingResult> {
  const prefix = `ceiling${Date.now().toString(36)}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const messages = Math.ceil(PREFILL_RECORDS / RECORDS_PER_MESSAGE);
  log(`encoding ${messages * RECORDS_PER_MESSAGE} records into push bodies ...`);
  const bodies: Uint8Array[] = [];
  let pending: ReturnType<typeof mapResourceLogs> = [];
  for (let index = 0; index < messages; index += 1) {
    const message = encodeExportLogsServiceRequest(
      { 'service.name': 'bench' },
      benchRecords(prefix, index, now),
    );
    pending.push(
      ...mapResourceLogs(decodeExportLogsServiceRequest(message), 'access', now, index % 3),
    );
    if (pending.length >= CONSUMER_DEFAULTS.batch.maxEntries || index === messages - 1) {
      bodies.push(encodeLokiProtobuf(toStreams(pending)));
      pending = [];
    }
  }
  log(`replaying ${bodies.length} pushes at the store, ${inFlight} in flight ...`);
  const meters = new DrainMeters({ victorialogs: servicePid('victorialogs') });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const response = await fetch(endpoint.lokiPush, {
          method: 'POST',
          headers: { 'content-type': LOKI_PROTOBUF_CONTENT_TYPE },
          body,
        });
        if (!response.ok) throw new Error(`store refused a push: ${await response.text()}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = meters.stop();
  const records = messages * RECORDS_PER_MESSAGE;
  log(`store took ${records} records in ${seconds.toFixed(1)} s (${inFlight} in flight)`);
  return {
    records,
    pushes: bodies.length,
    inFlight,
    seconds,
    recordsPerSecond: records / seconds,
    cpuSeconds,
  };
}

async function main(): Promise<void> {
  const machine = describeMachine();
  log(`machine: ${machineLine(machine)}`);
  const e2e = args['skip-e2e'] ? [] : await sweep();
  // The default (one partition at a time) and every partition of the topic at once, alternated:
  // the store is still merging the previous drain's data when the next one starts.
  const consumer: ConsumerResult[] = [];
  const ceiling: CeilingResult[] = [];
  if (!args['skip-consumer']) {
    for (let round = 0; round < Number(args['consumer-rounds']); round += 1) {
      if (args['consumer-instances']) {
        for (const instances of args['consumer-instances'].split(',').map(Number)) {
          consumer.push(await consumerAlone(1, instances));
        }
      } else {
        // Each drain is followed by the same records replayed at the store as pre-encoded
        // pushes, as many in flight as the drain had partitions in flight.
        for (const partitionsInParallel of [1, 3]) {
          consumer.push(await consumerAlone(partitionsInParallel));
          ceiling.push(await storeCeiling(partitionsInParallel));
        }
      }
    }
  }
  const report: PipelineReport = {
    date: new Date().toISOString(),
    command: invokedCommand('bench:pipeline'),
    node: process.version,
    machine,
    kafkaNodes: ctx.config.kafkaBrokers,
    e2e,
    consumer,
    ceiling,
  };
  // A scaling run (--consumer-instances) has results of its own, beside the default run's.
  const name = args['consumer-instances'] ? 'pipeline-scaling' : 'pipeline';
  const out = resolve(ROOT, args.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report, CONSUMER_DEFAULTS.batch.maxEntries);
  writeFileSync(join(out, `${name}.md`), markdown);
  console.log(markdown);
}

if (args.render) {
  const file = resolve(args.render);
  const markdown = renderMarkdown(
    JSON.parse(readFileSync(file, 'utf8')) as PipelineReport,
    CONSUMER_DEFAULTS.batch.maxEntries,
  );
  writeFileSync(file.replace(/\.json$/, '.md'), markdown);
  console.log(markdown);
} else {
  await withServices(ctx, main);
}
