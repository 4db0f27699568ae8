/**
 * Emit-to-queryable latency, hop by hop, from timestamps the pipeline already carries.
 *
 * Three kinds of probe go out while the load runs, each with a request id of its own:
 * - `api`: a request to the API; its access record carries the time it was emitted
 *   (`timeUnixNano`), goes through the SDK's batch, the Collector, Kafka, the consumer and the
 *   store;
 * - `otlp`: one record posted straight to the Collector's OTLP/HTTP receiver (no SDK), timed
 *   from the post: the Collector's own share;
 * - `store`: one entry pushed straight to the store's push endpoint, timed from its
 *   acknowledgement to the first query that finds it: the store's visibility delay.
 *
 * A Kafka consumer of its own (a separate group, reading from the latest offset) reads each
 * probe's Kafka timestamp (the Collector's producer sets it when it produces the record) and
 * partition/offset; the pipeline consumer group's committed offsets, polled, tell when the
 * consumer had pushed it and committed. One LogsQL query polled for all open probes tells when
 * each is queryable. Every clock is this machine's wall clock.
 */
import kafkajs from 'kafkajs';
import type { Endpoints } from '../../stack/index.ts';
import { LOG_TOPIC_PREFIX } from '../../src/shared/kafka-topics.ts';
import {
  decodeExportLogsServiceRequest,
  encodeExportLogsServiceRequest,
} from '../../src/shared/otlp-logs.ts';
import {
  encodeLokiProtobuf,
  LOKI_PROTOBUF_CONTENT_TYPE,
  nowNs,
} from '../../src/shared/loki-push.ts';
import { percentile } from '../report.ts';
import { queryLogs } from '../../stack/request-ids.ts';

/** The hops reported, in pipeline order, with what each spans. */
export const HOPS = {
  apiToKafka: 'API record emitted -> in Kafka (SDK batch wait, OTLP export, Collector, produce)',
  collectorToKafka: 'posted to the Collector -> in Kafka (Collector and produce alone)',
  kafkaToCommitted: 'in Kafka -> consumer committed (fetch, decode, push acknowledged, commit)',
  apiToCommitted:
    'API record emitted -> pushed, acknowledged and committed by the consumer (the pipeline before the store)',
  kafkaToQueryable: 'in Kafka -> queryable in the store',
  storeVisibility: 'push acknowledged by the store -> queryable (store alone)',
  requestToQueryable: 'API request sent -> queryable (emit-to-queryable)',
} as const;
export type Hop = keyof typeof HOPS;

export interface HopStats {
  /** Probes with both ends of the hop seen. */
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Probe {
  kind: 'api' | 'otlp' | 'store';
  /** When the request, post or push was sent (api, otlp) or acknowledged (store), epoch ms. */
  sentMs: number;
  recordMs?: number;
  kafkaMs?: number;
  partition?: number;
  offset?: bigint;
  committedMs?: number;
  queryableMs?: number;
}

const ACCESS_TOPIC = `${LOG_TOPIC_PREFIX}access`;

export class LatencyProbes {
  readonly #endpoint: Endpoints;
  readonly #prefix: string;
  readonly #apiUrl: string;
  readonly #consumerGroup: string;
  readonly #probes = new Map<string, Probe>();
  readonly #kafka: kafkajs.Kafka;
  readonly #consumer: kafkajs.Consumer;
  readonly #admin: kafkajs.Admin;
  #sequence = 0;
  #polling: NodeJS.Timeout | undefined;
  #busy = false;

  /**
   * @param prefix unique per run: every probe's request id starts with it
   * @param consumerGroup the pipeline consumer's group, whose commits are watched
   */
  constructor(endpoint: Endpoints, prefix: string, apiUrl: string, consumerGroup: string) {
    this.#endpoint = endpoint;
    this.#prefix = prefix;
    this.#apiUrl = apiUrl;
    this.#consumerGroup = consumerGroup;
    this.#kafka = new kafkajs.Kafka({
      clientId: 'bench-latency',
      brokers: endpoint.kafkaBrokers,
      logLevel: kafkajs.logLevel.NOTHING,
    });
    this.#consumer = this.#kafka.consumer({ groupId: `${prefix}-hops`, maxWaitTimeInMs: 100 });
    this.#admin = this.#kafka.admin();
  }

  /** Joins Kafka (from the latest offset) and starts the polls; resolves once assigned. */
  async start(): Promise<void> {
    await this.#admin.connect();
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [ACCESS_TOPIC], fromBeginning: false });
    const joined = new Promise<void>((resolve) => {
      this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => resolve());
    });
    await this.#consumer.run({
      eachMessage: async ({ partition, message }) => this.#onKafkaMessage(partition, message),
    });
    await joined;
    this.#polling = setInterval(() => void this.#poll(), 25);
  }

  async stop(): Promise<void> {
    clearInterval(this.#polling);
    await this.#consumer.disconnect();
    await this.#admin.disconnect();
  }

  /** Sends one probe of each kind; the store probe resolves once acknowledged. */
  async send(): Promise<void> {
    const sequence = this.#sequence++;
    const apiId = `${this.#prefix}-api-${sequence}`;
    const otlpId = `${this.#prefix}-otlp-${sequence}`;
    const storeId = `${this.#prefix}-store-${sequence}`;
    this.#probes.set(apiId, { kind: 'api', sentMs: Date.now() });
    await fetch(`${this.#apiUrl}/health`, { headers: { 'x-request-id': apiId } });

    const postedNs = nowNs();
    this.#probes.set(otlpId, { kind: 'otlp', sentMs: Date.now() });
    await fetch(`${this.#endpoint.otlpHttp}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from(
        encodeExportLogsServiceRequest({ 'service.name': 'bench-probe' }, [
          {
            timeUnixNano: postedNs,
            severityNumber: 9,
            severityText: 'INFO',
            body: 'latency probe',
            attributes: { 'log.type': 'access', 'request.id': otlpId },
          },
        ]),
      ),
    });

    const response = await fetch(this.#endpoint.lokiPush, {
      method: 'POST',
      headers: { 'content-type': LOKI_PROTOBUF_CONTENT_TYPE },
      body: encodeLokiProtobuf([
        {
          labels: { service_name: 'bench-probe', log_type: 'probe' },
          entries: [
            {
              timestampNs: nowNs(),
              line: '{"msg":"store probe"}',
              structuredMetadata: { request_id: storeId },
            },
          ],
        },
      ]),
    });
    if (response.ok) this.#probes.set(storeId, { kind: 'store', sentMs: Date.now() });
  }

  /** Waits until every probe is queryable, or `timeoutMs` passed. */
  async settle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && [...this.#probes.values()].some((probe) => !probe.queryableMs)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Percentiles of each hop over the probes that completed it. */
  summary(): Record<Hop, HopStats> {
    const probes = [...this.#probes.values()];
    const of = (
      kinds: Probe['kind'][],
      from: (p: Probe) => number | undefined,
      to: (p: Probe) => number | undefined,
    ) =>
      stats(
        probes
          .filter((probe) => kinds.includes(probe.kind))
          .map((probe) => {
            const start = from(probe);
            const end = to(probe);
            return start === undefined || end === undefined ? undefined : end - start;
          })
          .filter((value): value is number => value !== undefined),
      );
    return {
      apiToKafka: of(
        ['api'],
        (p) => p.recordMs,
        (p) => p.kafkaMs,
      ),
      collectorToKafka: of(
        ['otlp'],
        (p) => p.sentMs,
        (p) => p.kafkaMs,
      ),
      kafkaToCommitted: of(
        ['api', 'otlp'],
        (p) => p.kafkaMs,
        (p) => p.committedMs,
      ),
      apiToCommitted: of(
        ['api'],
        (p) => p.recordMs,
        (p) => p.committedMs,
      ),
      kafkaToQueryable: of(
        ['api', 'otlp'],
        (p) => p.kafkaMs,
        (p) => p.queryableMs,
      ),
      storeVisibility: of(
        ['store'],
        (p) => p.sentMs,
        (p) => p.queryableMs,
      ),
      requestToQueryable: of(
        ['api'],
        (p) => p.sentMs,
        (p) => p.queryableMs,
      ),
    };
  }

  /** API probes sent and API probes never found queryable. */
  get apiProbes(): { sent: number; missing: number } {
    const api = [...this.#probes.values()].filter((probe) => probe.kind === 'api');
    return { sent: api.length, missing: api.filter((probe) => !probe.queryableMs).length };
  }

  #onKafkaMessage(partition: number, message: kafkajs.KafkaMessage): void {
    if (!message.value) return;
    const receivedMs = Date.now();
    for (const resource of decodeExportLogsServiceRequest(message.value)) {
      for (const scope of resource.scopes) {
        for (const record of scope.records) {
          const id = record.attributes['request.id'];
          const probe = typeof id === 'string' ? this.#probes.get(id) : undefined;
          if (!probe || probe.kafkaMs !== undefined) continue;
          probe.kafkaMs = Number(message.timestamp) || receivedMs;
          probe.recordMs = Number(record.timeUnixNano / 1_000_000n);
          probe.partition = partition;
          probe.offset = BigInt(message.offset);
        }
      }
    }
  }

  /** One round of both polls: committed offsets, then the store. Skipped while one runs. */
  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const open = [...this.#probes.values()];
      if (open.some((probe) => probe.offset !== undefined && probe.committedMs === undefined)) {
        const [committed] = await this.#admin.fetchOffsets({
          groupId: this.#consumerGroup,
          topics: [ACCESS_TOPIC],
        });
        const now = Date.now();
        for (const probe of open) {
          if (probe.offset === undefined || probe.committedMs !== undefined) continue;
          const offset = committed?.partitions.find(
            (item) => item.partition === probe.partition,
          )?.offset;
          if (offset !== undefined && BigInt(offset) > probe.offset) probe.committedMs = now;
        }
      }
      if (open.some((probe) => probe.queryableMs === undefined)) {
        const rows = await queryLogs(
          this.#endpoint,
          `_time:15m request_id:~"^${this.#prefix}-" | fields request_id`,
        );
        const now = Date.now();
        for (const { request_id: id } of rows) {
          const probe = id ? this.#probes.get(id) : undefined;
          if (probe && probe.queryableMs === undefined) probe.queryableMs = now;
        }
      }
    } catch {
      // A failed poll is retried on the next tick.
    } finally {
      this.#busy = false;
    }
  }
}

function stats(values: number[]): HopStats {
  return {
    count: values.length,
    p50Ms: percentile(values, 50),
    p99Ms: percentile(values, 99),
    maxMs: values.length > 0 ? Math.max(...values) : Number.NaN,
  };
}
