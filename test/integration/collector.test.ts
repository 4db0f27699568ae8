import { expect } from 'chai';
import { KAFKA_TOPICS, LOG_TOPIC_PREFIX, logTopicFor } from '../../src/shared/kafka-topics.ts';
import { decodeExportLogsServiceRequest } from '../../src/shared/otlp-logs.ts';
import type { AttributeValue } from '../../src/shared/otlp-logs.ts';
import { collectFrom, endpoint, poll, uniqueToken } from './support.ts';
import type { Collected } from './support.ts';

const LOG_TOPICS = KAFKA_TOPICS.map((topic) => topic.name).filter(
  (name) => name.startsWith(LOG_TOPIC_PREFIX) && name !== `${LOG_TOPIC_PREFIX}dlq`,
);

interface Arrival {
  topic: string;
  body: AttributeValue;
  recordType: AttributeValue;
  resource: Record<string, AttributeValue>;
}

function otlpRecord(body: string, logType: string | undefined): object {
  const attributes =
    logType === undefined ? [] : [{ key: 'log.type', value: { stringValue: logType } }];
  return {
    timeUnixNano: `${BigInt(Date.now()) * 1_000_000n}`,
    severityNumber: 9,
    severityText: 'INFO',
    body: { stringValue: body },
    attributes,
  };
}

async function postLogs(records: object[]): Promise<void> {
  const response = await fetch(`${endpoint.otlpHttp}/v1/logs`, {
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
  expect(response.status, await response.text()).to.equal(200);
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
              body: record.body,
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
});
