/**
 * Dead letters as the consumer writes them to the dead-letter topic, read back: their headers
 * parsed, filtered by reason, source topic and time, and the replay ledger.
 *
 * The ledger is kept in the dead-letter topic itself: after a letter has been replayed, the
 * replay writes a marker message (empty value, header `dlq.replayed.offset`) so that a later
 * `replay` skips it. Source topics are never written.
 */
import type { KafkaMessage } from 'kafkajs';

export interface Letter {
  /** Offset in the dead-letter topic. */
  offset: string;
  /** When it was dead-lettered (the Kafka message timestamp), ms since the epoch. */
  time: number;
  reason: string;
  detail: string;
  /** Records in the letter; 0 when it is a whole undecodable message. */
  records: number;
  source: { topic: string; partition: number; offset: string };
  truncated: boolean;
  value: Buffer | null;
}

export interface LetterFilter {
  reason?: string;
  sourceTopic?: string;
  /** Only letters dead-lettered at or after this time, ms since the epoch. */
  since?: number;
  /** Only letters dead-lettered before this time, ms since the epoch. */
  until?: number;
}

export const REPLAYED_HEADER = 'dlq.replayed.offset';

function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The letter in `message`, or the offset it marks as replayed when it is a ledger marker. */
export function parseLetter(
  message: KafkaMessage,
): { letter: Letter } | { replayed: string } | undefined {
  const replayed = header(message, REPLAYED_HEADER);
  if (replayed !== undefined) return { replayed };
  const reason = header(message, 'dlq.reason');
  if (reason === undefined) return undefined;
  return {
    letter: {
      offset: message.offset,
      time: Number(message.timestamp),
      reason,
      detail: header(message, 'dlq.detail') ?? '',
      records: Number(header(message, 'dlq.records') ?? 0),
      source: {
        topic: header(message, 'dlq.source.topic') ?? '',
        partition: Number(header(message, 'dlq.source.partition') ?? 0),
        offset: header(message, 'dlq.source.offset') ?? '',
      },
      truncated: header(message, 'dlq.truncated') === 'true',
      value: message.value,
    },
  };
}

export function matches(letter: Letter, filter: LetterFilter): boolean {
  return (
    (filter.reason === undefined || letter.reason === filter.reason) &&
    (filter.sourceTopic === undefined || letter.source.topic === filter.sourceTopic) &&
    (filter.since === undefined || letter.time >= filter.since) &&
    (filter.until === undefined || letter.time < filter.until)
  );
}
