/**
 * `npm run dlq -- list | show <offset> | replay`: what sits in the dead-letter topic, and
 * bringing it back once its cause is fixed.
 *
 * - `list` prints one line per letter: offset, time, reason, source topic/partition/offset,
 *   record count, whether it was replayed, and the detail naming the cause.
 * - `show <offset>` prints one letter's headers and its records as JSON.
 * - `replay` pushes the matching letters' records to the log store through the consumer's own
 *   path (decoding, mapping, client-side limits, the delivery engine's retries), with the
 *   consumer's configuration (LOKI_PUSH_URL, STORE_* limits...). Records refused again are
 *   dead-lettered again with their new reason. Each replayed letter gets a marker in the
 *   dead-letter topic, so a second `replay` skips it; the source topics are never touched.
 *
 * Filters: `--reason <code>`, `--topic <source topic>`, `--since <ISO time>`, `--until <ISO time>`.
 * Exit codes: 0 done, 64 bad usage, 78 bad configuration.
 */
import { parseArgs } from 'node:util';
import { CompressionTypes, type KafkaMessage } from 'kafkajs';
import { exitOnConfigError } from '../../shared/env.ts';
import { createKafka } from '../../shared/kafka-client.ts';
import { LOG_TOPIC_PREFIX } from '../../shared/kafka-topics.ts';
import { nowNs } from '../../shared/loki-push.ts';
import { encodeResourceLogs } from '../../shared/otlp-logs.ts';
import { readConsumerConfig, type ConsumerConfig } from '../config.ts';
import { decodeMessage, UndecodableMessage } from '../../shared/otlp-message.ts';
import { deliver, type DeliveryMessage } from '../delivery.ts';
import { LimitChecker } from '../limits.ts';
import { LokiClient } from '../loki-client.ts';
import { mapResourceLogs, type MappedEntry } from '../mapping.ts';
import { regroup, toStreams } from '../shipper.ts';
import {
  matches,
  parseLetter,
  REPLAYED_HEADER,
  type Letter,
  type LetterFilter,
} from './letters.ts';

const USAGE = `usage: npm run dlq -- list|show <offset>|replay [--reason R] [--topic T] [--since ISO] [--until ISO]`;

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(64);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    reason: { type: 'string' },
    topic: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
  },
});
const [command, argument] = positionals;
const time = (text: string | undefined, name: string) => {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) usage(`--${name} must be an ISO 8601 time, got "${text}"`);
  return ms;
};
const filter: LetterFilter = {
  ...(values.reason !== undefined && { reason: values.reason }),
  ...(values.topic !== undefined && { sourceTopic: values.topic }),
  ...(values.since !== undefined && { since: time(values.since, 'since') }),
  ...(values.until !== undefined && { until: time(values.until, 'until') }),
};
if (!['list', 'show', 'replay'].includes(command ?? '')) usage('unknown command');
if (command === 'show' && !/^\d+$/.test(argument ?? '')) usage('show needs a letter offset');

let config: ConsumerConfig;
try {
  config = readConsumerConfig(process.env);
} catch (error) {
  exitOnConfigError(error);
}

const kafka = createKafka({ clientId: 'dlq-tool', brokers: config.brokers, logLevel: 'error' });

/** Every message of the dead-letter topic up to its current end, in offset order. */
async function readAll(): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(config.dlqTopic);
  await admin.disconnect();
  const remaining = new Map(
    ends.filter(({ high, low }) => BigInt(high) > BigInt(low)).map((e) => [e.partition, e.high]),
  );
  const messages: KafkaMessage[] = [];
  if (remaining.size === 0) return messages;
  // A throwaway group that never commits: reading changes nothing for anyone else.
  const consumer = kafka.consumer({ groupId: `dlq-tool-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.dlqTopic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          messages.push(message);
          const high = remaining.get(partition);
          if (high !== undefined && BigInt(message.offset) + 1n >= BigInt(high)) {
            remaining.delete(partition);
          }
          if (remaining.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return messages.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
}

function letters(messages: KafkaMessage[]): { letters: Letter[]; replayed: Set<string> } {
  const found: Letter[] = [];
  const replayed = new Set<string>();
  for (const message of messages) {
    const parsed = parseLetter(message);
    if (!parsed) continue;
    if ('replayed' in parsed) replayed.add(parsed.replayed);
    else found.push(parsed.letter);
  }
  return { letters: found, replayed };
}

function decodeLetter(letter: Letter): MappedEntry[] {
  const { topic, partition } = letter.source;
  const logType = topic.startsWith(LOG_TOPIC_PREFIX) ? topic.slice(LOG_TOPIC_PREFIX.length) : topic;
  return mapResourceLogs(decodeMessage(letter.value, 'auto'), logType, nowNs(), partition);
}

async function replay(selected: Letter[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const loki = new LokiClient({
    pushUrl: config.lokiPushUrl,
    tenant: config.lokiTenant,
    format: config.pushFormat,
    timeoutMs: config.pushTimeoutMs,
  });
  const limits = config.limits && new LimitChecker(config.limits);
  const byMessage = new Map<DeliveryMessage<MappedEntry>, Letter>();
  // Replayed records go to streams of their own, one set per replay run (label `dlq_replay`),
  // in timestamp order: Loki refuses an entry more than max_chunk_age/2 (1 h) older than its
  // stream's newest, and the source partition's streams have moved on since the letter was
  // written. The engine's "offsets" are positions in that order.
  const run = new Date().toISOString();
  const decoded = selected.map((letter) => {
    try {
      const records = decodeLetter(letter)
        .map((record) => ({ ...record, labels: { ...record.labels, dlq_replay: run } }))
        .sort((a, b) => (a.entry.timestampNs < b.entry.timestampNs ? -1 : 1));
      return { letter, records };
    } catch (error) {
      if (!(error instanceof UndecodableMessage)) throw error;
      return { letter, records: [], poison: error.message };
    }
  });
  const first = (records: MappedEntry[]) => records[0]?.entry.timestampNs ?? 0n;
  decoded.sort((a, b) => (first(a.records) < first(b.records) ? -1 : 1));
  const ordered = decoded.map(({ letter }) => letter);
  const messages = decoded.map(({ letter, records, poison }, index) => {
    const message: DeliveryMessage<MappedEntry> = {
      offset: String(index),
      records,
      ...(poison !== undefined && { poison: { reason: 'undecodable', detail: poison } }),
    };
    byMessage.set(message, letter);
    return message;
  });
  let stopping = false;
  process.once('SIGINT', () => (stopping = true));
  let pushed = 0;
  let deadLettered = 0;
  const marked = new Set<string>();
  await deliver<MappedEntry>(
    messages,
    {
      push: (records) => loki.attempt(toStreams([...records])),
      deadLetter: async (newLetters) => {
        await producer.send({
          topic: config.dlqTopic,
          acks: -1,
          compression: CompressionTypes.GZIP,
          messages: newLetters.map((item) => {
            const letter = byMessage.get(item.message);
            return {
              // Only the records refused again, re-encoded; poison stays as it was.
              value:
                item.records.length > 0
                  ? Buffer.from(encodeResourceLogs(regroup(item.records)))
                  : (letter?.value ?? null),
              headers: {
                'dlq.reason': item.reason,
                'dlq.detail': item.detail,
                'dlq.records': String(item.records.length),
                'dlq.source.topic': letter?.source.topic ?? '',
                'dlq.source.partition': String(letter?.source.partition ?? 0),
                'dlq.source.offset': letter?.source.offset ?? '',
                'dlq.replay.of': letter?.offset ?? '',
              },
            };
          }),
        });
        deadLettered += newLetters.reduce((sum, item) => sum + Math.max(1, item.records.length), 0);
      },
      // "Committing" a replayed letter is writing its marker to the ledger.
      commit: async (nextOffset) => {
        const done = ordered
          .slice(0, Number(nextOffset))
          .filter((letter) => !marked.has(letter.offset));
        if (done.length === 0) return;
        await producer.send({
          topic: config.dlqTopic,
          acks: -1,
          messages: done.map((letter) => ({
            value: null,
            headers: { [REPLAYED_HEADER]: letter.offset },
          })),
        });
        for (const letter of done) marked.add(letter.offset);
      },
      heartbeat: async () => undefined,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      stopRequested: () => stopping,
      ...(limits && { check: (record: MappedEntry) => limits.check(record) }),
      sizeOf: (record) => record.entry.line.length + 100,
      now: () => performance.now(),
      observe: {
        pushed: (records) => (pushed += records.length),
        retrying: (attempt, cause) => {
          if (attempt === 1 || attempt % 10 === 0) console.error(`retrying (${cause})`);
        },
      },
    },
    {
      maxEntries: config.batch.maxEntries,
      maxBytes: config.batch.maxBytes,
      retry: config.retry,
      heartbeatIntervalMs: 3000,
    },
  );
  await producer.disconnect();
  console.log(
    JSON.stringify({
      replayedLetters: marked.size,
      recordsPushed: pushed,
      recordsDeadLetteredAgain: deadLettered,
    }),
  );
}

const all = await readAll();
const { letters: found, replayed } = letters(all);
const selected = found.filter((letter) => matches(letter, filter));

if (command === 'list') {
  for (const letter of selected) {
    console.log(
      [
        letter.offset,
        new Date(letter.time).toISOString(),
        letter.reason,
        `${letter.source.topic}/${letter.source.partition}@${letter.source.offset}`,
        `${letter.records} records`,
        replayed.has(letter.offset) ? 'replayed' : 'pending',
        letter.truncated ? 'truncated' : '',
        letter.detail,
      ]
        .filter(Boolean)
        .join('\t'),
    );
  }
} else if (command === 'show') {
  const letter = found.find((item) => item.offset === argument);
  if (!letter) usage(`no letter at offset ${argument}`);
  let records: unknown;
  try {
    records = decodeLetter(letter).map(({ labels, entry }) => ({
      labels,
      timestampNs: entry.timestampNs.toString(),
      line: entry.line,
      structuredMetadata: entry.structuredMetadata,
    }));
  } catch (error) {
    records = `undecodable: ${error instanceof Error ? error.message : String(error)}`;
  }
  const { value, ...rest } = letter;
  console.log(
    JSON.stringify(
      { ...rest, bytes: value?.length ?? 0, replayed: replayed.has(letter.offset), records },
      null,
      2,
    ),
  );
} else {
  const pending = selected.filter((letter) => !replayed.has(letter.offset) && !letter.truncated);
  await replay(pending);
}
