/**
 * What `npm run bench:pipeline` writes: the JSON shape of a run and its Markdown rendering
 * (`--render <file.json>` renders a committed JSON again, e.g. after a table gains a column).
 */
import { machineLine, type Machine } from '../report.ts';
import { HOPS, type Hop, type HopStats } from './latency.ts';

/** Records per pre-filled Kafka message, as the Collector's batches hold. */
export const RECORDS_PER_MESSAGE = 100;

export interface SweepResult {
  rate: number;
  seconds: number;
  /** Requests answered 200, each with its own request id. */
  requestsAnswered: number;
  achievedRequestsPerSecond: number;
  /** Distinct request ids of the load found in the store. */
  landed: number;
  landedPerSecond: number;
  /** Answered requests whose id is not in the store. */
  lost: number;
  /** Records found beyond one per id (absent in older results). */
  duplicates?: number;
  drainSeconds: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** API probes sent (the latency percentiles are over these). */
  probes: number;
  /** API probes not queryable 60 s after the load: counted as loss of the probe, not latency. */
  probesNeverQueryable?: number;
  /** Each hop's latency over the probes that completed it (see latency.ts). */
  hops?: Record<Hop, HopStats>;
  /** The API process' CPU (user + system) per answered request during the load, µs. */
  apiCpuMicrosPerRequest?: number;
}

export interface ConsumerResult {
  /** The consumer's PARTITIONS_IN_PARALLEL for this drain. */
  partitionsInParallel: number;
  /** Consumer instances in the group that drained the topic (absent in older results: 1). */
  instances?: number;
  /** Kafka nodes the topic was replicated on (absent in older results: 1). */
  kafkaNodes?: number;
  records: number;
  consumerSeconds: number;
  /** Records over the whole drain, start included. */
  consumerRecordsPerSecond: number;
  /** From the start to the first acknowledged push seen (process start, connection, join). */
  startSeconds?: number;
  /** Records/s from the first acknowledged push seen to the last: the shipping rate itself. */
  steadyRecordsPerSecond?: number;
  landedInStore: number;
  kcatSeconds: number | undefined;
  kcatRecordsPerSecond: number | undefined;
  /** CPU seconds used during the drain: the (first) consumer, the store and Kafka. */
  cpuSeconds?: Record<string, number>;
}

export interface CeilingResult {
  records: number;
  /** Push requests, each as the consumer would send it with its default batch bounds. */
  pushes: number;
  /** Pushes in flight at once. */
  inFlight: number;
  seconds: number;
  recordsPerSecond: number;
  cpuSeconds: Record<string, number>;
}

export interface PipelineReport {
  date: string;
  command: string;
  node: string;
  machine: Machine;
  kafkaNodes: number;
  e2e: SweepResult[];
  consumer: ConsumerResult[];
  /** Each replayed right after the drain of the same index, with as many pushes in flight. */
  ceiling?: CeilingResult[];
}

/** CPU µs per record of the named processes, e.g. "11.2, 9.8, 2.1"; "n/a" when not sampled. */
function cpuPerRecord(
  cpuSeconds: Record<string, number> | undefined,
  records: number,
  names: string[],
): string {
  if (!cpuSeconds) return 'n/a';
  return names
    .map((name) => {
      const seconds = cpuSeconds[name];
      return seconds === undefined ? 'n/a' : ((seconds * 1e6) / records).toFixed(1);
    })
    .join(', ');
}

const ratio = (part: number | undefined, whole: number | undefined): string =>
  part && whole ? (part / whole).toFixed(2) : 'n/a';

/** The run as Markdown tables, with the date, the machine and the command that made it. */
export function renderMarkdown(report: PipelineReport, pushEntries: number): string {
  const { e2e, consumer } = report;
  const ceiling = report.ceiling ?? [];
  const lines: string[] = [];
  // A run with --skip-e2e has no sweep to show.
  if (e2e.length > 0) {
    lines.push(
      '| offered /s | answered /s | seconds | request ids landed | lost | duplicates | emit-to-queryable p50 ms | p99 ms | drain after load s | API CPU µs/request |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...e2e.map(
        (entry) =>
          `| ${entry.rate} | ${entry.achievedRequestsPerSecond.toFixed(0)} | ${entry.seconds} | ${entry.landed} | ${entry.lost} | ` +
          `${entry.duplicates ?? 'n/a'} | ` +
          `${entry.latencyP50Ms.toFixed(0)} | ${entry.latencyP99Ms.toFixed(0)} | ${entry.drainSeconds.toFixed(1)} | ` +
          `${entry.apiCpuMicrosPerRequest?.toFixed(0) ?? 'n/a'} |`,
      ),
      '',
      'Latency budget, hop by hop: p50 / p99 ms over the probes that completed the hop (see `bench/pipeline/latency.ts`):',
      '',
      `| hop | ${e2e.map((entry) => `${entry.rate}/s`).join(' | ')} |`,
      `| --- | ${e2e.map(() => '---:').join(' | ')} |`,
      ...(Object.keys(HOPS) as Hop[]).map(
        (hop) =>
          `| ${HOPS[hop]} | ${e2e
            .map((entry) => {
              const stats = entry.hops?.[hop];
              return stats && stats.count > 0
                ? `${stats.p50Ms.toFixed(0)} / ${stats.p99Ms.toFixed(0)} (${stats.count})`
                : 'n/a';
            })
            .join(' | ')} |`,
      ),
      '',
    );
  }
  if (consumer.length > 0) {
    lines.push(
      `Consumer alone, draining a 3-partition topic (${RECORDS_PER_MESSAGE} records per Kafka message) into the store:`,
      '',
      '| Kafka nodes | instances | PARTITIONS_IN_PARALLEL | records | seconds (of which start) | records/s shipping | records/s with the start | found in the store | kcat raw read, records/s | shipping / kcat | CPU µs/record: consumer, store, Kafka |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...consumer.map(
        (entry) =>
          `| ${entry.kafkaNodes ?? 1} | ${entry.instances ?? 1} | ${entry.partitionsInParallel} | ${entry.records} | ` +
          `${entry.consumerSeconds.toFixed(1)} (${entry.startSeconds?.toFixed(1) ?? 'n/a'}) | ` +
          `**${entry.steadyRecordsPerSecond?.toFixed(0) ?? 'n/a'}** | ` +
          `${entry.consumerRecordsPerSecond.toFixed(0)} | ${entry.landedInStore} | ` +
          `${entry.kcatRecordsPerSecond ? entry.kcatRecordsPerSecond.toFixed(0) : 'not measured'} | ` +
          `${ratio(entry.steadyRecordsPerSecond, entry.kcatRecordsPerSecond)} | ` +
          `${cpuPerRecord(entry.cpuSeconds, entry.records, ['consumer', 'victorialogs', 'kafka'])} |`,
      ),
      '',
    );
  }
  if (ceiling.length > 0) {
    lines.push(
      `The store's own ceiling: the same records, mapped and encoded by the consumer's code beforehand (${pushEntries} entries per push, its default), replayed at the store's push endpoint right after each drain above, with as many pushes in flight as the drain had partitions:`,
      '',
      '| pushes in flight | records | pushes | seconds | records/s | store CPU µs/record | the drain before it: shipping / ceiling |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...ceiling.map(
        (entry, index) =>
          `| ${entry.inFlight} | ${entry.records} | ${entry.pushes} | ${entry.seconds.toFixed(1)} | ` +
          `**${entry.recordsPerSecond.toFixed(0)}** | ${cpuPerRecord(entry.cpuSeconds, entry.records, ['victorialogs'])} | ` +
          `${ratio(consumer[index]?.steadyRecordsPerSecond, entry.recordsPerSecond)} |`,
      ),
      '',
    );
  }
  lines.push(
    `${report.date.slice(0, 10)}, all components on one machine (${report.kafkaNodes} Kafka node(s)): ${machineLine(report.machine)}.`,
    `\`${report.kafkaNodes > 1 ? `KAFKA_BROKERS_COUNT=${report.kafkaNodes} ` : ''}${report.command}\`.`,
    '',
  );
  return lines.join('\n');
}
