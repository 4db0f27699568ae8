/**
 * Soak: the whole pipeline at a steady rate for a long time (default 30 minutes, 50 requests/s),
 * with the canary checking for loss. Samples the RSS of the API, the consumer and the Collector;
 * growth is measured from the end of the warm-up (5 minutes) to the end. Results go to
 * bench/results/soak.json and bench/results/soak.md.
 *
 *   npm run soak                       # 30 minutes
 *   npm run soak -- --minutes 5 --warmup 1
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createContext,
  endpoints,
  poll,
  quietKafkajsTimerWarning,
  runPaths,
  scrapeMetric,
  scrapeText,
  startComponent,
  withServices,
  sumOfSeries,
} from '../../stack/index.ts';
import { REPO_ROOT as ROOT } from '../../stack/config.ts';
import { invokedCommand, median } from '../report.ts';

quietKafkajsTimerWarning();
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    rate: { type: 'string', default: '50' },
    // V8 grows its heap lazily up to a limit derived from the machine's memory (GBs here), so
    // without a cap RSS follows the collector's laziness rather than leaks. A container's memory
    // limit caps it the same way (compose gives the API 512 MiB).
    'max-old-space-mib': { type: 'string', default: '192' },
    // V8 also grows its young generation under a steady allocation rate, up to 128 MiB with
    // plenty of memory, and takes tens of minutes to get there at 50 requests/s: a
    // step in RSS that is neither a leak nor over by the end of a 5-minute warm-up. A fixed
    // size (min = max) makes it a constant instead. 0 leaves V8's default sizing.
    'semi-space-mib': { type: 'string', default: '16' },
    // Small enough that the demo data reaches its cap during warm-up and stops growing.
    'store-capacity': { type: 'string', default: '500' },
    // Recomputes soak.md from the samples in soak.json without running anything.
    'report-only': { type: 'boolean', default: false },
  },
});
const MINUTES = Number(args.minutes);
const WARMUP_MINUTES = Number(args.warmup);
const RATE = Number(args.rate);
const SEMI_SPACE_MIB = Number(args['semi-space-mib']);
/** V8 flags for the API and the consumer (on the command line: NODE_OPTIONS refuses some). */
const V8_FLAGS = [
  `--max-old-space-size=${Number(args['max-old-space-mib'])}`,
  ...(SEMI_SPACE_MIB > 0
    ? [`--min-semi-space-size=${SEMI_SPACE_MIB}`, `--max-semi-space-size=${SEMI_SPACE_MIB}`]
    : []),
];
const ctx = createContext((line) => console.log(`[services] ${line}`));
const endpoint = endpoints(ctx);
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** V8 heap used and reserved, and memory outside the heap, from the process's own /metrics. */
async function heapMiB(url: string): Promise<HeapFigures | undefined> {
  try {
    const text = await scrapeText(url);
    const mib = (type: string) =>
      Math.round(
        sumOfSeries(text, 'nodejs_memory_usage', `nodejs_memory_type="${type}"`) / 2 ** 20,
      );
    return { used: mib('heap_used'), total: mib('heap_total'), external: mib('external') };
  } catch {
    return undefined;
  }
}

const rssMiB = (pid: number | undefined) => {
  if (!pid) return NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
};

async function main(): Promise<void> {
  const collectorPid = Number(readFileSync(runPaths(ctx, 'collector').pidFile, 'utf8'));
  const consumer = await startComponent('consumer', endpoint, { nodeFlags: V8_FLAGS });
  const api = await startComponent('api', endpoint, {
    nodeFlags: V8_FLAGS,
    env: {
      STORE_CAPACITY: String(Number(args['store-capacity'])),
      FAULT_ROUTES: 'true',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=soak',
    },
  });
  const canary = await startComponent('canary', endpoint);
  const loadgen = await startComponent('loadgen', endpoint, {
    args: ['--target', api.url, '--rate', String(RATE), '--duration', String(MINUTES * 60)],
  });
  let loadgenOutput = '';
  loadgen.child.stdout?.on('data', (chunk) => (loadgenOutput += String(chunk)));

  const samples: Sample[] = [];
  const started = Date.now();
  const sample = async () => {
    const minute = Math.round((Date.now() - started) / 6000) / 10;
    const entry: Sample = {
      minute,
      api: rssMiB(api.child.pid),
      consumer: rssMiB(consumer.child.pid),
      collector: rssMiB(collectorPid),
      heap: { api: await heapMiB(api.url), consumer: await heapMiB(consumer.url) },
    };
    samples.push(entry);
    const heap = (key: 'api' | 'consumer') => {
      const figures = entry.heap?.[key];
      return figures
        ? ` (heap ${figures.used}/${figures.total}, external ${figures.external})`
        : '';
    };
    log(
      `minute ${minute}/${MINUTES}: RSS API ${entry.api} MiB${heap('api')}, consumer ` +
        `${entry.consumer} MiB${heap('consumer')}, Collector ${entry.collector} MiB`,
    );
  };
  await sample();
  const sampler = setInterval(() => void sample(), 30_000);
  await loadgen.exited;
  clearInterval(sampler);
  await sample();

  log('load finished; waiting for the canary to account for every record ...');
  await poll(
    async () =>
      (await scrapeMetric(canary.url, 'canary_records_missing')) === 0 ? true : undefined,
    {
      timeoutMs: 180_000,
    },
  ).catch(() => undefined);
  const canaryFigures = {
    sent: await scrapeMetric(canary.url, 'canary_records_sent_total'),
    arrived: await scrapeMetric(canary.url, 'canary_e2e_latency_count'),
    missing: await scrapeMetric(canary.url, 'canary_records_missing'),
    duplicated: await scrapeMetric(canary.url, 'canary_records_duplicated_total'),
  };
  await canary.stop();
  await api.stop();
  await consumer.stop();

  const report: SoakReport = {
    date: new Date().toISOString(),
    command: invokedCommand('soak'),
    minutes: MINUTES,
    warmupMinutes: WARMUP_MINUTES,
    rate: RATE,
    settings: { nodeOptions: V8_FLAGS.join(' '), storeCapacity: Number(args['store-capacity']) },
    loadgen: /summary: .*/.exec(loadgenOutput)?.[0] ?? '',
    canary: canaryFigures,
    samples,
  };
  writeReport(report);
}

interface HeapFigures {
  used: number;
  total: number;
  external: number;
}
interface Sample {
  minute: number;
  api: number;
  consumer: number;
  collector: number;
  /** Absent in results recorded before the components exposed their heap. */
  heap?: { api?: HeapFigures; consumer?: HeapFigures };
}
type Process = 'api' | 'consumer' | 'collector';

interface SoakReport {
  date: string;
  command?: string;
  minutes: number;
  warmupMinutes: number;
  rate: number;
  settings?: { nodeOptions: string; storeCapacity: number };
  loadgen: string;
  canary: { sent: number; arrived: number; missing: number; duplicated: number };
  samples: Sample[];
}

/**
 * RSS swings by tens of MiB between garbage collections, so growth compares the median of the
 * first five minutes after warm-up with the median of the last five, not two single samples.
 */
function writeReport(report: SoakReport): void {
  const { samples, warmupMinutes: warmup, minutes } = report;
  const early = samples.filter((entry) => entry.minute >= warmup && entry.minute < warmup + 5);
  const late = samples.filter((entry) => entry.minute > minutes - 5);
  const window = (entries: Sample[], key: Process) => median(entries.map((entry) => entry[key]));
  const growth = (key: Process) => (window(late, key) - window(early, key)) / window(early, key);
  const rssGrowthAfterWarmup = {
    api: growth('api'),
    consumer: growth('consumer'),
    collector: growth('collector'),
  };
  writeFileSync(
    join(ROOT, 'bench/results/soak.json'),
    `${JSON.stringify({ ...report, rssGrowthAfterWarmup }, null, 2)}\n`,
  );
  const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
  const { canary } = report;
  const lines = [
    `| process | median RSS, minutes ${warmup}-${warmup + 5} | median RSS, last 5 minutes | growth | max RSS |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...(['api', 'consumer', 'collector'] as const).map(
      (key) =>
        `| ${key} | ${window(early, key)} MiB | ${window(late, key)} MiB | ${pct(growth(key))} | ` +
        `${Math.max(...samples.map((entry) => entry[key]))} MiB |`,
    ),
    ...heapTable(early, late),
    '',
    `Load: ${report.rate} requests/s for ${minutes} min (${report.loadgen.replace('summary: ', '')}); ` +
      `API and consumer with ${report.settings?.nodeOptions ?? 'no heap cap'}, store capacity ` +
      `${report.settings?.storeCapacity ?? 100000}. ` +
      `Canary: ${canary.sent} sent, ${canary.arrived} found, ${canary.missing} missing, ` +
      `${canary.duplicated} duplicated. ${report.date.slice(0, 10)}, one 2-core machine, ` +
      `\`${report.command ?? 'npm run soak'}\`.`,
    '',
  ];
  writeFileSync(join(ROOT, 'bench/results/soak.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

/** Where the memory sits (V8 heap used, heap reserved, outside the heap), same windows as RSS. */
function heapTable(early: Sample[], late: Sample[]): string[] {
  const figure = (entries: Sample[], key: 'api' | 'consumer', field: keyof HeapFigures) =>
    median(
      entries
        .map((entry) => entry.heap?.[key]?.[field])
        .filter((value): value is number => value !== undefined),
    );
  if (Number.isNaN(figure(late, 'api', 'used'))) return [];
  const fields = [
    ['used', 'V8 heap used'],
    ['total', 'V8 heap reserved'],
    ['external', 'outside the heap'],
  ] as const;
  return [
    '',
    `| process | ${fields.map(([, title]) => `${title}, early -> late`).join(' | ')} |`,
    `| --- | ${fields.map(() => '---:').join(' | ')} |`,
    ...(['api', 'consumer'] as const).map(
      (key) =>
        `| ${key} | ${fields
          .map(([field]) => `${figure(early, key, field)} -> ${figure(late, key, field)} MiB`)
          .join(' | ')} |`,
    ),
  ];
}

if (args['report-only']) {
  writeReport(
    JSON.parse(readFileSync(join(ROOT, 'bench/results/soak.json'), 'utf8')) as SoakReport,
  );
} else {
  await withServices(ctx, main);
}
