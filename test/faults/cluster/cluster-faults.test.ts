/**
 * Fault rows on the three-node Kafka cluster (`npm run test:faults` runs them after the
 * single-broker rows, with test/cluster/cluster.fixture.ts): brokers and consumer instances
 * lost under steady traffic, counted by distinct request ids in the log store.
 */
import { expect } from 'chai';
import { startService, stopService, type ServiceName } from '../../../stack/index.ts';
import {
  CONSUMER_BATCH_MAX_ENTRIES,
  metricValue,
  startConsumer,
  TrackedProcesses,
  type RunningProcess,
} from '../../integration/pipeline-support.ts';
import { collectFrom, ctx, kafka, poll } from '../../integration/support.ts';
import { decodeMessage } from '../../../src/shared/otlp-message.ts';
import { DLQ_TOPIC, KAFKA_TOPICS } from '../../../src/shared/kafka-topics.ts';
import { record, runUnderTraffic, sleep, type TrafficOptions } from '../support.ts';

const LOG_TOPICS = KAFKA_TOPICS.map((topic) => topic.name);
/** Partitions the consumer group shares out: every log topic but the dead letters. */
const CONSUMED_PARTITIONS = KAFKA_TOPICS.filter((topic) => topic.name !== DLQ_TOPIC).reduce(
  (sum, topic) => sum + topic.partitions,
  0,
);

interface PartitionState {
  leader: number;
  isr: number[];
}

async function partitionStates(): Promise<PartitionState[]> {
  const admin = kafka('cluster-faults-admin').admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: LOG_TOPICS });
    return metadata.topics.flatMap(({ partitions }) =>
      partitions.map(({ leader, isr }) => ({ leader, isr })),
    );
  } finally {
    await admin.disconnect();
  }
}

/** The node leading the most log-topic partitions (node ids are the stack's instances). */
async function busiestLeader(): Promise<number> {
  const led = new Map<number, number>();
  for (const { leader } of await partitionStates()) led.set(leader, (led.get(leader) ?? 0) + 1);
  return [...led.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 1;
}

/** Seconds until no partition is led by `node` or has it in sync (it is fenced). */
async function secondsUntilFenced(node: number, since: number): Promise<number> {
  await poll(
    async () => {
      const states = await partitionStates().catch(() => []);
      const gone = states.every((state) => state.leader !== node && !state.isr.includes(node));
      return states.length > 0 && gone ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  return Math.round((performance.now() - since) / 100) / 10;
}

/** Waits until every partition has all three replicas in sync again; returns the seconds. */
async function secondsUntilReplicated(since: number): Promise<number> {
  await poll(
    async () => {
      const states = await partitionStates().catch(() => []);
      return states.length > 0 && states.every((state) => state.isr.length === 3)
        ? true
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  return Math.round((performance.now() - since) / 100) / 10;
}

/**
 * Records of `token` written to `api-logs-access` more than once: duplicates made on the
 * producer side (the Collector's retries across a leader change), told apart from those a
 * consumer pushes again. Reads the topic from the beginning in a fresh group until all
 * `expected` distinct request ids were seen.
 */
async function duplicatesInKafka(token: string, expected: number): Promise<number> {
  const collected = await collectFrom(['api-logs-access'], 'fault-kafka-count');
  const seen = new Map<string, number>();
  let read = 0;
  const count = (): void => {
    for (const { message } of collected.messages.slice(read)) {
      for (const resource of decodeMessage(message.value, 'auto')) {
        for (const scope of resource.scopes) {
          for (const record of scope.records) {
            const id = record.attributes['request.id'];
            if (typeof id === 'string' && id.startsWith(`${token}-`)) {
              seen.set(id, (seen.get(id) ?? 0) + 1);
            }
          }
        }
      }
    }
    read = collected.messages.length;
  };
  try {
    await poll(
      async () => {
        count();
        return seen.size >= expected ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  } finally {
    await collected.stop();
  }
  return [...seen.values()].reduce((sum, times) => sum + times - 1, 0);
}

describe('faults on the three-node Kafka cluster, under steady traffic', function () {
  const processes = new TrackedProcesses();
  const { track, running } = processes;
  const underTraffic = (
    name: string,
    requests: number,
    fault: (api: RunningProcess, token: string) => Promise<number>,
    options: TrafficOptions = {},
  ) => runUnderTraffic(processes, name, requests, fault, options);

  before(function () {
    if (ctx.config.kafkaBrokers !== 3) {
      throw new Error('run these rows with test/cluster/cluster.fixture.ts (three Kafka nodes)');
    }
  });

  afterEach(async () => {
    await processes.stopAll();
    // Whatever a test stopped comes back, all replicas in sync, for the next one.
    for (const name of ['kafka', 'collector', 'victorialogs'] as ServiceName[])
      await startService(name, ctx);
    await secondsUntilReplicated(performance.now());
  });

  it('cluster: SIGKILL of the leading broker: nothing lost, no duplicate written', async () => {
    let fenced = 0;
    let healed = 0;
    let token = '';
    const result = await underTraffic(
      'Cluster: leading broker SIGKILL, restart after 30 s',
      1200,
      async (_api, faultToken) => {
        token = faultToken;
        const victim = await busiestLeader();
        const killed = performance.now();
        await stopService('kafka', { instance: victim, signal: 'SIGKILL' }, ctx);
        fenced = await secondsUntilFenced(victim, killed);
        await sleep(Math.max(0, 30_000 - (performance.now() - killed)));
        const restarted = performance.now();
        await startService('kafka', ctx);
        healed = await secondsUntilReplicated(restarted);
        return 30;
      },
    );
    const written = await duplicatesInKafka(token, result.requests);
    const consumer = running[0];
    const joins = consumer ? await metricValue(consumer.url, 'log_consumer_group_joins_total') : 0;
    record({
      ...result,
      note:
        `leaders moved ${fenced} s after the kill, replicas in sync ${healed} s after the restart; ` +
        `written twice to Kafka ${written}; consumer group joins ${joins}`,
    });
    expect(result.lost).to.equal(0);
    // The Collector's idempotent producer writes each record once, whatever leader it reaches.
    expect(written).to.equal(0);
    // A store duplicate comes only from the consumer pushing again what it had not committed
    // when its group coordinator went away: at most one push.
    expect(result.duplicated).to.be.at.most(CONSUMER_BATCH_MAX_ENTRIES);
    if (joins === 1) expect(result.duplicated).to.equal(0);
  });

  it('cluster: one broker stopped for 60 s: nothing lost, under-replicated partitions recover', async () => {
    let healed = 0;
    const result = await underTraffic('Cluster: one broker stopped 60 s', 2000, async () => {
      // Node 2: neither necessarily a leader nor the first address clients were given.
      await stopService('kafka', { instance: 2, signal: 'SIGTERM' }, ctx);
      await sleep(60_000);
      const restarted = performance.now();
      await startService('kafka', ctx);
      healed = await secondsUntilReplicated(restarted);
      return 60;
    });
    record({ ...result, note: `replicas in sync ${healed} s after the restart` });
    expect(result.lost).to.equal(0);
    expect(result.duplicated).to.equal(0);
  });

  it('cluster: SIGKILL of one of two consumers: nothing lost, duplicates within one push', async () => {
    let survivorPartitions = 0;
    let rebalanced = 0;
    const result = await underTraffic(
      'Cluster: SIGKILL of one of two consumers',
      1200,
      async () => {
        const [killed, survivor] = running;
        if (!killed || !survivor) throw new Error('two consumers are not running');
        const joinsBefore = await metricValue(survivor.url, 'log_consumer_group_joins_total');
        const started = performance.now();
        await killed.stop('SIGKILL');
        // The group notices the dead member when its session (30 s) lapses, then gives all
        // partitions to the survivor.
        await poll(
          async () =>
            (await metricValue(survivor.url, 'log_consumer_group_joins_total')) > joinsBefore
              ? true
              : undefined,
          { timeoutMs: 120_000, intervalMs: 250 },
        );
        rebalanced = Math.round((performance.now() - started) / 100) / 10;
        survivorPartitions = await metricValue(survivor.url, 'log_consumer_assigned_partitions');
        return 0;
      },
      { consumers: 2, leadMs: 10_000 },
    );
    record({
      ...result,
      note: `rebalanced ${rebalanced} s after the kill; the survivor then held ${survivorPartitions} partitions`,
    });
    expect(result.lost).to.equal(0);
    expect(result.duplicated).to.be.at.most(CONSUMER_BATCH_MAX_ENTRIES);
    expect(survivorPartitions).to.equal(CONSUMED_PARTITIONS);
  });

  it('cluster: a consumer added under load: nothing lost, no duplicate', async () => {
    let shares: number[] = [];
    const result = await underTraffic(
      'Cluster: a second consumer added under load',
      1200,
      async () => {
        const added = await track(startConsumer());
        const first = running[0];
        if (!first) throw new Error('the first consumer is not running');
        // Both hold partitions once the group has rebalanced.
        shares = await poll(
          async () => {
            const counts = [
              await metricValue(first.url, 'log_consumer_assigned_partitions'),
              await metricValue(added.url, 'log_consumer_assigned_partitions'),
            ];
            const [mine = 0, theirs = 0] = counts;
            return mine > 0 && theirs > 0 && mine + theirs === CONSUMED_PARTITIONS
              ? counts
              : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 250 },
        );
        return 0;
      },
      { leadMs: 10_000 },
    );
    record({ ...result, note: `partitions after the join: ${shares.join(' and ')}` });
    expect(result.lost).to.equal(0);
    expect(result.duplicated).to.equal(0);
  });
});
