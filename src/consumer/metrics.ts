/**
 * The consumer's own metrics, served in Prometheus format on its /metrics endpoint.
 */
import type { Attributes } from '@opentelemetry/api';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { createSelfMetrics } from '../shared/self-observability.ts';
import { DEAD_LETTER_REASONS } from './rejections.ts';

/** `error.type` values of `log_consumer_push_retries_total`, all exposed at 0 from the start. */
export const RETRY_ERROR_TYPES = ['network', 'timeout', '429', '5xx', '4xx', 'dead_letter_write'];

/** Maps a retry cause (as the delivery engine reports it) to its stable `error.type`. */
export function retryErrorType(cause: string): string {
  if (cause.startsWith('dead-letter topic')) return 'dead_letter_write';
  if (cause.startsWith('HTTP 429')) return '429';
  if (cause.startsWith('HTTP 5')) return '5xx';
  if (cause.startsWith('HTTP 4')) return '4xx';
  if (cause.startsWith('TimeoutError')) return 'timeout';
  return 'network';
}

export interface ConsumerMetrics {
  readonly prometheus: PrometheusExporter;
  consumed(topic: string, count: number): void;
  pushed(topic: string, count: number, seconds: number, entries: number): void;
  /** A push or dead-letter write failed with `cause` and is retried. */
  retried(cause: string): void;
  /** `count` records (1 for a whole undecodable message) were dead-lettered for `reason`. */
  deadLettered(topic: string, reason: string, count: number): void;
  /** Whether the store acknowledges pushes; `cause` is its last answer when not. */
  setStoreUp(up: boolean): void;
  /** `count` records are sent again while a refused push is narrowed down. */
  resentWhileIsolating(topic: string, count: number): void;
  /** The consumer (re)joined its group: a rebalance when it happens after the first. */
  joinedGroup(): void;
  /**
   * The partitions the group gave this instance at its last join, as topic -> partition
   * numbers; topics absent from it (or all, after a crash) read 0.
   */
  setAssignment(assignment: Readonly<Record<string, readonly number[]>>): void;
  setLag(topic: string, partition: number, lag: number): void;
  shutdown(): Promise<void>;
}

/**
 * @param topics log topics whose per-topic counters are exposed at 0 from the first scrape, so
 *   that `increase()` in alert rules sees the first event
 */
export function createConsumerMetrics(
  serviceName: string,
  version: string,
  topics: readonly string[] = [],
): ConsumerMetrics {
  const { prometheus, meter, shutdown } = createSelfMetrics(
    { 'service.name': serviceName, 'service.version': version },
    'log-consumer',
  );

  const consumed = meter.createCounter('log_consumer.records.consumed', {
    description: 'Log records read from Kafka',
    unit: '{record}',
  });
  const pushed = meter.createCounter('log_consumer.records.pushed', {
    description: 'Log records acknowledged by the log store',
    unit: '{record}',
  });
  const retries = meter.createCounter('log_consumer.push.retries', {
    description: 'Push attempts that failed transiently and were retried',
    unit: '{retry}',
  });
  const deadLetters = meter.createCounter('log_consumer.records.dead_lettered', {
    description: 'Log records sent to the dead-letter topic (an undecodable message counts as one)',
    unit: '{record}',
  });
  const resent = meter.createCounter('log_consumer.records.resent', {
    description:
      'Records pushed again while a refused push is narrowed down to the refused records',
    unit: '{record}',
  });
  const groupJoins = meter.createCounter('log_consumer.group.joins', {
    description: 'Times the consumer joined its consumer group; more than one means rebalances',
    unit: '{join}',
  });
  // This instance's share of the group's partitions: with several instances, each one's gauge
  // shows how the partitions were spread (their sum per topic is the topic's partition count).
  const assigned = new Map<string, number>(topics.map((topic) => [topic, 0]));
  meter
    .createObservableGauge('log_consumer.assigned_partitions', {
      description: 'Partitions of a topic assigned to this consumer instance by its group',
      unit: '{partition}',
    })
    .addCallback((result) => {
      for (const [topic, count] of assigned) {
        result.observe(count, { 'messaging.destination.name': topic });
      }
    });
  let storeUp = 1;
  meter
    .createObservableGauge('log_consumer.store.up', {
      description: '1 while the log store acknowledges pushes, 0 while it fails or refuses them',
      unit: '1',
    })
    .addCallback((result) => result.observe(storeUp));
  // Every known series exists from the first scrape, at 0.
  for (const topic of topics) {
    const attributes = { 'messaging.destination.name': topic };
    consumed.add(0, attributes);
    pushed.add(0, attributes);
    resent.add(0, attributes);
    for (const reason of DEAD_LETTER_REASONS) {
      deadLetters.add(0, { ...attributes, 'error.type': reason });
    }
  }
  for (const type of RETRY_ERROR_TYPES) retries.add(0, { 'error.type': type });
  groupJoins.add(0);
  const pushDuration = meter.createHistogram('log_consumer.push.duration', {
    description: 'Time from first push attempt to acknowledgement, retries included',
    unit: 's',
    advice: {
      explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    },
  });
  const batchSize = meter.createHistogram('log_consumer.batch.size', {
    description: 'Entries per push request',
    unit: '{record}',
    advice: { explicitBucketBoundaries: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000] },
  });
  const lags = new Map<string, { attributes: Attributes; lag: number }>();
  meter
    .createObservableGauge('log_consumer.lag', {
      description: 'Messages in a partition not yet committed by the consumer group',
      unit: '{message}',
    })
    .addCallback((result) => {
      for (const { attributes, lag } of lags.values()) result.observe(lag, attributes);
    });
  let lastPushSeconds = 0;
  meter
    .createObservableGauge('log_consumer.last_push.time', {
      description: 'Unix time of the last successful push (0 before the first)',
      unit: 's',
    })
    .addCallback((result) => result.observe(lastPushSeconds));

  return {
    prometheus,
    consumed: (topic, count) => consumed.add(count, { 'messaging.destination.name': topic }),
    pushed: (topic, count, seconds, entries) => {
      pushed.add(count, { 'messaging.destination.name': topic });
      pushDuration.record(seconds);
      batchSize.record(entries);
      lastPushSeconds = Date.now() / 1000;
    },
    retried: (cause) => retries.add(1, { 'error.type': retryErrorType(cause) }),
    setStoreUp: (up) => (storeUp = up ? 1 : 0),
    joinedGroup: () => groupJoins.add(1),
    setAssignment: (assignment) => {
      for (const topic of assigned.keys()) assigned.set(topic, 0);
      for (const [topic, partitions] of Object.entries(assignment)) {
        assigned.set(topic, partitions.length);
      }
    },
    resentWhileIsolating: (topic, count) =>
      resent.add(count, { 'messaging.destination.name': topic }),
    deadLettered: (topic, reason, count) =>
      deadLetters.add(count, { 'messaging.destination.name': topic, 'error.type': reason }),
    setLag: (topic, partition, lag) =>
      lags.set(`${topic}/${partition}`, {
        attributes: {
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
        },
        lag,
      }),
    shutdown,
  };
}
