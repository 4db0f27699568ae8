// The single list of Kafka topics the pipeline uses. Topics are created by the project
// (`npm run services:up`, compose init) with these partition counts; brokers never
// auto-create them, so a misspelt topic fails loudly instead of appearing silently.

export const LOG_TOPIC_PREFIX = 'api-logs-';

/** Log types the Collector routes to a topic of their own; anything else becomes `other`. */
export const LOG_TYPES = ['access', 'app', 'error', 'canary', 'other'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export const DLQ_TOPIC = `${LOG_TOPIC_PREFIX}dlq`;

/**
 * Largest record batch a log topic accepts (`max.message.bytes`, after compression), set on
 * every topic when it is created instead of inheriting the broker's default. The Collector's
 * producer uses the same figure (otel-collector/config.yaml, `producer.max_message_bytes`);
 * test/unit/size-limits.test.ts keeps the two, compose.yaml and the README in step.
 */
export const TOPIC_MAX_MESSAGE_BYTES = 1_048_576;

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Topic-level `max.message.bytes`. */
  readonly maxMessageBytes: number;
}

export const KAFKA_TOPICS: readonly TopicSpec[] = [
  { name: `${LOG_TOPIC_PREFIX}access`, partitions: 3, maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES },
  { name: `${LOG_TOPIC_PREFIX}app`, partitions: 3, maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES },
  { name: `${LOG_TOPIC_PREFIX}error`, partitions: 3, maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES },
  // Sequence-numbered records of the pipeline canary (src/canary), about one a second.
  { name: `${LOG_TOPIC_PREFIX}canary`, partitions: 1, maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES },
  // Unknown types are rare and unordered by nature: one partition is enough.
  { name: `${LOG_TOPIC_PREFIX}other`, partitions: 1, maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES },
  // Records the consumer could not deliver; one partition keeps them in arrival order.
  { name: DLQ_TOPIC, partitions: 1, maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES },
];

export function isLogType(value: unknown): value is LogType {
  return typeof value === 'string' && (LOG_TYPES as readonly string[]).includes(value);
}

/** Mirrors the Collector's routing (otel-collector/config.yaml, transform/route). */
export function logTopicFor(type: unknown): string {
  return `${LOG_TOPIC_PREFIX}${isLogType(type) ? type : 'other'}`;
}
