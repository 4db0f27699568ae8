import { expect } from 'chai';
import type { Admin, Consumer } from 'kafkajs';
import { KAFKA_TOPICS } from '../../src/shared/kafka-topics.ts';
import { kafka, poll, uniqueToken } from './support.ts';

describe('Kafka broker (KRaft) with kafkajs', () => {
  let admin: Admin;
  const consumers: Consumer[] = [];

  before(async () => {
    admin = kafka('it-admin').admin();
    await admin.connect();
  });

  after(async () => {
    await Promise.all(consumers.map((consumer) => consumer.disconnect()));
    await admin.disconnect();
  });

  it('has the project topics with their partition counts', async () => {
    const metadata = await admin.fetchTopicMetadata({
      topics: KAFKA_TOPICS.map((topic) => topic.name),
    });
    const partitions = Object.fromEntries(
      metadata.topics.map((topic) => [topic.name, topic.partitions.length]),
    );
    expect(partitions).to.deep.equal(
      Object.fromEntries(KAFKA_TOPICS.map((topic) => [topic.name, topic.partitions])),
    );
  });

  it('does not auto-create topics', async () => {
    const producer = kafka('it-autocreate').producer({
      allowAutoTopicCreation: true,
      retry: { retries: 1 },
    });
    await producer.connect();
    try {
      const topic = uniqueToken('it-missing-');
      let failed = false;
      try {
        await producer.send({ topic, messages: [{ value: 'x' }] });
      } catch {
        failed = true;
      }
      expect(failed, 'producing to an unknown topic must fail').to.equal(true);
      expect(await admin.listTopics()).not.to.include(topic);
    } finally {
      await producer.disconnect();
    }
  });

  it('produces, consumes in a group, commits offsets and rebalances when a member joins', async () => {
    const topic = uniqueToken('it-roundtrip-');
    const groupId = uniqueToken('it-group-');
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    try {
      const producer = kafka('it-producer').producer();
      await producer.connect();
      const sent = Array.from({ length: 30 }, (_, i) => `message-${i}`);
      await producer.send({
        topic,
        messages: sent.map((value, i) => ({ key: `key-${i}`, value })),
      });
      await producer.disconnect();

      // Latest assignment each member received, from the GROUP_JOIN instrumentation event.
      const assignments = new Map<string, number[]>();
      const received: string[] = [];
      const join = async (member: string): Promise<Consumer> => {
        const consumer = kafka(member).consumer({
          groupId,
          sessionTimeout: 10_000,
          heartbeatInterval: 500,
        });
        consumers.push(consumer);
        consumer.on(consumer.events.GROUP_JOIN, (event) => {
          assignments.set(member, event.payload.memberAssignment[topic] ?? []);
        });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            received.push(message.value?.toString() ?? '');
            // Explicit commit: the offset of the *next* message to read.
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
          },
        });
        return consumer;
      };

      await join('it-member-1');
      await poll(async () => (received.length >= sent.length ? true : undefined), {
        timeoutMs: 60_000,
      });
      expect([...received].sort()).to.deep.equal([...sent].sort());
      expect(assignments.get('it-member-1')).to.have.members([0, 1, 2]);

      const committed = await poll(
        async () => {
          const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
          const total = (offsets?.partitions ?? []).reduce(
            (sum, partition) => sum + Number(partition.offset),
            0,
          );
          return total === sent.length ? total : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(committed).to.equal(sent.length);

      await join('it-member-2');
      const split = await poll(
        async () => {
          const first = assignments.get('it-member-1') ?? [];
          const second = assignments.get('it-member-2') ?? [];
          return first.length > 0 && second.length > 0 && first.length + second.length === 3
            ? { first, second }
            : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect([...split.first, ...split.second]).to.have.members([0, 1, 2]);
      // Committed offsets survive the rebalance: nothing is read twice.
      expect(received).to.have.length(sent.length);
    } finally {
      await Promise.all(consumers.splice(0).map((consumer) => consumer.disconnect()));
      await admin.deleteTopics({ topics: [topic] });
    }
  });
});
