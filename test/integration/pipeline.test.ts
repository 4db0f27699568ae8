/**
 * End to end through real parts: API -> (Collector | direct) -> Kafka -> consumer -> log store.
 * Records are counted by their request ids, which each test makes unique.
 */
import { expect } from 'chai';
import { DLQ_TOPIC } from '../../src/shared/kafka-topics.ts';
import { startService, stopService } from '../../stack/index.ts';
import {
  CONSUMER_BATCH_MAX_ENTRIES,
  countServerErrors,
  logsql,
  metricValue,
  sendTraffic,
  startApi,
  startConsumer,
  TrackedProcesses,
  waitForRecords,
} from './pipeline-support.ts';
import { collectFrom, ctx, kafka, poll, uniqueToken } from './support.ts';

describe('log pipeline end to end', function () {
  this.timeout(240_000);
  const processes = new TrackedProcesses();
  const { track } = processes;
  afterEach(() => processes.stopAll());

  for (const path of ['collector', 'kafka'] as const) {
    it(`delivers exactly one access record per request via ${path === 'collector' ? 'the Collector' : 'the direct Kafka exporter'}`, async () => {
      const token = uniqueToken(`e2e${path}`);
      const firstConsumer = await track(startConsumer());
      const api = await track(startApi(path));
      const traffic = await sendTraffic(api.url, token, 48);
      const serverErrors = countServerErrors(traffic);
      expect(serverErrors, 'the traffic includes 5xx responses').to.be.greaterThan(0);
      expect(traffic.byStatus.get(400), 'and 4xx responses').to.be.greaterThan(0);

      const access = await waitForRecords('access', token, 48);
      expect(access).to.deep.equal({ total: 48, distinct: 48 });
      const errors = await waitForRecords('error', token, serverErrors);
      expect(errors.distinct).to.equal(serverErrors);

      const rows = await logsql(`{log_type="access"} request_id:~"^${token}-"`);
      for (const row of rows) {
        expect(row).to.include({
          service_name: 'shop-api',
          log_type: 'access',
          deployment_environment: 'test',
        });
        expect(row['trace_id']).to.match(/^[0-9a-f]{32}$/);
        const line = JSON.parse(row['_msg'] ?? '{}');
        const status = Number(line.http_response_status_code);
        expect(row['level']).to.equal(status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info');
      }
      const userLookup = rows
        .map((row) => JSON.parse(row['_msg'] ?? '{}'))
        .find((line) => line.url_path === '/users/999999');
      expect(userLookup).to.include({ http_route: '/users/:id', http_response_status_code: 404 });

      // A graceful restart resumes from the committed offsets: nothing is shipped twice.
      await firstConsumer.stop('SIGTERM');
      await track(startConsumer());
      await sendTraffic(api.url, token, 12, { start: 48 });
      expect(await waitForRecords('access', token, 60)).to.deep.equal({ total: 60, distinct: 60 });
    });
  }

  it('delivers every record exactly once with several partitions in flight (PARTITIONS_IN_PARALLEL=3)', async () => {
    const token = uniqueToken('e2eparallel');
    await track(startConsumer({ PARTITIONS_IN_PARALLEL: '3' }));
    const api = await track(startApi('collector'));
    const traffic = await sendTraffic(api.url, token, 90);
    // Access, app and error records travel on different topics, shipped side by side.
    expect(await waitForRecords('access', token, 90)).to.deep.equal({ total: 90, distinct: 90 });
    const serverErrors = countServerErrors(traffic);
    const errors = await waitForRecords('error', token, serverErrors);
    expect(errors).to.deep.equal({ total: serverErrors, distinct: serverErrors });
  });

  it('loses nothing when the consumer is killed mid-stream and restarted', async () => {
    const token = uniqueToken('e2ekill');
    const api = await track(startApi('collector'));
    const first = await track(startConsumer());
    const traffic = sendTraffic(api.url, token, 150, { pauseMs: 20 });
    await poll(
      async () =>
        (await metricValue(first.url, 'log_consumer_records_pushed_total')) > 20 ? true : undefined,
      {
        timeoutMs: 60_000,
      },
    );
    await first.stop('SIGKILL');
    await track(startConsumer());
    await traffic;
    const counts = await waitForRecords('access', token, 150);
    expect(counts.distinct).to.equal(150);
    expect(counts.total - counts.distinct, 'duplicates').to.be.at.most(CONSUMER_BATCH_MAX_ENTRIES);
  });

  it('loses nothing while the log store is down for 10 s, then drains the lag', async () => {
    const token = uniqueToken('e2estore');
    const api = await track(startApi('collector'));
    const consumer = await track(startConsumer());
    const retriesBefore = await metricValue(consumer.url, 'log_consumer_push_retries_total');
    const traffic = sendTraffic(api.url, token, 120, { pauseMs: 40 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stopService('victorialogs', {}, ctx);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await startService('victorialogs', ctx);
    await traffic;
    const counts = await waitForRecords('access', token, 120);
    expect(counts.distinct).to.equal(120);
    expect(await metricValue(consumer.url, 'log_consumer_push_retries_total')).to.be.greaterThan(
      retriesBefore,
    );
    await poll(
      async () => ((await metricValue(consumer.url, 'log_consumer_lag')) === 0 ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
  });

  it('dead-letters a poison message and keeps delivering the records after it', async () => {
    const token = uniqueToken('e2epoison');
    const poison = Buffer.from(`not an OTLP message ${token}`);
    const producer = kafka('poison-test').producer();
    await producer.connect();
    await producer.send({ topic: 'api-logs-access', acks: -1, messages: [{ value: poison }] });
    await producer.disconnect();

    const dlq = await collectFrom([DLQ_TOPIC], 'dlq-reader');
    try {
      await track(startConsumer());
      const api = await track(startApi('collector'));
      await sendTraffic(api.url, token, 12);
      const counts = await waitForRecords('access', token, 12);
      expect(counts.distinct).to.equal(12);
      const letter = await poll(
        async () => dlq.messages.find(({ message }) => message.value?.equals(poison)),
        { timeoutMs: 60_000 },
      );
      expect(String(letter.message.headers?.['dlq.reason'])).to.equal('undecodable');
      expect(String(letter.message.headers?.['dlq.source.topic'])).to.equal('api-logs-access');
    } finally {
      await dlq.stop();
    }
  });
});
