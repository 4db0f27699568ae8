/**
 * API overhead benchmark: the same mixed read/write workload against the API started bare (no
 * OpenTelemetry SDK), observed the common non-OpenTelemetry way (the peer row: prom-client
 * histogram + pino access line, bench/api/peer-instrumentation.ts) and fully instrumented (SDK,
 * Prometheus exporter, log records exported over OTLP/HTTP to a local sink), alternating over
 * several rounds; then a longer instrumented run sampling RSS. With --breakdown, the
 * instrumented API is also measured at each step of TELEMETRY_BENCH_STEP (context propagation
 * only, + http instrumentation, + koa instrumentation, + request histogram, + access records
 * created, + exported over OTLP), so each piece's cost per request can be read off.
 *
 * Per variant: requests/s, the wall time per request it implies at saturation (1/req/s, the
 * figure the 10 µs goal is stated in) and the CPU the API process itself used per
 * request (/proc), which the load generator sharing the cores does not blur as much.
 * Results go to bench/results/api.json and bench/results/api.md, or to the folder `--out` names.
 *
 *   npm run bench:api                      # 3 rounds x 15 s each, then a 300 s RSS run
 *   npm run bench:api -- --breakdown --rounds 1 --seconds 5 --soak 0
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  createContext,
  endpoints,
  startComponent,
  type ComponentProcess,
} from '../../stack/index.ts';
import { REPO_ROOT as ROOT } from '../../stack/config.ts';
import { cpuSecondsOf, statusBytes } from '../../experiments/process-stats.ts';
import {
  describeMachine,
  invokedCommand,
  machineLine,
  median,
  Progress,
  type Machine,
} from '../report.ts';

/** Resident set of a process, MiB (0 once it is gone). */
const rssMiBOf = (pid: number): number => Math.round((statusBytes(pid, 'VmRSS') ?? 0) / 2 ** 20);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '20' },
    soak: { type: 'string', default: '300' },
    // Each step of the telemetry measured on its own (TELEMETRY_BENCH_STEP), in the same rounds.
    breakdown: { type: 'boolean', default: false },
    // Extra KEY=VALUE settings for the instrumented variants, to find what the overhead is made
    // of (e.g. --env OTEL_LOGS_EXPORTER=none).
    env: { type: 'string', multiple: true, default: [] },
    // Rewrites api.md from the figures in api.json without running anything.
    'report-only': { type: 'boolean', default: false },
    // Where api.json and api.md go (the committed results by default).
    out: { type: 'string', default: 'bench/results' },
  },
});
const OUT = resolve(ROOT, args.out);
const INSTRUMENTED_ENV = Object.fromEntries(
  args.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const SOAK_SECONDS = Number(args.soak);
const WARM_UP_SECONDS = 3;

/** The breakdown's steps, each adding one piece to the one before (TELEMETRY_BENCH_STEP). */
const STEPS = [
  {
    variant: 'context',
    adds: 'context propagation only (SDK, context manager, no instrumentation)',
  },
  { variant: 'http', adds: '+ http instrumentation (a non-recording span per request)' },
  { variant: 'koa', adds: '+ koa instrumentation (router layer, http.route)' },
  {
    variant: 'histogram',
    adds: '+ metrics: request histogram, business, runtime and SDK metrics',
  },
  { variant: 'records', adds: '+ access (and app) log records created, then dropped' },
  { variant: 'instrumented', adds: '+ records batched and exported over OTLP/HTTP (full)' },
] as const;

type Variant = 'bare' | 'peer' | (typeof STEPS)[number]['variant'];

const VARIANTS: Variant[] = args.breakdown
  ? ['bare', 'peer', ...STEPS.map((step) => step.variant)]
  : ['bare', 'peer', 'instrumented'];

const LABELS: Record<Variant, string> = {
  bare: 'bare Koa (no SDK)',
  peer: 'peer: prom-client + pino',
  context: 'step: context',
  http: 'step: + http',
  koa: 'step: + koa',
  histogram: 'step: + histogram',
  records: 'step: + records',
  instrumented: 'instrumented (full)',
};

interface RoundResult {
  variant: Variant;
  round: number;
  requests: number;
  requestsPerSecond: number;
  /** CPU time of the API process during the measured load, per request. */
  apiCpuMicrosPerRequest: number;
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

const BENCH_PEER_LOG_FILE = join(tmpdir(), `bench-api-peer-${process.pid}.log`);

function startApi(variant: Variant, otlpUrl: string): Promise<ComponentProcess> {
  const step = variant === 'bare' || variant === 'peer' ? undefined : variant;
  return startComponent('api', endpoints(createContext()), {
    withoutTelemetry: step === undefined,
    nodeFlags: variant === 'peer' ? ['--import', './bench/api/peer-instrumentation.ts'] : [],
    env: {
      // A store that fills up during warm-up, so RSS over the long run measures the process and
      // its telemetry, not the demo data growing towards its cap (100 000 records a collection).
      STORE_CAPACITY: '20000',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_LOGS_EXPORTER: 'otlp',
      BENCH_PEER_LOG_FILE,
      ...(step === undefined
        ? {}
        : { TELEMETRY_BENCH_STEP: step === 'instrumented' ? 'export' : step, ...INSTRUMENTED_ENV }),
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

async function main(): Promise<void> {
  const machine = describeMachine();
  console.log(`machine: ${machineLine(machine)}`);
  const sink = await startOtlpSink();
  const results: RoundResult[] = [];
  const progress = new Progress(ROUNDS * VARIANTS.length);
  for (let round = 1; round <= ROUNDS; round += 1) {
    // Each round starts one variant later, so no variant always runs first (or last) in a round.
    const shift = (round - 1) % VARIANTS.length;
    const order = [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)];
    for (const variant of order) {
      const api = await startApi(variant, sink.url);
      try {
        await seed(api.url);
        await load(api.url, WARM_UP_SECONDS); // JIT, connection pools
        const pid = api.child.pid ?? 0;
        const cpuBefore = cpuSecondsOf(pid) ?? 0;
        const result = await load(api.url, SECONDS);
        const cpu = ((cpuSecondsOf(pid) ?? 0) - cpuBefore) * 1e6;
        const requests = result.requests.total;
        results.push({
          variant,
          round,
          requests,
          requestsPerSecond: result.requests.average,
          apiCpuMicrosPerRequest: requests > 0 ? cpu / requests : NaN,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
        });
        progress.step(
          `round ${round}/${ROUNDS} ${LABELS[variant].padEnd(26)} ` +
            `${result.requests.average.toFixed(0)} req/s, API CPU ${(cpu / requests).toFixed(1)} µs/req, ` +
            `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
        );
      } finally {
        await api.stop();
      }
    }
  }
  rmSync(BENCH_PEER_LOG_FILE, { force: true });

  const summaries = summarize(results);
  const full = summaries.find((summary) => summary.variant === 'instrumented');
  if (full) {
    console.log(
      `instrumented/bare throughput ratio (medians): ${full.ratio.toFixed(3)}, ` +
        `${full.addedMicrosPerRequest.toFixed(1)} µs/request added`,
    );
  }

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
        const rssMiB = rssMiBOf(pid);
        rss.push({ seconds, rssMiB });
        console.log(
          `[soak ${seconds}/${SOAK_SECONDS}s, about ${SOAK_SECONDS - seconds}s left] RSS ${rssMiB} MiB`,
        );
      }, 10_000);
      rss = [{ seconds: 0, rssMiB: rssMiBOf(pid) }];
      await load(api.url, SOAK_SECONDS);
      clearInterval(sampler);
      rss.push({ seconds: SOAK_SECONDS, rssMiB: rssMiBOf(pid) });
    } finally {
      await api.stop();
    }
    rssGrowth = rssWindows(rss, rssWindowSeconds(SOAK_SECONDS)).growth;
  }
  sink.server.close();

  const report: ApiReport = {
    date: new Date().toISOString(),
    command: invokedCommand('bench:api'),
    node: process.version,
    machine,
    settings: {
      rounds: ROUNDS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      soakSeconds: SOAK_SECONDS,
      breakdown: args.breakdown,
      instrumentedEnv: INSTRUMENTED_ENV,
    },
    rounds: results,
    variants: summaries,
    otlpExportRequests: sink.records(),
    rss,
    rssGrowth,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'api.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeReport(report);
}

interface VariantSummary {
  variant: Variant;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Median req/s over the bare API's median req/s. */
  ratio: number;
  /** 1/req/s − 1/bare req/s, in µs: the time each request costs more at saturation. */
  addedMicrosPerRequest: number;
  apiCpuMicrosPerRequest: number;
  /** API CPU per request over the bare API's. */
  addedCpuMicrosPerRequest: number;
}

function summarize(results: RoundResult[]): VariantSummary[] {
  const of = (variant: Variant) => {
    const rounds = results.filter((result) => result.variant === variant);
    return {
      requestsPerSecond: median(rounds.map((result) => result.requestsPerSecond)),
      p50Ms: median(rounds.map((result) => result.p50Ms)),
      p99Ms: median(rounds.map((result) => result.p99Ms)),
      apiCpuMicrosPerRequest: median(rounds.map((result) => result.apiCpuMicrosPerRequest)),
    };
  };
  const bare = of('bare');
  const measured = new Set(results.map((result) => result.variant));
  const all: Variant[] = ['bare', 'peer', ...STEPS.map((step) => step.variant)];
  return all
    .filter((variant) => measured.has(variant))
    .map((variant) => {
      const summary = of(variant);
      return {
        variant,
        ...summary,
        ratio: summary.requestsPerSecond / bare.requestsPerSecond,
        addedMicrosPerRequest: 1e6 / summary.requestsPerSecond - 1e6 / bare.requestsPerSecond,
        addedCpuMicrosPerRequest: summary.apiCpuMicrosPerRequest - bare.apiCpuMicrosPerRequest,
      };
    });
}

type RssSample = { seconds: number; rssMiB: number };

/**
 * RSS moves in steps between garbage collections, so growth compares the median of the first
 * minute under load with the median of the last minute, not two single samples.
 */
/** The window compared at each end of the soak: a minute, or a third of a shorter soak, in s. */
function rssWindowSeconds(soakSeconds: number): number {
  return Math.max(1, Math.min(60, Math.floor(soakSeconds / 3)));
}

/** Median RSS over the first and the last window of the soak, and the growth between them. */
function rssWindows(rss: RssSample[], windowSeconds: number) {
  const end = rss.at(-1)?.seconds ?? 0;
  const early = median(
    rss.filter((sample) => sample.seconds <= windowSeconds).map((sample) => sample.rssMiB),
  );
  const late = median(
    rss.filter((sample) => sample.seconds >= end - windowSeconds).map((sample) => sample.rssMiB),
  );
  return { early, late, growth: early > 0 ? (late - early) / early : undefined };
}

interface ApiReport {
  date: string;
  command: string;
  node: string;
  machine: Machine;
  settings: {
    rounds: number;
    seconds: number;
    connections: number;
    soakSeconds: number;
    breakdown: boolean;
    instrumentedEnv: Record<string, string>;
  };
  rounds: RoundResult[];
  variants: VariantSummary[];
  otlpExportRequests: number;
  rss: RssSample[];
  rssGrowth: number | undefined;
}

function writeReport(report: ApiReport): void {
  const { variants, rss, settings } = report;
  const windows = rssWindows(rss, rssWindowSeconds(settings.soakSeconds));
  const percent = (value: number | undefined) =>
    value === undefined ? 'n/a' : `${(value * 100).toFixed(1)} %`;
  const micros = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
  const row = (summary: VariantSummary) =>
    `| ${LABELS[summary.variant]} | ${summary.requestsPerSecond.toFixed(0)} | ` +
    `${summary.ratio.toFixed(3)} | ${micros(summary.addedMicrosPerRequest)} | ` +
    `${micros(summary.apiCpuMicrosPerRequest)} | ${micros(summary.addedCpuMicrosPerRequest)} | ` +
    `${summary.p50Ms} | ${summary.p99Ms} |`;
  const shown = (variant: Variant) =>
    variant === 'bare' || variant === 'peer' || variant === 'instrumented';
  const lines = [
    `| variant | req/s (median) | ratio to bare | µs/request added (from req/s) | API CPU µs/request | API CPU µs added | p50 ms | p99 ms |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...variants.filter((summary) => shown(summary.variant)).map(row),
    '',
  ];
  const stepped = STEPS.map((step) => variants.find((summary) => summary.variant === step.variant));
  if (settings.breakdown && stepped.every((summary) => summary !== undefined)) {
    lines.push(
      'Breakdown, each step adding one piece to the one before (`TELEMETRY_BENCH_STEP`):',
      '',
      `| step | req/s (median) | µs/request of this step (from req/s) | API CPU µs/request of this step | µs/request added, cumulative |`,
      `| --- | ---: | ---: | ---: | ---: |`,
    );
    let previous = variants.find((summary) => summary.variant === 'bare');
    for (const [index, summary] of stepped.entries()) {
      if (!summary || !previous) continue;
      lines.push(
        `| ${STEPS[index]?.adds ?? summary.variant} | ${summary.requestsPerSecond.toFixed(0)} | ` +
          `${micros(summary.addedMicrosPerRequest - previous.addedMicrosPerRequest)} | ` +
          `${micros(summary.apiCpuMicrosPerRequest - previous.apiCpuMicrosPerRequest)} | ` +
          `${micros(summary.addedMicrosPerRequest)} |`,
      );
      previous = summary;
    }
    lines.push('');
  }
  if (settings.soakSeconds > 0) {
    lines.push(
      `RSS of the instrumented API over ${settings.soakSeconds} s at full load after warm-up ` +
        `(median of the first ${rssWindowSeconds(settings.soakSeconds)} s -> median of the last): ` +
        `${windows.early} -> ${windows.late} MiB ` +
        `(${percent(windows.growth)}).`,
    );
  }
  lines.push(
    `${settings.rounds} rounds of ${settings.seconds} s per variant (the order rotating each round), ` +
      `${settings.connections} connections, ${report.date.slice(0, 10)}; ${machineLine(report.machine)}.`,
    `\`${report.command}\`; the load generator (autocannon) shares the cores with the API, so ` +
      'req/s and the µs derived from it are of the whole machine; API CPU is the API process alone.',
    '',
  );
  writeFileSync(join(OUT, 'api.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

if (args['report-only']) {
  const file = join(OUT, 'api.json');
  const report = JSON.parse(readFileSync(file, 'utf8')) as ApiReport;
  // Derived figures follow the current method.
  report.rssGrowth = rssWindows(report.rss, rssWindowSeconds(report.settings.soakSeconds)).growth;
  report.variants = summarize(report.rounds);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeReport(report);
} else {
  await main();
}
