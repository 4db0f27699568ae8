import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { createContext, endpoints, poll } from '../../stack/index.ts';

const { Kafka, logLevel } = kafkajs;

export const ctx = createContext(() => undefined);
export const endpoint = endpoints(ctx);

/** A token unique to this run that LogsQL and topic filters can match as one word. */
export function uniqueToken(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

// kafkajs logs expected conditions (rebalances, unknown topics) at ERROR; the assertions say
// what matters. KAFKAJS_LOG=1 brings its logs back for debugging.
const kafkaLogLevel = process.env.KAFKAJS_LOG === '1' ? logLevel.INFO : logLevel.NOTHING;

export function kafka(clientId: string): kafkajs.Kafka {
  return new Kafka({ clientId, brokers: endpoint.kafkaBrokers, logLevel: kafkaLogLevel });
}

export { poll };

export interface Collected {
  messages: EachMessagePayload[];
  consumer: Consumer;
  stop: () => Promise<void>;
}

/** Reads `topics` from the beginning in a fresh consumer group, collecting every message. */
export async function collectFrom(topics: string[], groupPrefix: string): Promise<Collected> {
  const consumer = kafka(groupPrefix).consumer({ groupId: uniqueToken(`${groupPrefix}-`) });
  const messages: EachMessagePayload[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async (payload) => {
      messages.push(payload);
    },
  });
  return { messages, consumer, stop: () => consumer.disconnect() };
}
