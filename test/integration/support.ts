import { randomBytes } from 'node:crypto';
import net from 'node:net';
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

/**
 * The environment of a stack of its own: every service port moved into the block starting at
 * `block` (e.g. 19_000 -> Kafka on 19092), the components' scrape targets too, and its own run
 * directory. A command started with it starts (and must stop) its own services instead of
 * reusing the suite's.
 */
export function ownStack(block: number, runDir: string) {
  const ports = {
    KAFKA_PORT: block + 92,
    KAFKA_CONTROLLER_PORT: block + 93,
    OTLP_GRPC_PORT: block + 317,
    OTLP_HTTP_PORT: block + 318,
    COLLECTOR_HEALTH_PORT: block + 133,
    COLLECTOR_METRICS_PORT: block + 888,
    PROMETHEUS_PORT: block + 90,
    VICTORIALOGS_PORT: block + 428,
    JAEGER_OTLP_HTTP_PORT: block + 320,
    JAEGER_QUERY_PORT: block + 686,
    JAEGER_QUERY_GRPC_PORT: block + 685,
    JAEGER_HEALTH_PORT: block + 134,
  };
  const componentPorts = { api: block + 800, consumer: block + 469, canary: block + 470 };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    API_METRICS_TARGET: `127.0.0.1:${componentPorts.api}`,
    CONSUMER_METRICS_TARGET: `127.0.0.1:${componentPorts.consumer}`,
    CANARY_METRICS_TARGET: `127.0.0.1:${componentPorts.canary}`,
    SERVICES_RUN_DIR: runDir,
  };
  return { env, ports: [...Object.values(ports), ...Object.values(componentPorts)] };
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
