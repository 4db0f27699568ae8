/**
 * The consumer's own metrics, served in Prometheus format on its /metrics endpoint.
 */
import type { Attributes } from '@opentelemetry/api';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { createSelfMetrics } from '../shared/self-observability.ts';

export interface ConsumerMetrics {
  readonly prometheus: PrometheusExporter;
  consumed(topic: string, count: number): void;
  pushed(topic: string, count: number, seconds: number, entries: number): void;
  retried(cause: string): void;
  deadLettered(topic: string, reason: string, count: number): void;
  setLag(topic: string, partition: number, lag: number): void;
  shutdown(): Promise<void>;
}

export function createConsumerMetrics(serviceName: string, version: string): ConsumerMetrics {
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
    description: 'Kafka messages sent to the dead-letter topic',
    unit: '{message}',
  });
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
    retried: (cause) =>
      retries.add(1, { 'error.type': cause.startsWith('HTTP') ? cause : 'network' }),
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
