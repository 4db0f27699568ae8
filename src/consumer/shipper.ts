/**
 * Reads `api-logs-*` in a consumer group and ships the records to Loki, at least once.
 *
 * Per partition batch: decode and map each message, push in chunks bounded by entries and
 * bytes, and only after the log store acknowledged a chunk (and its dead letters are written)
 * mark its offsets and commit. A crash between push and commit re-delivers at most that chunk,
 * which is the bound on duplicates.
 */
import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import { LOG_TOPIC_PREFIX } from '../shared/kafka-topics.ts';
import { formatLabels, nowNs, type LokiStream } from '../shared/loki-push.ts';
import type { ConsumerConfig } from './config.ts';
import { decodeMessage, UndecodableMessage } from './decode.ts';
import { LokiClient, PushAborted } from './loki-client.ts';
import { mapResourceLogs, type MappedEntry } from './mapping.ts';
import type { ConsumerMetrics } from './metrics.ts';

interface DeadLetter {
  message: KafkaMessage;
  reason: string;
  detail: string;
}

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

const approximateBytes = (entries: MappedEntry[]) =>
  entries.reduce((sum, { entry }) => sum + entry.line.length + 100, 0);

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
  readonly #stopping = new AbortController();
  readonly #subscribed = new Set<string>();
  #ready = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(config: ConsumerConfig, metrics: ConsumerMetrics, options: ShipperOptions) {
    this.#config = config;
    this.#metrics = metrics;
    this.#options = options;
    const kafka = new Kafka({
      clientId: config.clientId,
      brokers: config.brokers,
      logLevel: logLevel.WARN,
    });
    this.#consumer = kafka.consumer({
      groupId: config.groupId,
      maxWaitTimeInMs: config.batch.maxWaitMs,
      // A push may be retried for a long time; the session must survive it (heartbeats are
      // sent between retries).
      sessionTimeout: 30_000,
    });
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.#admin = kafka.admin();
    this.#loki = new LokiClient({
      pushUrl: config.lokiPushUrl,
      tenant: config.lokiTenant,
      format: config.pushFormat,
      timeoutMs: config.pushTimeoutMs,
      retry: config.retry,
      stopSignal: this.#stopping.signal,
      onRetry: (attempt, cause) => {
        this.#metrics.retried(cause);
        if (attempt === 1 || attempt % 10 === 0) {
          this.#options.log('push failed, retrying', { attempt, cause });
        }
      },
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#ready = true;
      this.#options.log('joined consumer group', { memberAssignment: payload.memberAssignment });
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      this.#ready = false;
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

  async start(): Promise<void> {
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
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** attempt)));
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
    const { topic } = batch;
    const logType = topic.startsWith(LOG_TOPIC_PREFIX)
      ? topic.slice(LOG_TOPIC_PREFIX.length)
      : topic;
    const { maxEntries, maxBytes } = this.#config.batch;

    let chunk: { message: KafkaMessage; entries: MappedEntry[] }[] = [];
    let chunkEntries = 0;
    let chunkBytes = 0;
    let deadLetters: DeadLetter[] = [];

    const flush = async () => {
      if (chunk.length === 0) return;
      const entries = chunk.flatMap((item) => item.entries);
      if (entries.length > 0) await this.#push(topic, chunk, entries, deadLetters);
      if (deadLetters.length > 0) await this.#deadLetter(topic, batch.partition, deadLetters);
      const last = chunk.at(-1);
      if (last) {
        resolveOffset(last.message.offset);
        // With autoCommit off, commitOffsetsIfNecessary() without arguments never commits; the
        // committed offset is the next one to read.
        const next = (BigInt(last.message.offset) + 1n).toString();
        await commitOffsetsIfNecessary({
          topics: [{ topic, partitions: [{ partition: batch.partition, offset: next }] }],
        });
      }
      await heartbeat();
      chunk = [];
      chunkEntries = 0;
      chunkBytes = 0;
      deadLetters = [];
    };

    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        let entries: MappedEntry[] = [];
        try {
          entries = mapResourceLogs(
            decodeMessage(message.value, this.#config.messageEncoding),
            logType,
            nowNs(),
          );
        } catch (error) {
          if (!(error instanceof UndecodableMessage)) throw error;
          deadLetters.push({ message, reason: 'undecodable', detail: error.message });
        }
        this.#metrics.consumed(topic, entries.length);
        const bytes = approximateBytes(entries);
        if (
          chunk.length > 0 &&
          (chunkEntries + entries.length > maxEntries || chunkBytes + bytes > maxBytes)
        ) {
          await flush();
        }
        chunk.push({ message, entries });
        chunkEntries += entries.length;
        chunkBytes += bytes;
      }
      if (isRunning() && !isStale()) await flush();
    } catch (error) {
      // Abandoned while stopping: nothing of the chunk was committed, so it is delivered again.
      if (error instanceof PushAborted) return;
      throw error;
    }
  }

  async #push(
    topic: string,
    chunk: { message: KafkaMessage; entries: MappedEntry[] }[],
    entries: MappedEntry[],
    deadLetters: DeadLetter[],
  ): Promise<void> {
    const started = performance.now();
    const result = await this.#loki.push(toStreams(entries));
    if (result.ok) {
      this.#metrics.pushed(
        topic,
        entries.length,
        (performance.now() - started) / 1000,
        entries.length,
      );
      return;
    }
    // The store refused the content (too old, too long, bad labels...). Find the messages it
    // refuses by pushing them one at a time; only those go to the dead-letter topic.
    this.#options.log('push rejected, isolating the rejected messages', {
      status: result.status,
      reason: result.reason,
      messages: chunk.length,
    });
    for (const { message, entries: own } of chunk) {
      if (own.length === 0) continue;
      const single = await this.#loki.push(toStreams(own));
      if (single.ok) {
        this.#metrics.pushed(topic, own.length, (performance.now() - started) / 1000, own.length);
      } else {
        deadLetters.push({ message, reason: `rejected_${single.status}`, detail: single.reason });
      }
    }
  }

  async #deadLetter(topic: string, partition: number, deadLetters: DeadLetter[]): Promise<void> {
    await this.#producer.send({
      topic: this.#config.dlqTopic,
      acks: -1,
      messages: deadLetters.map(({ message, reason, detail }) => ({
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          'dlq.reason': reason,
          'dlq.detail': detail.slice(0, 1000),
          'dlq.source.topic': topic,
          'dlq.source.partition': String(partition),
          'dlq.source.offset': message.offset,
        },
      })),
    });
    for (const { reason } of deadLetters) this.#metrics.deadLettered(topic, reason, 1);
    this.#options.log('dead-lettered', { topic, partition, count: deadLetters.length });
  }
}
