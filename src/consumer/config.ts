/** The log consumer's settings, read once at start-up and validated with clear messages. */
import { ConfigError, readBoolean, readChoice, readInteger, readString } from '../shared/env.ts';
import { LOKI_DEFAULT_LIMITS, type StoreLimits } from './limits.ts';
import { DEFAULT_PORTS } from '../shared/topology.ts';

/**
 * kafkajs sends no heartbeats of its own while eachBatch runs; the delivery engine calls
 * heartbeat() at least this often while it waits (kafkajs throttles it to its own interval).
 * With one push attempt bounded by PUSH_TIMEOUT_MS, the longest silence is this plus that,
 * which the configuration keeps under the session timeout.
 */
export const HEARTBEAT_INTERVAL_MS = 3000;
/** The group session: a member silent for this long is removed and its partitions move. */
export const SESSION_TIMEOUT_MS = 30_000;

export interface ConsumerConfig {
  brokers: string[];
  clientId: string;
  groupId: string;
  /** Topics matching this are consumed, including ones created after start-up. */
  topicPattern: RegExp;
  dlqTopic: string;
  /**
   * A dead letter still refused by the broker for its size after gzip is truncated to this many
   * bytes (its original size and the cause go in headers). Under Kafka's default 1 MB limit.
   */
  dlqTruncateBytes: number;
  /** Loki's push endpoint (or that of anything speaking its push API, e.g. VictoriaLogs). */
  lokiPushUrl: string;
  /** Sent as X-Scope-OrgID when set (multi-tenant Loki). */
  lokiTenant: string | undefined;
  pushFormat: 'protobuf' | 'json';
  /** How Kafka message values are decoded; `auto` sniffs JSON by its first byte. */
  messageEncoding: 'auto' | 'otlp_proto' | 'otlp_json';
  batch: { maxEntries: number; maxBytes: number; maxWaitMs: number };
  /**
   * Partitions whose batches are decoded and pushed at the same time; while one push waits
   * for the store, the next partition's records are being decoded. Each partition stays in
   * order: it has at most one batch in flight.
   */
  partitionsInParallel: number;
  retry: { initialDelayMs: number; maxDelayMs: number };
  pushTimeoutMs: number;
  /** Client-side mirror of Loki's limits; undefined when STORE_LIMITS_CHECK=false. */
  limits: StoreLimits | undefined;
  /** How often the topic list is checked for new topics matching the pattern. */
  topicRefreshMs: number;
  metricsHost: string;
  metricsPort: number;
}

export function readConsumerConfig(env: NodeJS.ProcessEnv): ConsumerConfig {
  const brokers = readString(env, 'KAFKA_BROKERS', `127.0.0.1:${DEFAULT_PORTS.kafka}`)
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  for (const broker of brokers) {
    if (!/^[\w.-]+:\d+$/.test(broker)) {
      throw new ConfigError(`KAFKA_BROKERS must be host:port[,host:port...], got "${broker}"`);
    }
  }
  const lokiPushUrl = readString(
    env,
    'LOKI_PUSH_URL',
    `http://127.0.0.1:${DEFAULT_PORTS.loki}/loki/api/v1/push`,
  );
  if (!/^https?:\/\/[^/]+/.test(lokiPushUrl)) {
    throw new ConfigError(`LOKI_PUSH_URL must be an http(s) URL, got "${lokiPushUrl}"`);
  }
  const initialDelayMs = readInteger(env, 'RETRY_INITIAL_DELAY_MS', 200, { min: 1 });
  // One push attempt plus one heartbeat interval is the longest the group hears nothing.
  const pushTimeoutMs = readInteger(env, 'PUSH_TIMEOUT_MS', 10_000, {
    min: 1,
    max: SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS * 2,
  });
  return {
    brokers,
    clientId: readString(env, 'KAFKA_CLIENT_ID', 'log-consumer'),
    groupId: readString(env, 'CONSUMER_GROUP', 'loki-shipper'),
    topicPattern: new RegExp(readString(env, 'TOPIC_PATTERN', '^api-logs-(?!dlq$).+')),
    dlqTopic: readString(env, 'DLQ_TOPIC', 'api-logs-dlq'),
    dlqTruncateBytes: readInteger(env, 'DLQ_TRUNCATE_BYTES', 512 * 1024, { min: 1024 }),
    lokiPushUrl,
    lokiTenant: env['LOKI_TENANT']?.trim() || undefined,
    pushFormat: readChoice(env, 'LOKI_PUSH_FORMAT', ['protobuf', 'json'], 'protobuf'),
    messageEncoding: readChoice(
      env,
      'MESSAGE_ENCODING',
      ['auto', 'otlp_proto', 'otlp_json'],
      'auto',
    ),
    batch: {
      maxEntries: readInteger(env, 'BATCH_MAX_ENTRIES', 1000, { min: 1 }),
      // Loki's default grpc_server_max_recv_msg_size is 4 MiB; stay well under it.
      maxBytes: readInteger(env, 'BATCH_MAX_BYTES', 1024 * 1024, { min: 1024 }),
      maxWaitMs: readInteger(env, 'BATCH_MAX_WAIT_MS', 1000, { min: 1 }),
    },
    partitionsInParallel: readInteger(env, 'PARTITIONS_IN_PARALLEL', 1, { min: 1, max: 64 }),
    retry: {
      initialDelayMs,
      maxDelayMs: readInteger(env, 'RETRY_MAX_DELAY_MS', 30_000, { min: initialDelayMs }),
    },
    pushTimeoutMs,
    limits: readBoolean(env, 'STORE_LIMITS_CHECK', true) ? readLimits(env) : undefined,
    topicRefreshMs: readInteger(env, 'TOPIC_REFRESH_MS', 30_000, { min: 100 }),
    metricsHost: readString(env, 'METRICS_HOST', '0.0.0.0'),
    metricsPort: readInteger(env, 'METRICS_PORT', DEFAULT_PORTS.consumerMetrics, {
      min: 0,
      max: 65535,
    }),
  };
}

function readLimits(env: NodeJS.ProcessEnv): StoreLimits {
  const d = LOKI_DEFAULT_LIMITS;
  const seconds = (name: string, fallbackMs: number) =>
    readInteger(env, name, fallbackMs / 1000, { min: 1 }) * 1000;
  return {
    maxLineBytes: readInteger(env, 'STORE_MAX_LINE_BYTES', d.maxLineBytes, { min: 1 }),
    maxStructuredMetadataBytes: readInteger(
      env,
      'STORE_MAX_STRUCTURED_METADATA_BYTES',
      d.maxStructuredMetadataBytes,
      { min: 1 },
    ),
    maxStructuredMetadataEntries: readInteger(
      env,
      'STORE_MAX_STRUCTURED_METADATA_ENTRIES',
      d.maxStructuredMetadataEntries,
      { min: 1 },
    ),
    maxLabelValueBytes: readInteger(env, 'STORE_MAX_LABEL_VALUE_BYTES', d.maxLabelValueBytes, {
      min: 1,
    }),
    maxLabelNameBytes: readInteger(env, 'STORE_MAX_LABEL_NAME_BYTES', d.maxLabelNameBytes, {
      min: 1,
    }),
    rejectOldMaxAgeMs: seconds('STORE_REJECT_OLD_MAX_AGE_S', d.rejectOldMaxAgeMs),
    creationGracePeriodMs: seconds('STORE_CREATION_GRACE_PERIOD_S', d.creationGracePeriodMs),
    maxChunkAgeMs: seconds('STORE_MAX_CHUNK_AGE_S', d.maxChunkAgeMs),
  };
}
