/**
 * A log record exporter that writes straight to Kafka, bypassing the Collector (the
 * swap-exporter path, OTEL_LOGS_EXPORTER=kafka). It writes what the Collector's kafka exporter
 * writes: one OTLP ExportLogsServiceRequest per message, `otlp_proto` or `otlp_json`, on the
 * topic `api-logs-<log.type>`, so the consumer cannot tell the two paths apart.
 */
import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import { createKafka } from '../../shared/kafka-client.ts';
import { logTopicFor } from '../../shared/kafka-topics.ts';

export interface KafkaLogRecordExporterOptions {
  brokers: string[];
  encoding: 'otlp_proto' | 'otlp_json';
  clientId?: string;
}

export class KafkaLogRecordExporter implements LogRecordExporter {
  readonly #encoding: KafkaLogRecordExporterOptions['encoding'];
  readonly #producer: Producer;
  #connected: Promise<void> | undefined;

  constructor({ brokers, encoding, clientId = 'shop-api-logs' }: KafkaLogRecordExporterOptions) {
    this.#encoding = encoding;
    const kafka = createKafka({ clientId, brokers, logLevel: 'nothing' });
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    // The exporter's own produce requests must not be traced (or logged) by the instrumentations.
    context.with(suppressTracing(context.active()), () => {
      this.#send(records).then(
        () => resultCallback({ code: ExportResultCode.SUCCESS }),
        (error: unknown) =>
          resultCallback({
            code: ExportResultCode.FAILED,
            error: error instanceof Error ? error : new Error(String(error)),
          }),
      );
    });
  }

  async #send(records: ReadableLogRecord[]): Promise<void> {
    this.#connected ??= this.#producer.connect().catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    });
    await this.#connected;
    const byTopic = new Map<string, ReadableLogRecord[]>();
    for (const record of records) {
      const topic = logTopicFor(record.attributes['log.type']);
      const group = byTopic.get(topic) ?? [];
      group.push(record);
      byTopic.set(topic, group);
    }
    const serializer = this.#encoding === 'otlp_json' ? JsonLogsSerializer : ProtobufLogsSerializer;
    await this.#producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.GZIP,
      topicMessages: [...byTopic].map(([topic, group]) => {
        const value = serializer.serializeRequest(group);
        if (!value) throw new Error(`could not serialize ${group.length} log records`);
        return { topic, messages: [{ value: Buffer.from(value) }] };
      }),
    });
  }

  async shutdown(): Promise<void> {
    if (this.#connected) await this.#producer.disconnect();
  }

  async forceFlush(): Promise<void> {}
}
