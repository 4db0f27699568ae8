import { expect } from 'chai';
import { startService, stopService } from '../../stack/index.ts';
import { KAFKA_TOPICS } from '../../src/shared/kafka-topics.ts';
import { collectFrom, ctx, kafka, poll, uniqueToken } from './support.ts';

describe('Kafka crash and restart through the services API', () => {
  it('keeps topics and messages across kill -9 and a restart', async () => {
    const topic = KAFKA_TOPICS[0]?.name ?? 'api-logs-access';
    const token = uniqueToken('restart');
    const producer = kafka('it-restart').producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: token }] });
    await producer.disconnect();

    expect(await stopService('kafka', { signal: 'SIGKILL' }, ctx)).to.equal(true);
    await startService('kafka', ctx);

    const collected = await collectFrom([topic], 'it-restart');
    try {
      await poll(
        async () =>
          collected.messages.some((m) => m.message.value?.toString() === token) ? true : undefined,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      await collected.stop();
    }
    const admin = kafka('it-restart-admin').admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).to.include.members(KAFKA_TOPICS.map((t) => t.name));
    } finally {
      await admin.disconnect();
    }
  });
});
