/**
 * API overhead benchmark: the same mixed read/write workload against the API started bare (no
 * OpenTelemetry SDK) and fully instrumented (SDK, Prometheus exporter, log records exported over
 * OTLP/HTTP to a local sink), alternating over several rounds; then a longer instrumented run
 * sampling RSS. Results go to bench/results/api.json and bench/results/api.md.
 *
 *   npm run bench:api                      # 3 rounds x 15 s each, then a 300 s RSS run
 *   npm run bench:api -- --rounds 1 --seconds 5 --soak 30
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  createContext,
  endpoints,
  startComponent,
  type ComponentProcess,
} from '../../stack/index.ts';
import { REPO_ROOT as ROOT } from '../../stack/config.ts';
import { invokedCommand, median } from '../report.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '20' },
    soak: { type: 'string', default: '300' },
    // Extra KEY=VALUE settings for the instrumented variant, to find what the overhead is made
    // of (e.g. --env OTEL_LOGS_EXPORTER=none).
    env: { type: 'string', multiple: true, default: [] },
    // Rewrites api.md from the figures in api.json without running anything.
    'report-only': { type: 'boolean', default: false },
  },
});
const INSTRUMENTED_ENV = Object.fromEntries(
  args.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const SOAK_SECONDS = Number(args.soak);

type Variant = 'bare' | 'instrumented';

interface RoundResult {
  variant: Variant;
  round: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** Accepts OTLP/HTTP exports and discards them, so the instrumented API pays the real cost. */
async function startOtlpSink(): Promise<{ server: Server; url: string; records: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, records: () => requests };
}

function startApi(variant: Variant, otlpUrl: string): Promise<ComponentProcess> {
  return startComponent('api', endpoints(createContext()), {
    withoutTelemetry: variant === 'bare',
    env: {
      // A store that fills up during warm-up, so RSS over the long run measures the process and
      // its telemetry, not the demo data growing towards its cap (100 000 records a collection).
      STORE_CAPACITY: '20000',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_LOGS_EXPORTER: 'otlp',
      ...(variant === 'instrumented' ? INSTRUMENTED_ENV : {}),
    },
  });
}

async function seed(url: string): Promise<void> {
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  for (let index = 1; index <= 100; index += 1) {
    await post('/users', { username: `seed_${index}`, email: `seed${index}@example.com` });
    await post('/products', { name: `Product ${index}`, price: 9.99, stock: 1_000_000_000 });
  }
}

let sequence = 0;
const json = { 'content-type': 'application/json' };

/** 70 % reads, 30 % writes, over routes with ids (so the route template matters). */
const WORKLOAD: autocannon.Request[] = [
  { method: 'GET', path: '/products?limit=20' },
  { method: 'GET', setupRequest: (req) => ({ ...req, path: `/users/${1 + (sequence++ % 100)}` }) },
  {
    method: 'GET',
    setupRequest: (req) => ({ ...req, path: `/products/${1 + (sequence++ % 100)}` }),
  },
  {
    method: 'POST',
    path: '/orders',
    headers: json,
    setupRequest: (req) => ({
      ...req,
      body: JSON.stringify({
        userId: 1 + (sequence % 100),
        items: [{ productId: 1 + (sequence++ % 100), quantity: 1 }],
      }),
    }),
  },
  { method: 'GET', setupRequest: (req) => ({ ...req, path: `/orders/${1 + (sequence++ % 50)}` }) },
  { method: 'GET', path: '/users?limit=10&offset=20' },
  {
    method: 'POST',
    path: '/users',
    headers: json,
    setupRequest: (req) => {
      sequence += 1;
      return {
        ...req,
        body: JSON.stringify({ username: `bench_${sequence}`, email: `b${sequence}@example.com` }),
      };
    },
  },
  { method: 'GET', path: '/health' },
  {
    method: 'POST',
    path: '/products',
    headers: json,
    body: JSON.stringify({ name: 'Bench product', price: 4.5, stock: 10 }),
  },
  { method: 'GET', path: '/nope/does-not-exist' },
];

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds, requests: WORKLOAD });
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function main(): Promise<void> {
  const sink = await startOtlpSink();
  const results: RoundResult[] = [];
  const started = Date.now();
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const variant of round % 2
      ? (['bare', 'instrumented'] as const)
      : (['instrumented', 'bare'] as const)) {
      const api = await startApi(variant, sink.url);
      try {
        await seed(api.url);
        await load(api.url, 3); // warm-up: JIT, connection pools
        const result = await load(api.url, SECONDS);
        results.push({
          variant,
          round,
          requestsPerSecond: result.requests.average,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
        });
        const elapsed = Math.round((Date.now() - started) / 1000);
        console.log(
          `[${elapsed}s] round ${round}/${ROUNDS} ${variant.padEnd(12)} ` +
            `${result.requests.average.toFixed(0)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms`,
        );
      } finally {
        await api.stop();
      }
    }
  }

  const summary = (variant: Variant) => {
    const rounds = results.filter((result) => result.variant === variant);
    return {
      requestsPerSecond: median(rounds.map((result) => result.requestsPerSecond)),
      p50Ms: median(rounds.map((result) => result.p50Ms)),
      p99Ms: median(rounds.map((result) => result.p99Ms)),
    };
  };
  const bare = summary('bare');
  const instrumented = summary('instrumented');
  const ratio = instrumented.requestsPerSecond / bare.requestsPerSecond;
  console.log(`instrumented/bare throughput ratio (medians): ${ratio.toFixed(3)}`);

  let rss: RssSample[] = [];
  let rssGrowth: number | undefined;
  if (SOAK_SECONDS > 0) {
    const api = await startApi('instrumented', sink.url);
    try {
      await seed(api.url);
      await load(api.url, 30); // warm-up before the first sample
      const pid = api.child.pid ?? 0;
      const soakStarted = Date.now();
      const sampler = setInterval(() => {
        const seconds = Math.round((Date.now() - soakStarted) / 1000);
        const rssMiB = Math.round(rssKiB(pid) / 1024);
        rss.push({ seconds, rssMiB });
        console.log(`[soak ${seconds}/${SOAK_SECONDS}s] RSS ${rssMiB} MiB`);
      }, 10_000);
      rss = [{ seconds: 0, rssMiB: Math.round(rssKiB(pid) / 1024) }];
      await load(api.url, SOAK_SECONDS);
      clearInterval(sampler);
      rss.push({ seconds: SOAK_SECONDS, rssMiB: Math.round(rssKiB(pid) / 1024) });
    } finally {
      await api.stop();
    }
    rssGrowth = rssWindows(rss).growth;
  }
  sink.server.close();

  const report = {
    date: new Date().toISOString(),
    command: invokedCommand('bench:api'),
    node: process.version,
    settings: {
      rounds: ROUNDS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      soakSeconds: SOAK_SECONDS,
      instrumentedEnv: INSTRUMENTED_ENV,
    },
    rounds: results,
    bare,
    instrumented,
    ratio,
    otlpExportRequests: sink.records(),
    rss,
    rssGrowth,
  };
  writeFileSync(join(ROOT, 'bench/results/api.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeReport(report);
}

type RssSample = { seconds: number; rssMiB: number };

/**
 * RSS moves in steps between garbage collections, so growth compares the median of the first
 * minute under load with the median of the last minute, not two single samples.
 */
function rssWindows(rss: RssSample[]) {
  const end = rss.at(-1)?.seconds ?? 0;
  const early = median(rss.filter((sample) => sample.seconds <= 60).map((sample) => sample.rssMiB));
  const late = median(
    rss.filter((sample) => sample.seconds >= end - 60).map((sample) => sample.rssMiB),
  );
  return { early, late, growth: early > 0 ? (late - early) / early : undefined };
}

interface ApiReport {
  date: string;
  settings: { rounds: number; seconds: number; connections: number; soakSeconds: number };
  command?: string;
  bare: { requestsPerSecond: number; p50Ms: number; p99Ms: number };
  instrumented: { requestsPerSecond: number; p50Ms: number; p99Ms: number };
  ratio: number;
  rss: RssSample[];
  node: string;
}

function writeReport(report: ApiReport): void {
  const { bare, instrumented, ratio, rss, settings } = report;
  const windows = rssWindows(rss);
  const percent = (value: number | undefined) =>
    value === undefined ? 'n/a' : `${(value * 100).toFixed(1)} %`;
  const lines = [
    `| variant | req/s (median) | p50 ms | p99 ms |`,
    `| --- | ---: | ---: | ---: |`,
    `| bare Koa | ${bare.requestsPerSecond.toFixed(0)} | ${bare.p50Ms} | ${bare.p99Ms} |`,
    `| instrumented | ${instrumented.requestsPerSecond.toFixed(0)} | ${instrumented.p50Ms} | ${instrumented.p99Ms} |`,
    '',
    `Instrumented/bare throughput ratio: **${ratio.toFixed(3)}**. ` +
      `RSS of the instrumented API over ${settings.soakSeconds} s at full load after warm-up ` +
      `(median of the first minute -> median of the last): ${windows.early} -> ${windows.late} MiB ` +
      `(${percent(windows.growth)}).`,
    `${settings.rounds} alternating rounds of ${settings.seconds} s, ${settings.connections} connections, ` +
      `${report.node}, ${report.date.slice(0, 10)}.`,
    `\`${report.command ?? 'npm run bench:api'}\`; the load generator (autocannon) shares the two ` +
      'cores with the API.',
    '',
  ];
  writeFileSync(join(ROOT, 'bench/results/api.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

if (args['report-only']) {
  const file = join(ROOT, 'bench/results/api.json');
  const report = JSON.parse(readFileSync(file, 'utf8')) as ApiReport & { rssGrowth?: number };
  // Derived figures follow the current method.
  report.rssGrowth = rssWindows(report.rss).growth;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeReport(report);
} else {
  await main();
}
