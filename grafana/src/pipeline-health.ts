/** "Log pipeline health": API SDK -> Collector -> Kafka -> consumer -> Loki, stage by stage. */
import { DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboardLink, logMetrics, promVariable, stat, timeseries } from './panels.ts';
import { PIPELINE, VARIABLE_QUERIES } from './queries.ts';

export const PIPELINE_HEALTH_UID = 'log-pipeline-health';

export function pipelineHealthDashboard(): Dashboard {
  return new DashboardBuilder('Log pipeline health')
    .uid(PIPELINE_HEALTH_UID)
    .description(
      'Where log records are, and whether any are lost: API batch processor, Collector, Kafka consumer, Loki.',
    )
    .tags(['log-pipeline', 'opentelemetry'])
    .time({ from: 'now-30m', to: 'now' })
    .refresh('30s')
    .readonly()
    .link(dashboardLink('API', 'shop-api'))
    .withVariable(promVariable('api', 'API job', VARIABLE_QUERIES.api))
    .withVariable(promVariable('collector', 'Collector job', VARIABLE_QUERIES.collector))
    .withVariable(promVariable('consumer', 'Consumer job', VARIABLE_QUERIES.consumer))
    .withVariable(promVariable('canary', 'Canary job', VARIABLE_QUERIES.canary))
    .withRow(new RowBuilder('At a glance'))
    .withPanel(
      stat('Canary records missing', PIPELINE.canaryMissing, {
        unit: 'short',
        description:
          'Canary records not found in Loki within their deadline: logs are being lost or are stuck. Alert: CanaryRecordsMissing.',
        thresholds: [[1, 'red']],
      }),
    )
    .withPanel(
      stat('Consumer lag', PIPELINE.consumerLag, {
        unit: 'short',
        description: 'Kafka messages not yet shipped to Loki, all topics.',
        thresholds: [
          [1000, 'orange'],
          [10000, 'red'],
        ],
      }),
    )
    .withPanel(
      stat('Collector queue', PIPELINE.collectorQueueSize, {
        unit: 'short',
        description: 'Batches waiting in the Kafka exporter persistent queue.',
        thresholds: [
          [100, 'orange'],
          [2500, 'red'],
        ],
      }),
    )
    .withPanel(
      stat('Dead-lettered', PIPELINE.consumerDeadLettered, {
        unit: 'short',
        description:
          'Messages sent to api-logs-dlq in the interval: undecodable or refused by Loki.',
        thresholds: [[1, 'red']],
      }),
    )
    .withPanel(
      stat('Since last push', PIPELINE.consumerSinceLastPush, {
        unit: 's',
        description: 'Time since the consumer last got an acknowledgement from Loki.',
        thresholds: [
          [60, 'orange'],
          [300, 'red'],
        ],
      }),
    )
    .withPanel(
      stat('Dropped by the Collector (1h)', PIPELINE.collectorDropped, {
        unit: 'short',
        description:
          'Log records the Collector accepted and then failed to write to Kafka for good (a permanent error, e.g. a Kafka record over the producer limit; transient errors are retried without limit). Alert: LogRecordsDropped.',
        thresholds: [[1, 'red']],
      }),
    )
    .withPanel(
      stat('Dropped by the API (1h)', PIPELINE.sdkDropped, {
        unit: 'short',
        description:
          "Log records the API's SDK dropped: batch queue full, or a batch given up after its retry window. Alert: LogRecordsDropped.",
        thresholds: [[1, 'red']],
      }),
    )
    .withPanel(
      stat('Failed exports (1h)', PIPELINE.sdkExportFailed, {
        unit: 'short',
        description:
          "The API's failed OTLP export attempts (Collector away, refusing, or the request too big). Retried until the retry window ends; records are lost only when they show as dropped. Alert: LogExportFailing.",
        thresholds: [[1, 'orange']],
      }),
    )
    .withRow(new RowBuilder('Canary (end to end)'))
    .withPanel(
      timeseries(
        'Canary end-to-end latency',
        [PIPELINE.canaryLatencyP50, PIPELINE.canaryLatencyP99],
        {
          unit: 's',
          description: 'From the canary emitting a record to finding it in Loki.',
        },
      ),
    )
    .withPanel(
      timeseries(
        'Canary missing and duplicated',
        [PIPELINE.canaryMissing, PIPELINE.canaryDuplicated],
        {
          unit: 'short',
          description:
            'Missing: not found within the deadline. Duplicated: found more than once (at-least-once delivery).',
        },
      ),
    )
    .withRow(new RowBuilder('API (OpenTelemetry SDK)'))
    .withPanel(
      timeseries('SDK log records', [PIPELINE.sdkLogsProcessed, PIPELINE.sdkLogsExported], {
        unit: 'short',
        description:
          'Processed by the batch processor and exported over OTLP; error_type=queue_full means dropped.',
      }),
    )
    .withPanel(
      timeseries('SDK batch queue', [PIPELINE.sdkQueueSize], {
        unit: 'short',
        description:
          'Records buffered in the API before export (bounded by OTEL_BLRP_MAX_QUEUE_SIZE).',
      }),
    )
    .withRow(new RowBuilder('Collector'))
    .withPanel(
      timeseries('Log records in and out', [PIPELINE.collectorAccepted, PIPELINE.collectorSent], {
        unit: 'short',
        description: 'Accepted by the OTLP receiver, sent to Kafka by the exporter (records/s).',
      }),
    )
    .withPanel(
      timeseries('Refused and failed', [PIPELINE.collectorRefused, PIPELINE.collectorSendFailed], {
        unit: 'short',
        description:
          'Refused at the receiver (memory limiter) or failed for good by the exporter (records/s).',
      }),
    )
    .withPanel(
      timeseries('Exporter queue', [PIPELINE.collectorQueueSize, PIPELINE.collectorQueueCapacity], {
        unit: 'short',
        width: 24,
        description: 'A growing queue means Kafka is slow or down; the queue survives restarts.',
      }),
    )
    .withRow(new RowBuilder('Consumer (Kafka to Loki)'))
    .withPanel(
      timeseries('Throughput by topic', [PIPELINE.consumerConsumed, PIPELINE.consumerPushed], {
        unit: 'short',
        description: 'Records read from Kafka and acknowledged by Loki (records/s).',
      }),
    )
    .withPanel(
      timeseries('Lag by topic', [PIPELINE.consumerLag], {
        unit: 'short',
        description: 'Messages behind the end of each topic (sampled every 10 s).',
      }),
    )
    .withPanel(
      timeseries('Partitions per consumer instance', [PIPELINE.consumerAssignedPartitions], {
        unit: 'short',
        description:
          "Each instance's share of the group's partitions; an instance at 0 is idle (more instances than partitions).",
      }),
    )
    .withPanel(
      timeseries(
        'Push retries and dead letters',
        [PIPELINE.consumerRetries, PIPELINE.consumerDeadLettered],
        {
          unit: 'short',
          description:
            'Retries are transient failures (network, 429, 5xx); dead letters are records Loki refused.',
        },
      ),
    )
    .withPanel(
      timeseries(
        'Push latency',
        [PIPELINE.consumerPushLatencyP50, PIPELINE.consumerPushLatencyP99],
        {
          unit: 's',
          description: 'From first attempt to acknowledgement, retries included.',
        },
      ),
    )
    .withPanel(
      timeseries('Entries per push', [PIPELINE.consumerBatchSize], {
        unit: 'short',
        description: 'Median entries per push request.',
      }),
    )
    .withPanel(
      logMetrics(
        'Loki ingest by log type',
        [PIPELINE.logVolumeByType],
        'What arrived at the end of the pipeline, per log type.',
      ),
    )
    .withRow(new RowBuilder('Memory'))
    .withPanel(
      timeseries('Resident memory', [PIPELINE.memoryRss], {
        unit: 'bytes',
        description:
          'RSS of each component. Growth with a flat V8 heap (next panel) is the allocator or the heap reserving space, not a leak.',
      }),
    )
    .withPanel(
      timeseries('V8 heap used', [PIPELINE.memoryHeapUsed], {
        unit: 'bytes',
        description:
          'Live JavaScript objects of the Node components; a leak shows as a rising floor between collections.',
      }),
    )
    .build();
}
