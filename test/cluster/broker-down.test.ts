/**
 * The three-node Kafka cluster (KAFKA_BROKERS_COUNT=3): topics replicated on every node with
 * `min.insync.replicas=2`, internal topics too, and records written while one broker is down
 * consumed and stored, through the Collector and through the SDK's direct Kafka exporter.
 */
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import kafkajs from 'kafkajs';
import YAML from 'yaml';
import { SERVICES } from '../../stack/registry.ts';
import {
  createContext,
  runPaths,
  serviceStatus,
  startService,
  stopService,
} from '../../stack/index.ts';
import { KAFKA_TOPICS } from '../../src/shared/kafka-topics.ts';
import {
  startApi,
  startConsumer,
  sendTraffic,
  TrackedProcesses,
  waitForRecords,
} from '../integration/pipeline-support.ts';
import { ctx, endpoint, kafka, poll, uniqueToken } from '../integration/support.ts';

const { ConfigResourceTypes } = kafkajs;

interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Leader, replicas and in-sync replicas of every partition of `topics`. */
async function partitionStates(topics: string[]): Promise<PartitionState[]> {
  const admin = kafka('cluster-test-admin').admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics });
    return metadata.topics.flatMap(({ name, partitions }) =>
      partitions.map((partition) => ({
        topic: name,
        partition: partition.partitionId,
        leader: partition.leader,
        replicas: partition.replicas,
        isr: partition.isr,
      })),
    );
  } finally {
    await admin.disconnect();
  }
}

/** The node leading the most partitions (node ids are the stack's 1-based instances). */
function busiestLeader(states: PartitionState[]): number {
  const led = new Map<number, number>();
  for (const { leader } of states) led.set(leader, (led.get(leader) ?? 0) + 1);
  const [node] = [...led.entries()].sort((a, b) => b[1] - a[1])[0] ?? [1];
  return node;
}

describe('three-node Kafka cluster', function () {
  const processes = new TrackedProcesses();
  const { track } = processes;
  const logTopics = KAFKA_TOPICS.map((topic) => topic.name);

  before(function () {
    if (ctx.config.kafkaBrokers !== 3) {
      throw new Error(
        `KAFKA_BROKERS_COUNT=${ctx.config.kafkaBrokers}: run this suite with its fixture, ` +
          'test/cluster/cluster.fixture.ts, which starts three nodes',
      );
    }
  });

  after(async () => {
    await processes.stopAll();
    // A node a test stopped comes back for whatever runs next.
    await startService('kafka', ctx);
  });

  it('is given every broker, and replicates every topic on all three with min.insync.replicas=2', async () => {
    expect(endpoint.kafkaBrokers).to.have.length(3);
    const states = await partitionStates(logTopics);
    expect(states.length).to.equal(KAFKA_TOPICS.reduce((sum, topic) => sum + topic.partitions, 0));
    for (const state of states) {
      expect(state.replicas, `${state.topic}/${state.partition}`).to.have.members([1, 2, 3]);
    }
    const admin = kafka('cluster-test-config').admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: logTopics.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['min.insync.replicas', 'unclean.leader.election.enable'],
        })),
      });
      for (const resource of described.resources) {
        const value = (name: string) =>
          resource.configEntries.find((entry) => entry.configName === name)?.configValue;
        expect(value('min.insync.replicas'), resource.resourceName).to.equal('2');
        expect(value('unclean.leader.election.enable'), resource.resourceName).to.equal('false');
      }
    } finally {
      await admin.disconnect();
    }
    // The group's offsets live in __consumer_offsets, created when a group first commits:
    // replicated like the project's topics, or a lost node would lose the group's position.
    const consumer = await track(startConsumer());
    await consumer.stop();
    const offsets = await poll(
      async () => {
        const found = await partitionStates(['__consumer_offsets']).catch(() => []);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    for (const state of offsets) expect(state.replicas).to.have.members([1, 2, 3]);
  });

  it("gives the Collector's Kafka exporter every broker, as the stack launches it", () => {
    // The stack passes the brokers as one comma-separated variable; the Collector's own
    // resolved configuration shows whether it became a list of three.
    const spec = SERVICES.collector.launch(ctx, runPaths(ctx, 'collector'));
    const config = spec.args.slice(
      spec.args.indexOf('--config'),
      spec.args.indexOf('--config') + 2,
    );
    const printed = execFileSync(
      spec.command,
      ['print-config', '--mode', 'unredacted', ...config],
      {
        env: spec.env,
        encoding: 'utf8',
      },
    );
    const resolved = YAML.parse(printed) as { exporters: { kafka: { brokers: string[] } } };
    expect(resolved.exporters.kafka.brokers).to.deep.equal(endpoint.kafkaBrokers);
    expect(endpoint.kafkaBrokers).to.have.length(3);
  });

  it('shows every node in status, even to a configuration of one node (what `down` stops)', async () => {
    const rows = await serviceStatus(ctx);
    const nodes = rows.filter((row) => row.name === 'kafka');
    expect(nodes.map((row) => row.label)).to.deep.equal(['kafka', 'kafka-2', 'kafka-3']);
    expect(nodes.every((row) => row.alive && row.healthy)).to.equal(true);
    // `npm run services:down` without KAFKA_BROKERS_COUNT still finds nodes 2 and 3 running.
    const single = createContext(() => undefined, { ...process.env, KAFKA_BROKERS_COUNT: '1' });
    const seen = (await serviceStatus(single)).filter((row) => row.name === 'kafka');
    expect(seen.map((row) => [row.label, row.alive])).to.deep.equal([
      ['kafka', true],
      ['kafka-2', true],
      ['kafka-3', true],
    ]);
  });

  it('consumes and stores records written while one broker is down, then heals its replicas', async () => {
    const consumer = await track(startConsumer());
    const viaCollector = await track(startApi('collector'));
    const direct = await track(startApi('kafka'));
    const warmToken = uniqueToken('clusterwarm');
    await sendTraffic(viaCollector.url, warmToken, 20);
    await waitForRecords('access', warmToken, 20);

    // The node that leads most partitions of the log topics goes: its loss moves leaderships
    // and makes every producer and the consumer find the new leaders.
    const before = await partitionStates(logTopics);
    const victim = busiestLeader(before);
    expect(await stopService('kafka', { instance: victim, signal: 'SIGKILL' }, ctx)).to.equal(true);

    const downToken = uniqueToken('clusterdown');
    const directToken = uniqueToken('clusterdirect');
    // The controllers fence the node once its session lapses, and move its leaderships.
    await poll(
      async () => {
        const states = await partitionStates(logTopics).catch(() => []);
        const moved = states.every(
          (state) => state.leader !== victim && !state.isr.includes(victim),
        );
        return states.length > 0 && moved ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await sendTraffic(viaCollector.url, downToken, 200);
    await sendTraffic(direct.url, directToken, 200);

    const viaCollectorCounts = await waitForRecords('access', downToken, 200, 180_000);
    const directCounts = await waitForRecords('access', directToken, 200, 180_000);
    expect(viaCollectorCounts.distinct).to.equal(200);
    expect(directCounts.distinct).to.equal(200);
    expect(consumer.child.exitCode).to.equal(null);

    await startService('kafka', ctx);
    // The restarted node catches up and is back in every partition's in-sync set.
    await poll(
      async () => {
        const states = await partitionStates(logTopics);
        return states.every((state) => state.isr.length === 3) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
  });
});
