/**
 * Fault suite (`npm run test:faults`): under steady traffic, one fault at a time, then recovery.
 * Loss and duplication are counted by distinct request ids in the log store. Each test writes
 * its figures to bench/results/faults.json; the README quotes the table.
 */
import { expect } from 'chai';
import { startService, stopService, type ServiceName } from '../../stack/index.ts';
import {
  CONSUMER_BATCH_MAX_ENTRIES,
  metricValue,
  startConsumer,
  TrackedProcesses,
  type RunningProcess,
} from '../integration/pipeline-support.ts';
import { ctx, endpoint, kafka, poll } from '../integration/support.ts';
import { scrapeMetric } from '../../stack/index.ts';
import { encodeExportLogsServiceRequest } from '../../src/shared/otlp-logs.ts';
import {
  type FaultResult,
  RATE_PAUSE_MS,
  record,
  runUnderTraffic,
  sleep,
  type TrafficOptions,
} from './support.ts';

describe('faults under steady traffic', function () {
  const processes = new TrackedProcesses();
  const { track, running } = processes;
  afterEach(async () => {
    await processes.stopAll();
    // Whatever a test stopped comes back for the next one.
    for (const name of ['kafka', 'collector', 'victorialogs'] as ServiceName[])
      await startService(name, ctx);
  });

  const underTraffic = (
    name: string,
    requests: number,
    fault: (api: RunningProcess, token: string) => Promise<number>,
    options: TrafficOptions = {},
  ): Promise<FaultResult> => runUnderTraffic(processes, name, requests, fault, options);

  async function outage(
    service: ServiceName,
    seconds: number,
    signal: NodeJS.Signals,
  ): Promise<number> {
    await stopService(service, { signal, graceMs: 20_000 }, ctx);
    await sleep(seconds * 1000);
    await startService(service, ctx);
    return seconds;
  }

  it('Kafka broker SIGKILL, restarted after 30 s: nothing accepted by the Collector is lost', async () => {
    const result = await underTraffic('Kafka broker SIGKILL, restart after 30 s', 1200, () =>
      outage('kafka', 30, 'SIGKILL'),
    );
    record(result);
    expect(result.lost).to.equal(0);
  });

  it('Collector SIGKILL and restart while Kafka is down: the persistent queue delivers', async () => {
    const result = await underTraffic(
      'Collector SIGKILL + restart while Kafka is down',
      1200,
      async () => {
        await stopService('kafka', { signal: 'SIGKILL' }, ctx);
        await sleep(10_000);
        await stopService('collector', { signal: 'SIGKILL' }, ctx);
        await startService('collector', ctx);
        await sleep(10_000);
        await startService('kafka', ctx);
        return 20;
      },
    );
    record({
      ...result,
      note: 'records sent while the Collector restarted are retried by the SDK',
    });
    expect(result.lost).to.equal(0);
  });

  it('consumer SIGKILL mid-batch: nothing lost, duplicates at most one batch', async () => {
    const result = await underTraffic('Consumer SIGKILL mid-batch', 600, async () => {
      await running[0]?.stop('SIGKILL'); // underTraffic starts the consumer first
      await track(startConsumer());
      return 0;
    });
    record(result);
    expect(result.lost).to.equal(0);
    expect(result.duplicated).to.be.at.most(CONSUMER_BATCH_MAX_ENTRIES);
  });

  for (const seconds of [60, 300]) {
    const label = seconds < 120 ? `${seconds} s` : `${seconds / 60} minutes`;
    it(`log store down for ${label}: nothing lost, no duplicate, no rebalance, lag drains`, async function () {
      this.timeout((seconds + 300) * 1000);
      // Traffic for the whole outage and some 20 s either side of it.
      const requests = Math.max(1800, (seconds + 40) * 20);
      const result = await underTraffic(`Log store down ${label}`, requests, () =>
        outage('victorialogs', seconds, 'SIGTERM'),
      );
      const consumer = running[0];
      if (!consumer) throw new Error('the consumer is not running');
      await poll(
        async () =>
          (await metricValue(consumer.url, 'log_consumer_lag')) === 0 ? true : undefined,
        { timeoutMs: 120_000 },
      );
      // The consumer heartbeats while it waits for the store: it never leaves its group, so the
      // partitions never move and nothing it pushed is pushed again by a new owner.
      const joins = await metricValue(consumer.url, 'log_consumer_group_joins_total');
      const retries = await metricValue(consumer.url, 'log_consumer_push_retries_total');
      record({ ...result, note: `group joins ${joins} (no rebalance), push retries ${retries}` });
      expect(result.lost).to.equal(0);
      expect(result.duplicated).to.equal(0);
      expect(joins).to.equal(1);
      expect(retries).to.be.greaterThan(0);
    });
  }

  it('misconfigured push URL for 30 s: an outage, nothing dead-lettered, all stored once after the fix', async () => {
    let wrongDeadLettered = -1;
    let wrongHealth = 0;
    let fixed: RunningProcess | undefined;
    const result = await underTraffic('Misconfigured push URL 30 s, then fixed', 1200, async () => {
      await running[0]?.stop('SIGTERM'); // underTraffic starts a correctly configured consumer first
      const wrong = await track(
        startConsumer(
          { LOKI_PUSH_URL: `${endpoint.lokiPush.replace(/push$/, 'pushX')}` },
          { waitForHealth: false },
        ),
      );
      await sleep(30_000);
      wrongHealth = (await fetch(`${wrong.url}/health`)).status;
      wrongDeadLettered = await metricValue(wrong.url, 'log_consumer_records_dead_lettered_total');
      await wrong.stop('SIGTERM');
      fixed = await track(startConsumer());
      return 30;
    });
    if (!fixed) throw new Error('the fixed consumer did not start');
    const consumer = fixed;
    await poll(
      async () => ((await metricValue(consumer.url, 'log_consumer_lag')) === 0 ? true : undefined),
      { timeoutMs: 120_000 },
    );
    record({
      ...result,
      note: `while wrong: /health ${wrongHealth}, dead-lettered ${wrongDeadLettered}; lag 0 after the fix`,
    });
    expect(wrongHealth).to.equal(503);
    expect(wrongDeadLettered).to.equal(0);
    expect(result.lost).to.equal(0);
    expect(result.duplicated).to.equal(0);
  });

  for (const seconds of [10, 60]) {
    it(`Collector unreachable from the API for ${seconds} s: what the SDK drops is counted`, async () => {
      let api: RunningProcess | undefined;
      const result = await underTraffic(
        `Collector unreachable ${seconds} s`,
        Math.round(((seconds + 15) * 1000) / (RATE_PAUSE_MS + 5)),
        async (started) => {
          api = started;
          return outage('collector', seconds, 'SIGTERM');
        },
      );
      const dropped = api
        ? await scrapeMetric(api.url, 'otel_sdk_processor_log_processed_total', 'error_type=')
        : 0;
      const failedExports = api
        ? await scrapeMetric(api.url, 'otel_sdk_exporter_log_exported_total', 'error_type=')
        : 0;
      record({
        ...result,
        note: `SDK queue drops ${dropped}, failed exports counted ${failedExports}`,
      });
      if (seconds === 10) expect(result.lost, 'a 10 s outage at the demo rate').to.equal(0);
    });
  }

  it('a burst of records too big for one Kafka record at the Collector: nothing lost', async () => {
    const collectorUrl = endpoint.collectorMetrics.replace(/\/metrics$/, '');
    const failedBefore = await scrapeMetric(
      collectorUrl,
      'otelcol_exporter_send_failed_log_records',
    );
    const BURST = 90;
    const result = await underTraffic(
      'Burst of 90 records of 12 KB (1.1 MB) at the Collector',
      400,
      async (api, token) => {
        // 90 requests at once, each with a 12 000-byte User-Agent: the SDK ships their access
        // records as one OTLP request of about 1.1 MB, more than one Kafka record may hold.
        const userAgent = 'u'.repeat(12_000);
        const statuses = await Promise.all(
          Array.from({ length: BURST }, async (_, i) => {
            const response = await fetch(`${api.url}/health`, {
              headers: { 'user-agent': userAgent, 'x-request-id': `${token}-burst-${i}` },
            });
            await response.body?.cancel();
            return response.status;
          }),
        );
        expect(statuses.filter((status) => status === 200)).to.have.length(BURST);
        return 0;
      },
      { extraRequests: () => BURST },
    );
    const failed =
      (await scrapeMetric(collectorUrl, 'otelcol_exporter_send_failed_log_records')) - failedBefore;
    record({ ...result, note: `Collector send failures ${failed}` });
    expect(result.lost).to.equal(0);
    expect(failed).to.equal(0);
  });

  it("a record over the store's line limit at the consumer: dead-lettered, the rest stored", async () => {
    // Written to Kafka directly, as another producer could: the API and the Collector cut
    // values long before this size, so only a record that skipped them can reach the last hop.
    const producer = kafka('fault-oversized').producer();
    await producer.connect();
    await producer.send({
      topic: 'api-logs-app',
      acks: -1,
      messages: [
        {
          value: Buffer.from(
            encodeExportLogsServiceRequest({ 'service.name': 'shop-api' }, [
              {
                timeUnixNano: BigInt(Date.now()) * 1_000_000n,
                severityNumber: 9,
                severityText: 'INFO',
                // Over the consumer's STORE_MAX_LINE_BYTES (Loki's max_line_size, 256 KiB).
                body: 'x'.repeat(300_000),
                attributes: { 'log.type': 'app' },
              },
            ]),
          ),
        },
      ],
    });
    await producer.disconnect();
    const result = await underTraffic('A 300 KB record at the store hop', 200, async () => 0);
    const consumer = running[0];
    const tooLong = consumer
      ? await metricValue(
          consumer.url,
          'log_consumer_records_dead_lettered_total',
          'error_type="line_too_long"',
        )
      : 0;
    record({ ...result, note: `dead-lettered as line_too_long ${tooLong}` });
    expect(result.lost).to.equal(0);
    expect(tooLong).to.equal(1);
  });

  it('poison and oversized messages are dead-lettered and the pipeline keeps flowing', async () => {
    const producer = kafka('fault-poison').producer();
    await producer.connect();
    await producer.send({
      topic: 'api-logs-app',
      acks: -1,
      messages: [{ value: Buffer.from('poison') }, { value: Buffer.alloc(900_000, 0xff) }],
    });
    await producer.disconnect();
    const result = await underTraffic('Poison + 900 KB garbage messages', 200, async () => 0);
    const consumer = running[0];
    const deadLettered = consumer
      ? await metricValue(consumer.url, 'log_consumer_records_dead_lettered_total')
      : 0;
    record({ ...result, note: `dead-lettered ${deadLettered}` });
    expect(result.lost).to.equal(0);
    expect(deadLettered).to.equal(2);
  });
});
