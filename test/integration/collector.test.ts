import { expect } from 'chai';
import kafkajs from 'kafkajs';
import {
  KAFKA_TOPICS,
  LOG_TOPIC_PREFIX,
  TOPIC_MAX_MESSAGE_BYTES,
  logTopicFor,
} from '../../src/shared/kafka-topics.ts';
import { decodeExportLogsServiceRequest } from '../../src/shared/otlp-logs.ts';
import type { AttributeValue } from '../../src/shared/otlp-logs.ts';
import { collectFrom, endpoint, kafka, poll, uniqueToken } from './support.ts';
import type { Collected } from './support.ts';

const LOG_TOPICS = KAFKA_TOPICS.map((topic) => topic.name).filter(
  (name) => name.startsWith(LOG_TOPIC_PREFIX) && name !== `${LOG_TOPIC_PREFIX}dlq`,
);

interface Arrival {
  topic: string;
  /** Size of the Kafka record's value that carried it. */
  messageBytes: number;
  body: AttributeValue;
  attributes: Record<string, AttributeValue>;
  recordType: AttributeValue;
  resource: Record<string, AttributeValue>;
}

function otlpRecord(
  body: string,
  logType: string | undefined,
  extra: Record<string, string> = {},
): object {
  const attributes = [
    ...(logType === undefined ? [] : [{ key: 'log.type', value: { stringValue: logType } }]),
    ...Object.entries(extra).map(([key, value]) => ({ key, value: { stringValue: value } })),
  ];
  return {
    timeUnixNano: `${BigInt(Date.now()) * 1_000_000n}`,
    severityNumber: 9,
    severityText: 'INFO',
    body: { stringValue: body },
    attributes,
  };
}

async function postLogs(records: object[]): Promise<void> {
  const response = await sendLogs(records);
  expect(response.status, await response.text()).to.equal(200);
}

function sendLogs(records: object[]): Promise<Response> {
  return fetch(`${endpoint.otlpHttp}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceLogs: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { stringValue: 'integration-test' } }],
          },
          // One resource and one scope for every type: the Collector has to split them.
          scopeLogs: [{ scope: { name: 'integration' }, logRecords: records }],
        },
      ],
    }),
  });
}

/** The Collector's own counter, summed over its label sets (0 while it has no series). */
async function collectorCounter(name: string): Promise<number> {
  const text = await (await fetch(endpoint.collectorMetrics)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

async function arrivalsOf(collected: Collected, token: string, count: number): Promise<Arrival[]> {
  return poll(
    async () => {
      const found = arrivals(collected, token);
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

/** Decodes every otlp_proto message seen so far and keeps the records carrying `token`. */
function arrivals(collected: Collected, token: string): Arrival[] {
  const found: Arrival[] = [];
  for (const { topic, message } of collected.messages) {
    if (!message.value) continue;
    let decoded: ReturnType<typeof decodeExportLogsServiceRequest>;
    try {
      decoded = decodeExportLogsServiceRequest(message.value);
    } catch {
      continue; // other suites put poison messages on these topics on purpose
    }
    for (const resourceLogs of decoded) {
      for (const scope of resourceLogs.scopes) {
        for (const record of scope.records) {
          if (typeof record.body === 'string' && record.body.includes(token)) {
            found.push({
              topic,
              messageBytes: message.value.length,
              body: record.body,
              attributes: record.attributes,
              recordType: record.attributes['log.type'] ?? null,
              resource: resourceLogs.resource,
            });
          }
        }
      }
    }
  }
  return found;
}

describe('OpenTelemetry Collector: OTLP/HTTP logs to Kafka topics', () => {
  let collected: Collected;

  before(async () => {
    collected = await collectFrom(LOG_TOPICS, 'it-collector');
  });

  after(async () => {
    await collected.stop();
  });

  it('delivers an OTLP log record to api-logs-<type>', async () => {
    const token = uniqueToken('single');
    await postLogs([otlpRecord(`${token} GET /health`, 'access')]);
    const [arrival] = await poll(
      async () => {
        const found = arrivals(collected, token);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(arrival?.topic).to.equal('api-logs-access');
    expect(arrival?.resource['service.name']).to.equal('integration-test');
    expect(arrival?.resource['log.type']).to.equal('access');
  });

  it('splits a mixed batch so that every record lands on the topic of its type', async () => {
    const token = uniqueToken('mixed');
    const types = ['access', 'app', 'error', 'bogus', undefined];
    await postLogs(types.map((type) => otlpRecord(`${token} type=${type ?? 'none'}`, type)));

    const found = await poll(
      async () => {
        const seen = arrivals(collected, token);
        return seen.length >= types.length ? seen : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const topicOf = Object.fromEntries(
      found.map((arrival) => [String(arrival.body).split('type=')[1], arrival.topic]),
    );
    expect(topicOf).to.deep.equal({
      access: 'api-logs-access',
      app: 'api-logs-app',
      error: 'api-logs-error',
      bogus: 'api-logs-other',
      none: 'api-logs-other',
    });
    // Routing agrees with the helper the consumer uses, and the record keeps its own type.
    for (const arrival of found) {
      expect(arrival.topic).to.equal(logTopicFor(arrival.recordType));
      expect(arrival.resource['kafka.topic']).to.equal(arrival.topic);
    }
    expect(found.find((arrival) => arrival.recordType === 'bogus')?.resource['log.type']).to.equal(
      'other',
    );
    expect(found).to.have.length(types.length);
  });

  it("sets every topic's max.message.bytes to the producer's limit", async () => {
    const admin = kafka('it-collector-admin').admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: KAFKA_TOPICS.map((topic) => ({
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic.name,
          configNames: ['max.message.bytes'],
        })),
      });
      const limits = Object.fromEntries(
        resources.map((resource) => [
          resource.resourceName,
          Number(resource.configEntries[0]?.configValue),
        ]),
      );
      expect(limits).to.deep.equal(
        Object.fromEntries(KAFKA_TOPICS.map((topic) => [topic.name, TOPIC_MAX_MESSAGE_BYTES])),
      );
    } finally {
      await admin.disconnect();
    }
  });

  // One OTLP request from the SDK can be larger than one Kafka record may be: 90 access
  // records with a 12 000-byte User-Agent each are about 1.1 MB. The exporter's batcher splits
  // the request between records; as one record the producer refused it as MESSAGE_TOO_LARGE
  // and all 90 were dropped.
  it('splits a request larger than a Kafka record may be: all 90 records of 12 KB arrive', async () => {
    const token = uniqueToken('big');
    const userAgent = 'u'.repeat(12_000);
    const failedBefore = await collectorCounter('otelcol_exporter_send_failed_log_records');
    await postLogs(
      Array.from({ length: 90 }, (_, i) =>
        otlpRecord(`${token} n=${i}`, 'access', { 'user_agent.original': userAgent }),
      ),
    );
    const found = await arrivalsOf(collected, token, 90);
    expect(new Set(found.map((arrival) => arrival.body)).size).to.equal(90);
    expect(found.every((arrival) => arrival.topic === 'api-logs-access')).to.equal(true);
    const intact = found.filter(
      (arrival) => arrival.attributes['user_agent.original'] === userAgent,
    );
    expect(intact).to.have.length(90);
    // More than one Kafka record carried them, each within the topics' limit.
    const sizes = new Set(found.map((arrival) => arrival.messageBytes));
    expect(sizes.size).to.be.greaterThan(1);
    for (const size of sizes) expect(size).to.be.at.most(TOPIC_MAX_MESSAGE_BYTES);
    expect(await collectorCounter('otelcol_exporter_send_failed_log_records')).to.equal(
      failedBefore,
    );
  });

  // A record that is itself bigger than a Kafka record cannot be split; the Collector cuts its
  // oversized values (transform/bound) so that it still travels, and says so on the record.
  it('cuts a 2 MB body and a 2 MB attribute to 16 KiB instead of dropping the record', async () => {
    const token = uniqueToken('huge');
    const neighbour = uniqueToken('neighbour');
    await postLogs([
      otlpRecord(`${token} ${'b'.repeat(2_000_000)}`, 'app', {
        'huge.value': 'v'.repeat(2_000_000),
      }),
      otlpRecord(`${neighbour} after the huge one`, 'app'),
    ]);
    const [arrival] = await arrivalsOf(collected, token, 1);
    expect(String(arrival?.body)).to.have.length(16_384);
    expect(String(arrival?.attributes['huge.value'])).to.have.length(16_384);
    expect(arrival?.attributes['log.record.truncated']).to.equal(true);
    expect(arrival?.messageBytes).to.be.at.most(TOPIC_MAX_MESSAGE_BYTES);
    // The record next to it in the same request is untouched.
    const [next] = await arrivalsOf(collected, neighbour, 1);
    expect(next?.attributes['log.record.truncated']).to.equal(undefined);
  });

  // 40 values of 16 000 bytes are one record of 640 KB, over the batcher's max_size even with
  // every value under 16 KiB. Kept whole, the batcher would drop it and, at this release, the
  // records after it in the same request; instead it keeps 24 attributes and says so.
  it('keeps 24 attributes of a record with 40 big ones, and the record after it', async () => {
    const token = uniqueToken('wide');
    const neighbour = uniqueToken('neighbour');
    const wide = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`wide.${i}`, 'w'.repeat(16_000)]),
    );
    await postLogs([
      otlpRecord(`${token} forty attributes`, 'app', wide),
      otlpRecord(`${neighbour} after the wide one`, 'app'),
    ]);
    const [arrival] = await arrivalsOf(collected, token, 1);
    expect(Object.keys(arrival?.attributes ?? {})).to.have.length(24);
    expect(arrival?.attributes['log.type']).to.equal('app');
    expect(arrival?.attributes['log.record.truncated']).to.equal(true);
    await arrivalsOf(collected, neighbour, 1);
  });

  it('refuses an OTLP request over max_request_body_size', async () => {
    const response = await sendLogs([otlpRecord('x'.repeat(21 * 1024 * 1024), 'app')]);
    await response.body?.cancel();
    expect(response.status).to.be.oneOf([400, 413]);
  });
});
