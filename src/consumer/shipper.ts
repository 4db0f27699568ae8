/**
 * Reads `api-logs-*` in a consumer group and ships the records to Loki, at least once.
 *
 * Per partition batch: decode and map each message, push in chunks bounded by entries and
 * bytes, and only after the log store acknowledged a chunk (and its dead letters are written)
 * mark its offsets and commit. A crash between push and commit re-delivers at most that chunk,
 * which is the bound on duplicates.
 */
import { setTimeout } from 'node:timers/promises';
import {
  CompressionTypes,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaMessage,
  type Message,
  type Producer,
} from 'kafkajs';
import { createKafka } from '../shared/kafka-client.ts';
import { LOG_TOPIC_PREFIX } from '../shared/kafka-topics.ts';
import { formatLabels, nowNs, type LokiStream } from '../shared/loki-push.ts';
import { encodeResourceLogs, type DecodedResourceLogs } from '../shared/otlp-logs.ts';
import { HEARTBEAT_INTERVAL_MS, SESSION_TIMEOUT_MS, type ConsumerConfig } from './config.ts';
import { decodeMessage, UndecodableMessage } from '../shared/otlp-message.ts';
import { deliver, DeliveryAborted, type DeadLetter, type DeliveryMessage } from './delivery.ts';
import { LimitChecker } from './limits.ts';
import { LokiClient } from './loki-client.ts';
import { mapResourceLogs, type MappedEntry } from './mapping.ts';
import type { ConsumerMetrics } from './metrics.ts';
import { causeOf } from './rejections.ts';

/** Groups entries by label set, one Loki stream per distinct set. */
export function toStreams(entries: MappedEntry[]): LokiStream[] {
  // Entries of one resource share their label objects (see mapResourceLogs), so most lookups
  // hit by identity; equal label sets from different messages are merged by their text.
  const byObject = new Map<Record<string, string>, LokiStream>();
  const byText = new Map<string, LokiStream>();
  for (const { labels, entry } of entries) {
    let stream = byObject.get(labels);
    if (!stream) {
      const key = formatLabels(labels);
      stream = byText.get(key);
      if (!stream) {
        stream = { labels, entries: [] };
        byText.set(key, stream);
      }
      byObject.set(labels, stream);
    }
    stream.entries.push(entry);
  }
  return [...byText.values()];
}

export interface ShipperOptions {
  /** How often the topic list is checked for new matching topics. */
  topicRefreshMs: number;
  /** How often consumer lag is measured. */
  lagIntervalMs: number;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export class LogShipper {
  readonly #config: ConsumerConfig;
  readonly #metrics: ConsumerMetrics;
  readonly #options: ShipperOptions;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #admin: Admin;
  readonly #loki: LokiClient;
  readonly #limits: LimitChecker | undefined;
  readonly #stopping = new AbortController();
  readonly #subscribed = new Set<string>();
  #ready = false;
  #storeUp = true;
  #storeCause: string | undefined;
  #timers: NodeJS.Timeout[] = [];

  constructor(config: ConsumerConfig, metrics: ConsumerMetrics, options: ShipperOptions) {
    this.#config = config;
    this.#metrics = metrics;
    this.#options = options;
    const kafka = createKafka({ clientId: config.clientId, brokers: config.brokers });
    this.#consumer = kafka.consumer({
      groupId: config.groupId,
      maxWaitTimeInMs: config.batch.maxWaitMs,
      // A push may be retried for as long as the store is away; the delivery engine heartbeats
      // while it waits, so the session survives any outage.
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
    });
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.#admin = kafka.admin();
    this.#limits = config.limits && new LimitChecker(config.limits);
    this.#loki = new LokiClient({
      pushUrl: config.lokiPushUrl,
      tenant: config.lokiTenant,
      format: config.pushFormat,
      timeoutMs: config.pushTimeoutMs,
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#ready = true;
      this.#metrics.joinedGroup();
      this.#metrics.setAssignment(payload.memberAssignment);
      this.#options.log('joined consumer group', { memberAssignment: payload.memberAssignment });
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      this.#ready = false;
      this.#metrics.setAssignment({});
      this.#options.log('consumer crashed', {
        error: payload.error.message,
        restartsItself: payload.restart,
      });
      // kafkajs restarts after retriable errors only; after a long broker outage it gives up, and
      // a consumer that silently stops consuming is the worst outcome. Start it again ourselves.
      if (!payload.restart) void this.#restartAfterCrash();
    });
  }

  /** Ready once connected to Kafka and a member of the consumer group. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The log store's state: up unless its last answer was an outage, with that answer. */
  get store(): { up: boolean; cause: string | undefined } {
    return { up: this.#storeUp, cause: this.#storeCause };
  }

  /**
   * Checks the push URL with an empty push. A wrong URL, tenant or credentials is reported (log,
   * /health, log_consumer_store_up) rather than fatal: records wait in Kafka until it is fixed.
   */
  async checkStore(): Promise<void> {
    const result = await this.#loki.probe();
    if (result.ok) this.#setStoreState(true);
    else {
      this.#setStoreState(false, result.cause);
      this.#options.log('push URL check failed; records wait in Kafka until the store answers', {
        pushUrl: this.#config.lokiPushUrl,
        cause: result.cause,
      });
    }
  }

  async start(): Promise<void> {
    await this.checkStore();
    await Promise.all([this.#admin.connect(), this.#producer.connect(), this.#consumer.connect()]);
    await this.#subscribeToNewTopics();
    this.#timers.push(
      setInterval(() => void this.#refreshTopics(), this.#options.topicRefreshMs),
      setInterval(() => void this.#measureLag(), this.#options.lagIntervalMs),
    );
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#stopping.abort();
    this.#ready = false;
    // disconnect() lets the running batch finish (or abandon an unacknowledged push), commits
    // what was resolved and leaves the group, so partitions move on at once.
    await this.#consumer.disconnect();
    await Promise.all([this.#producer.disconnect(), this.#admin.disconnect()]);
  }

  async #restartAfterCrash(): Promise<void> {
    for (let attempt = 1; !this.#stopping.signal.aborted; attempt += 1) {
      await setTimeout(Math.min(30_000, 1000 * 2 ** attempt));
      try {
        await this.#consumer.disconnect();
        await this.#consumer.connect();
        await this.#run();
        this.#options.log('consumer restarted after a crash', { attempt });
        return;
      } catch (error) {
        this.#options.log('restart after crash failed; retrying', {
          attempt,
          error: String(error),
        });
      }
    }
  }

  #run(): Promise<void> {
    return this.#consumer.run({
      partitionsConsumedConcurrently: this.#config.partitionsInParallel,
      eachBatchAutoResolve: false,
      autoCommit: false,
      eachBatch: (payload) => this.#shipBatch(payload),
    });
  }

  async #matchingTopics(): Promise<string[]> {
    const topics = await this.#admin.listTopics();
    return topics.filter((topic) => this.#config.topicPattern.test(topic)).sort();
  }

  async #subscribeToNewTopics(): Promise<void> {
    const fresh = (await this.#matchingTopics()).filter((topic) => !this.#subscribed.has(topic));
    // Nothing new; or nothing at all yet, in which case the next refresh tries again.
    if (fresh.length === 0) return;
    // kafkajs resolves subscriptions when it starts running; picking up a topic created later
    // means stopping, subscribing and running again.
    if (this.#subscribed.size > 0) await this.#consumer.stop();
    await this.#consumer.subscribe({ topics: fresh, fromBeginning: true });
    for (const topic of fresh) this.#subscribed.add(topic);
    this.#options.log('subscribed', { topics: [...this.#subscribed] });
    await this.#run();
  }

  async #refreshTopics(): Promise<void> {
    try {
      if (this.#stopping.signal.aborted) return;
      await this.#subscribeToNewTopics();
    } catch (error) {
      this.#options.log('topic refresh failed', { error: String(error) });
    }
  }

  async #measureLag(): Promise<void> {
    try {
      const topics = [...this.#subscribed];
      if (topics.length === 0) return;
      const committed = await this.#admin.fetchOffsets({ groupId: this.#config.groupId, topics });
      for (const { topic, partitions } of committed) {
        const ends = await this.#admin.fetchTopicOffsets(topic);
        for (const { partition, high, low } of ends) {
          const offset = partitions.find((item) => item.partition === partition)?.offset ?? '-1';
          const from = Number(offset) >= 0 ? Number(offset) : Number(low);
          this.#metrics.setLag(topic, partition, Math.max(0, Number(high) - from));
        }
      }
    } catch (error) {
      this.#options.log('lag measurement failed', { error: String(error) });
    }
  }

  async #shipBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale } =
      payload;
    const { topic, partition } = batch;
    const logType = topic.startsWith(LOG_TOPIC_PREFIX)
      ? topic.slice(LOG_TOPIC_PREFIX.length)
      : topic;
    const stopping = this.#stopping.signal;

    const raw = new Map<DeliveryMessage<MappedEntry>, KafkaMessage>();
    const metrics = this.#metrics;
    const messageEncoding = this.#config.messageEncoding;
    // Decoded as the delivery engine pulls them: the next chunk's messages are decoded while the
    // previous chunk's push or commit waits for the store or Kafka.
    function* decoded(): Generator<DeliveryMessage<MappedEntry>> {
      for (const message of batch.messages) {
        let delivery: DeliveryMessage<MappedEntry>;
        try {
          const records = mapResourceLogs(
            decodeMessage(message.value, messageEncoding),
            logType,
            nowNs(),
            partition,
          );
          delivery = { offset: message.offset, records };
          metrics.consumed(topic, records.length);
        } catch (error) {
          if (!(error instanceof UndecodableMessage)) throw error;
          delivery = {
            offset: message.offset,
            records: [],
            poison: { reason: 'undecodable', detail: error.message },
          };
          metrics.consumed(topic, 0);
        }
        raw.set(delivery, message);
        yield delivery;
      }
    }

    try {
      await deliver<MappedEntry>(
        decoded(),
        {
          push: (records) => this.#loki.attempt(toStreams([...records]), stopping),
          deadLetter: (letters) => this.#deadLetter(topic, partition, letters, raw),
          commit: async (nextOffset) => {
            resolveOffset((BigInt(nextOffset) - 1n).toString());
            // With autoCommit off, commitOffsetsIfNecessary() without arguments never commits;
            // the committed offset is the next one to read.
            await commitOffsetsIfNecessary({
              topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
            });
          },
          heartbeat,
          sleep: (ms) => setTimeout(ms, undefined, { signal: stopping }),
          random: Math.random,
          stopRequested: () => stopping.aborted || !isRunning() || isStale(),
          ...(this.#limits && { check: (record) => this.#limits?.check(record) }),
          sizeOf: (record) => record.entry.line.length + 100,
          now: () => performance.now(),
          yieldToIo: () => new Promise((resolve) => setImmediate(resolve)),
          observe: {
            pushed: (records, seconds) => {
              this.#metrics.pushed(topic, records.length, seconds, records.length);
            },
            deadLettered: (letters) => {
              for (const { reason, records } of letters) {
                this.#metrics.deadLettered(topic, reason, Math.max(1, records.length));
              }
            },
            retrying: (attempt, cause) => {
              this.#metrics.retried(cause);
              if (attempt === 1 || attempt % 10 === 0) {
                this.#options.log('push or dead-letter write failed, retrying', {
                  topic,
                  partition,
                  attempt,
                  cause,
                });
              }
            },
            isolating: (count) => this.#metrics.resentWhileIsolating(topic, count),
            storeState: (healthy, cause) => this.#setStoreState(healthy, cause),
          },
        },
        {
          maxEntries: this.#config.batch.maxEntries,
          maxBytes: this.#config.batch.maxBytes,
          retry: this.#config.retry,
          heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        },
      );
    } catch (error) {
      // Abandoned while stopping or on revocation: nothing after the last commit is kept, so
      // the rest is delivered again by whoever owns the partition next.
      if (error instanceof DeliveryAborted) return;
      throw error;
    }
  }

  #setStoreState(healthy: boolean, cause?: string): void {
    if (healthy === this.#storeUp && cause === this.#storeCause) return;
    if (!healthy && this.#storeUp) {
      this.#options.log('log store unavailable or refusing the connection', { cause });
    }
    if (healthy && !this.#storeUp) this.#options.log('log store reachable again');
    this.#storeUp = healthy;
    this.#storeCause = healthy ? undefined : cause;
    this.#metrics.setStoreUp(healthy);
  }

  /**
   * Writes dead letters: an undecodable message as it came, refused records re-encoded as one
   * OTLP message per source message and reason. Compressed (gzip), since the broker's limit
   * applies to the compressed batch and the source message was accepted compressed; a value
   * still too large is truncated, with its size and the cause in headers.
   */
  async #deadLetter(
    topic: string,
    partition: number,
    letters: readonly DeadLetter<MappedEntry>[],
    raw: Map<DeliveryMessage<MappedEntry>, KafkaMessage>,
  ): Promise<void> {
    const messages = letters.map((letter) => {
      const source = raw.get(letter.message);
      const value =
        letter.records.length > 0
          ? Buffer.from(encodeResourceLogs(regroup(letter.records)))
          : (source?.value ?? null);
      return {
        key: source?.key ?? null,
        value,
        headers: {
          ...source?.headers,
          'dlq.reason': letter.reason,
          'dlq.detail': causeOf(letter.detail),
          'dlq.records': String(letter.records.length),
          'dlq.source.topic': topic,
          'dlq.source.partition': String(partition),
          'dlq.source.offset': letter.message.offset,
          'dlq.time': new Date().toISOString(),
        },
      };
    });
    try {
      await this.#sendDeadLetters(messages);
    } catch (error) {
      if (!isTooLarge(error)) throw error;
      // One by one; what is still too large alone is truncated.
      for (const message of messages) {
        try {
          await this.#sendDeadLetters([message]);
        } catch (single) {
          if (!isTooLarge(single)) throw single;
          const size = message.value?.length ?? 0;
          await this.#sendDeadLetters([
            {
              ...message,
              value: message.value?.subarray(0, this.#config.dlqTruncateBytes) ?? null,
              headers: {
                ...message.headers,
                'dlq.truncated': 'true',
                'dlq.original.bytes': String(size),
                'dlq.truncated.cause': describeError(single).slice(0, 500),
              },
            },
          ]);
        }
      }
    }
    this.#options.log('dead-lettered', {
      topic,
      partition,
      letters: letters.map(({ message, reason, records }) => ({
        offset: message.offset,
        reason,
        records: records.length,
      })),
    });
  }

  async #sendDeadLetters(messages: Message[]): Promise<void> {
    await this.#producer.send({
      topic: this.#config.dlqTopic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages,
    });
  }
}

/** Regroups records by their resource and scope (shared objects of the decoded message). */
export function regroup(records: readonly MappedEntry[]): DecodedResourceLogs[] {
  const resources = new Map<DecodedResourceLogs, DecodedResourceLogs>();
  const scopes = new Map<object, DecodedResourceLogs['scopes'][number]>();
  for (const { source } of records) {
    let resource = resources.get(source.resource);
    if (!resource) {
      resource = { resource: source.resource.resource, scopes: [] };
      resources.set(source.resource, resource);
    }
    let scope = scopes.get(source.scope);
    if (!scope) {
      scope = { name: source.scope.name, version: source.scope.version, records: [] };
      scopes.set(source.scope, scope);
      resource.scopes.push(scope);
    }
    scope.records.push(source.record);
  }
  return [...resources.values()];
}

/** True when Kafka refused a produce for its size (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE). */
function isTooLarge(error: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (item: unknown): boolean => {
    if (!item || typeof item !== 'object' || seen.has(item)) return false;
    seen.add(item);
    const fields = item as {
      type?: unknown;
      message?: unknown;
      originalError?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof fields.type === 'string' && /TOO_LARGE/.test(fields.type)) return true;
    if (
      typeof fields.message === 'string' &&
      /larger than the maximum|too large/i.test(fields.message)
    )
      return true;
    if (visit(fields.originalError) || visit(fields.cause)) return true;
    return Array.isArray(fields.errors) && fields.errors.some(visit);
  };
  return visit(error);
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
