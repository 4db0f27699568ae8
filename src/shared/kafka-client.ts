/**
 * kafkajs clients for every component, with one logging policy. kafkajs logs at ERROR the
 * conditions it then retries by itself (a group coordinator still loading after a broker start,
 * a leader election in progress, a rebalance): in a healthy start-up these would be the only
 * ERROR lines a user sees. They are logged at INFO instead, and kafkajs' lines come out as the
 * component's one-line JSON logs.
 */
import kafkajs from 'kafkajs';
import { quietKafkajsTimerWarning } from './kafkajs-warnings.ts';

const { Kafka, logLevel } = kafkajs;

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info';

const LEVELS: Record<KafkaLogLevel, kafkajs.logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
};

/** Starts of the messages of Kafka protocol errors that kafkajs retries without giving up. */
const RETRIED_BY_KAFKAJS = [
  'The coordinator is loading',
  'The group coordinator is not available',
  'This is not the correct coordinator',
  'There is no leader for this topic-partition',
  'This server is not the leader',
  'The group is rebalancing',
];

/** True for a kafkajs log entry about a condition it retries itself (see RETRIED_BY_KAFKAJS). */
export function isRetriedByKafkajs(error: unknown): boolean {
  const text = typeof error === 'string' ? error : '';
  return RETRIED_BY_KAFKAJS.some((start) => text.startsWith(start));
}

const LABELS: Partial<Record<kafkajs.logLevel, string>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export interface KafkaClientOptions {
  clientId: string;
  /** host:port of every broker to bootstrap from. */
  brokers: string[];
  /** kafkajs lines at this level or more severe are written to stderr as JSON (default warn). */
  logLevel?: KafkaLogLevel;
  /** Passed through to kafkajs (e.g. a short connectionTimeout for health checks). */
  connectionTimeout?: number;
  retry?: kafkajs.RetryOptions;
}

/** A kafkajs client with the project's logging policy (see the module comment). */
export function createKafka(options: KafkaClientOptions): kafkajs.Kafka {
  quietKafkajsTimerWarning();
  const threshold = LEVELS[options.logLevel ?? 'warn'];
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...(options.connectionTimeout !== undefined && {
      connectionTimeout: options.connectionTimeout,
    }),
    ...(options.retry && { retry: options.retry }),
    logLevel: threshold,
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, timestamp, ...fields } = log;
        const effective =
          level <= logLevel.WARN && isRetriedByKafkajs(fields['error']) ? logLevel.INFO : level;
        if (effective > threshold) return;
        console.error(
          JSON.stringify({
            time: timestamp,
            level: LABELS[effective] ?? 'info',
            msg: message,
            logger: `kafkajs.${namespace}`,
            ...fields,
          }),
        );
      },
  });
}
