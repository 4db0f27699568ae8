// The README's size-limits table against the files its numbers come from: the Collector's
// configuration, the topic specs, compose's topic-init, the API's and the consumer's defaults.
// A limit changed in one place and not in the others is how a record that fits one hop gets
// lost at the next.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { readApiConfig } from '../../src/api/config.ts';
import { readConsumerConfig } from '../../src/consumer/config.ts';
import { readTelemetryConfig } from '../../src/api/telemetry/config.ts';
import { KAFKA_TOPICS, TOPIC_MAX_MESSAGE_BYTES } from '../../src/shared/kafka-topics.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** Kafka's own default for the broker's message.max.bytes (1 MiB plus the batch overhead). */
const KAFKA_DEFAULT_MESSAGE_MAX_BYTES = 1_048_588;

interface CollectorConfig {
  receivers: { otlp: { protocols: { http: { max_request_body_size: number } } } };
  processors: Record<string, { log_statements?: { statements: string[] }[] }>;
  exporters: {
    kafka: {
      producer: { max_message_bytes: number };
      sending_queue: { batch: { sizer: string; min_size: number; max_size: number } };
    };
  };
  service: { pipelines: { logs: { processors: string[] } } };
}

const collector = parse(read('otel-collector/config.yaml')) as CollectorConfig;
const kafkaExporter = collector.exporters.kafka;

/** Row name (first cell) -> the numbers in backticks of its "Limit" cell. */
function readmeLimits(): Map<string, number[]> {
  const text = read('README.md');
  const start = text.indexOf('<!-- size-limits -->');
  const end = text.indexOf('<!-- /size-limits -->');
  expect(start, 'README.md has a size-limits table').to.be.greaterThan(-1);
  const rows = text
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1); // the header row
  return new Map(
    rows.map((row) => {
      const [hop = '', limit = ''] = row.split('|').slice(1, 3);
      const numbers = [...limit.matchAll(/`(\d+)`/g)].map((match) => Number(match[1]));
      return [hop.trim(), numbers];
    }),
  );
}

describe('size limits: the README table agrees with the configuration', () => {
  const limits = readmeLimits();
  const limit = (hop: string): number[] => {
    const numbers = limits.get(hop);
    expect(numbers, `README size-limits row "${hop}"`).to.not.equal(undefined);
    return numbers ?? [];
  };

  it('API headers: Node default, not overridden', () => {
    expect(limit('API request headers (all of them)')).to.deep.equal([http.maxHeaderSize]);
    expect(read('src/api/main.ts')).to.not.match(/maxHeaderSize|max-http-header-size/);
  });

  it('API body: BODY_LIMIT_BYTES default', () => {
    expect(limit('API request body')).to.deep.equal([readApiConfig({}).bodyLimitBytes]);
  });

  it("the API's record value limit and export request size: the telemetry defaults", () => {
    const telemetry = readTelemetryConfig({}, { name: 'shop-api', version: 'test' });
    expect(limit('one string value of a log record, API')).to.deep.equal([
      telemetry.recordLimits.attributeValueLengthLimit,
    ]);
    expect(limit('one OTLP export request from the API')).to.deep.equal([
      telemetry.maxExportRequestBytes,
    ]);
    // One request of the API fits one Kafka record of the Collector (and of the direct path).
    expect(telemetry.maxExportRequestBytes).to.be.at.most(
      kafkaExporter.sending_queue.batch.max_size,
    );
  });

  it("one string value: transform/bound's figure, and the processor is in the logs pipeline", () => {
    const statements = (collector.processors['transform/bound']?.log_statements ?? []).flatMap(
      (group) => group.statements,
    );
    const figures = new Set(statements.flatMap((s) => [...s.matchAll(/\b\d{3,}\b/g)].map(Number)));
    expect([...figures]).to.deep.equal(limit('one string value of a log record, Collector'));
    expect(collector.service.pipelines.logs.processors).to.include('transform/bound');
  });

  it("attributes per record: transform/bound's limit, and a bounded record fits one batch", () => {
    const statements = (collector.processors['transform/bound']?.log_statements ?? []).flatMap(
      (group) => group.statements,
    );
    const [kept] = limit('attributes kept per log record, Collector');
    expect(statements).to.include.members([
      `set(log.attributes["log.record.truncated"], true) where Len(log.attributes) > ${kept}`,
      `limit(log.attributes, ${kept}, ["log.type", "log.record.truncated"])`,
    ]);
    const [value = 0] = limit('one string value of a log record, Collector');
    // Every attribute and the body at the value limit, with room for keys and framing.
    expect(((kept ?? 0) + 1) * value * 1.1).to.be.below(kafkaExporter.sending_queue.batch.max_size);
  });

  it("one OTLP request: the receiver's max_request_body_size", () => {
    expect(limit('one OTLP request to the Collector')).to.deep.equal([
      collector.receivers.otlp.protocols.http.max_request_body_size,
    ]);
  });

  it('one Kafka record before compression: the batcher splits by bytes below the producer limit', () => {
    const { batch } = kafkaExporter.sending_queue;
    expect(batch.sizer).to.equal('bytes');
    expect(batch.min_size).to.equal(0);
    expect(limit('one Kafka record before compression')).to.deep.equal([batch.max_size]);
    // Room for the otlp_json encoding, which is larger than the protobuf the batcher measures.
    expect(batch.max_size * 2).to.be.at.most(kafkaExporter.producer.max_message_bytes);
  });

  it("the producer's limit equals every topic's max.message.bytes", () => {
    expect(limit('one Kafka record, producer')).to.deep.equal([
      kafkaExporter.producer.max_message_bytes,
    ]);
    expect(kafkaExporter.producer.max_message_bytes).to.equal(TOPIC_MAX_MESSAGE_BYTES);
    for (const topic of KAFKA_TOPICS) {
      expect(topic.maxMessageBytes, topic.name).to.equal(TOPIC_MAX_MESSAGE_BYTES);
    }
    expect(limit('one record batch after compression, topic')).to.deep.equal([
      TOPIC_MAX_MESSAGE_BYTES,
    ]);
  });

  it("compose's topic-init sets the same max.message.bytes", () => {
    const compose = parse(read('compose.yaml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; command?: string[] }>;
    };
    const init = compose.services['topic-init'];
    expect(Number(init?.environment?.['MAX_MESSAGE_BYTES'])).to.equal(TOPIC_MAX_MESSAGE_BYTES);
    expect(String(init?.command)).to.include('max.message.bytes="$$MAX_MESSAGE_BYTES"');
  });

  it("the broker keeps Kafka's default message.max.bytes, which is not below the topics'", () => {
    expect(limit('one record batch after compression, broker')).to.deep.equal([
      KAFKA_DEFAULT_MESSAGE_MAX_BYTES,
    ]);
    expect(read('stack/kafka.ts')).to.not.include('message.max.bytes=');
    expect(read('compose.yaml')).to.not.include('KAFKA_MESSAGE_MAX_BYTES');
    expect(KAFKA_DEFAULT_MESSAGE_MAX_BYTES).to.be.at.least(TOPIC_MAX_MESSAGE_BYTES);
  });

  it("one push to the store: the consumer's batch defaults", () => {
    const { batch } = readConsumerConfig({});
    expect(limit('one push to the store')).to.deep.equal([batch.maxBytes, batch.maxEntries]);
  });

  it('every row of the table is checked', () => {
    expect([...limits.keys()]).to.have.length(12);
  });
});
