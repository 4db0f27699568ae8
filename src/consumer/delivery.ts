/**
 * The delivery engine: what the consumer does with one partition's messages, free of Kafka and
 * HTTP. Its effects (push, dead-letter, commit, heartbeat, clock) are functions it is given, so
 * the same code runs under kafkajs (shipper.ts) and under a model in the unit tests.
 *
 * For each chunk of messages (bounded by entries and bytes):
 * 1. poison messages and records that fail the client-side checks become dead letters at once;
 * 2. the other records are pushed in slices of at most `maxEntries` / `maxBytes`. An outage
 *    (anything that is not an acknowledgement or a rejection naming record content) is retried
 *    with exponential backoff and full jitter, for as long as it lasts, heartbeating at least
 *    every `heartbeatIntervalMs` while waiting so the consumer keeps its group membership;
 * 3. a rejected slice is isolated: each of its messages is pushed alone, then each record of a
 *    refused message alone, so exactly the refused records become dead letters;
 * 4. the dead letters are written (retried like an outage until the broker takes them);
 * 5. only then is the offset after the chunk's last message committed.
 *
 * Guarantees (proved by test/unit/consumer-delivery.test.ts on a model):
 * (a) a committed offset never passes a record that is neither acknowledged nor dead-lettered;
 * (b) every record ends acknowledged or dead-lettered, never both, never neither;
 * (c) a record is never pushed again after it was acknowledged, except after a crash or abort;
 *     while a rejected slice is isolated, an accepted record is sent at most 3 times;
 * (d) while a push is retried or waits, heartbeat() is called at least every
 *     `heartbeatIntervalMs` plus one push attempt (bounded by the push timeout).
 */
import type { RejectionReason } from './rejections.ts';

export interface DeliveryMessage<R> {
  /** Kafka offset of the message, as kafkajs gives it (a decimal string). */
  offset: string;
  /** The message's records in order; empty for poison. */
  records: readonly R[];
  /** Set when the message cannot be delivered at all (e.g. undecodable). */
  poison?: { reason: string; detail: string };
}

export interface DeadLetter<R> {
  message: DeliveryMessage<R>;
  /** The refused records of `message`; empty when the whole message is poison. */
  records: R[];
  /** A stable code: `undecodable`, or one of REJECTION_REASONS. */
  reason: string;
  /** The part of the store's or decoder's message that names the cause. */
  detail: string;
}

/** One push attempt's outcome, as the push effect reports it. */
export type PushAnswer =
  | { kind: 'ok' }
  | { kind: 'rejected'; reason: RejectionReason | string; detail: string }
  | { kind: 'outage'; cause: string };

export interface DeliveryEffects<R> {
  /**
   * One push attempt of these records. Must settle within the push timeout; a throw counts as
   * an outage (or as the abort, when stopRequested() is true).
   */
  push(records: readonly R[]): Promise<PushAnswer>;
  /** Writes dead letters durably; a throw is retried like an outage. */
  deadLetter(letters: readonly DeadLetter<R>[]): Promise<void>;
  /** Commits `nextOffset` (the offset after the last delivered message). Errors propagate. */
  commit(nextOffset: string): Promise<void>;
  /** Keeps the group membership; errors (e.g. a rebalance) propagate and end delivery. */
  heartbeat(): Promise<void>;
  /** Waits `ms` milliseconds; may reject when stopping. */
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1) for the backoff's jitter. */
  random(): number;
  /** True once the partition is revoked or the process stops: delivery ends uncommitted. */
  stopRequested(): boolean;
  /** Client-side checks: a refusal the store would give, without the round trip. */
  check?(record: R): { reason: string; detail: string } | undefined;
  /** Approximate bytes of a record in a push. */
  sizeOf(record: R): number;
  /** Monotonic milliseconds, for push durations. */
  now(): number;
  /**
   * Lets pending I/O run (e.g. `setImmediate`) between messages pulled while a chunk is being
   * flushed; a microtask when absent.
   */
  yieldToIo?(): Promise<void>;
  observe?: DeliveryObserver<R>;
}

export interface DeliveryObserver<R> {
  pushed?(records: readonly R[], seconds: number): void;
  deadLettered?(letters: readonly DeadLetter<R>[]): void;
  /** A push or a dead-letter write failed with `cause` and waits before attempt `attempt + 1`. */
  retrying?(attempt: number, cause: string): void;
  /**
   * A refused push of `records` records is narrowed down: they are sent again, message by
   * message, then record by record (duplicates of the accepted ones, if the store kept them).
   */
  isolating?(records: number): void;
  /** The store answered (true), or could not be reached / refused the connection (false). */
  storeState?(healthy: boolean, cause?: string): void;
}

export interface DeliveryOptions {
  /** Records per push. */
  maxEntries: number;
  /** Approximate bytes per push (sum of sizeOf). */
  maxBytes: number;
  /** Backoff between attempts: full jitter under min(max, initial * 2^(attempt-1)), in ms. */
  retry: { initialDelayMs: number; maxDelayMs: number };
  /** Longest wait between heartbeats while backing off, in ms. */
  heartbeatIntervalMs: number;
}

/** Delivery ended because stopRequested() turned true; nothing after the last commit is kept. */
export class DeliveryAborted extends Error {
  override name = 'DeliveryAborted';
}

interface Group<R> {
  message: DeliveryMessage<R>;
  records: R[];
}

/**
 * Delivers one partition's messages, in offset order, at least once.
 *
 * Chunks are flushed one at a time: a chunk's pushes start only once the previous chunk is
 * committed, so at most one push per partition is ever acknowledged and not yet committed (the
 * duplicate bound). What overlaps is reading: while a chunk's push or commit waits for the store
 * or Kafka, the next messages are pulled from `messages`, which is where a lazy iterable decodes
 * them, yielding to the event loop (`fx.yieldToIo`) after each so that the waiting I/O proceeds.
 *
 * @param messages consecutive messages of one partition, in offset order; pulled one at a time,
 *   at most one chunk ahead of the chunk being flushed
 * @throws DeliveryAborted when stopRequested() turns true; errors of commit() and heartbeat(),
 *   and of the iterable; a flush still running is awaited before anything is thrown
 */
export async function deliver<R>(
  messages: Iterable<DeliveryMessage<R>>,
  fx: DeliveryEffects<R>,
  options: DeliveryOptions,
): Promise<void> {
  const engine = new Engine(fx, options);
  let chunk: DeliveryMessage<R>[] = [];
  let entries = 0;
  let bytes = 0;
  let flushing: Promise<void> | undefined;
  const settle = async (): Promise<void> => {
    const previous = flushing;
    flushing = undefined;
    await previous;
  };
  try {
    for (const message of messages) {
      if (fx.stopRequested()) throw new DeliveryAborted('stopped before the next chunk');
      const size = message.records.reduce((sum, record) => sum + fx.sizeOf(record), 0);
      if (
        chunk.length > 0 &&
        (entries + message.records.length > options.maxEntries || bytes + size > options.maxBytes)
      ) {
        await settle();
        if (fx.stopRequested()) throw new DeliveryAborted('stopped before the next chunk');
        flushing = engine.flush(chunk);
        // Observed by settle() or by the catch below; never an unhandled rejection meanwhile.
        flushing.catch(() => undefined);
        chunk = [];
        entries = 0;
        bytes = 0;
      }
      chunk.push(message);
      entries += message.records.length;
      bytes += size;
      if (flushing) await (fx.yieldToIo ? fx.yieldToIo() : Promise.resolve());
    }
    await settle();
    if (chunk.length > 0) {
      if (fx.stopRequested()) throw new DeliveryAborted('stopped before the last chunk');
      await engine.flush(chunk);
    }
  } catch (error) {
    // A flush still waiting may yet commit: delivery ends only once it has.
    await flushing?.catch(() => undefined);
    throw error;
  }
}

class Engine<R> {
  readonly #fx: DeliveryEffects<R>;
  readonly #options: DeliveryOptions;

  constructor(fx: DeliveryEffects<R>, options: DeliveryOptions) {
    this.#fx = fx;
    this.#options = options;
  }

  async flush(chunk: readonly DeliveryMessage<R>[]): Promise<void> {
    const fx = this.#fx;
    const letters: DeadLetter<R>[] = [];
    const pushable: Group<R>[] = [];
    for (const message of chunk) {
      if (message.poison) {
        letters.push({ message, records: [], ...message.poison });
        continue;
      }
      const records: R[] = [];
      for (const record of message.records) {
        const refusal = fx.check?.(record);
        if (refusal) addLetter(letters, message, record, refusal.reason, refusal.detail);
        else records.push(record);
      }
      if (records.length > 0) pushable.push({ message, records });
    }
    for (const slice of this.#slices(pushable)) await this.#pushIsolating(slice, letters);
    if (letters.length > 0) {
      await this.#untilDone(() => fx.deadLetter(letters), 'dead-letter topic');
      fx.observe?.deadLettered?.(letters);
    }
    const last = chunk.at(-1);
    if (last) await fx.commit((BigInt(last.offset) + 1n).toString());
    await fx.heartbeat();
  }

  /** Splits groups into pushes of at most maxEntries records and maxBytes. */
  #slices(groups: readonly Group<R>[]): Group<R>[][] {
    const { maxEntries, maxBytes } = this.#options;
    const slices: Group<R>[][] = [];
    let slice: Group<R>[] = [];
    let entries = 0;
    let bytes = 0;
    for (const { message, records } of groups) {
      let current: Group<R> | undefined;
      for (const record of records) {
        const size = this.#fx.sizeOf(record);
        if (entries > 0 && (entries + 1 > maxEntries || bytes + size > maxBytes)) {
          slices.push(slice);
          slice = [];
          entries = 0;
          bytes = 0;
          current = undefined;
        }
        if (!current) {
          current = { message, records: [] };
          slice.push(current);
        }
        current.records.push(record);
        entries += 1;
        bytes += size;
      }
    }
    if (slice.length > 0) slices.push(slice);
    return slices;
  }

  /**
   * Pushes the records of `groups`; if the store refuses some, narrows down to the message,
   * then to the record, and adds exactly the refused records to `letters`.
   */
  async #pushIsolating(groups: readonly Group<R>[], letters: DeadLetter<R>[]): Promise<void> {
    const records = groups.flatMap((group) => group.records);
    const started = this.#fx.now();
    const answer = await this.#pushUntilAnswered(records);
    if (answer.kind === 'ok') {
      this.#fx.observe?.pushed?.(records, (this.#fx.now() - started) / 1000);
      return;
    }
    const [first] = groups;
    // Loki stored the valid entries of the refused push: narrowing down sends them again.
    if (records.length > 1) this.#fx.observe?.isolating?.(records.length);
    if (records.length === 1 && first) {
      addLetter(letters, first.message, records[0] as R, answer.reason, answer.detail);
    } else if (groups.length > 1) {
      for (const group of groups) await this.#pushIsolating([group], letters);
    } else if (first) {
      for (const record of first.records) {
        await this.#pushIsolating([{ message: first.message, records: [record] }], letters);
      }
    }
  }

  /** Retries outages until the store acknowledges or rejects the records. */
  async #pushUntilAnswered(
    records: readonly R[],
  ): Promise<Exclude<PushAnswer, { kind: 'outage' }>> {
    const fx = this.#fx;
    for (let attempt = 1; ; attempt += 1) {
      if (fx.stopRequested()) throw new DeliveryAborted('stopped while pushing');
      await fx.heartbeat();
      let answer: PushAnswer;
      try {
        answer = await fx.push(records);
      } catch (error) {
        if (fx.stopRequested()) throw new DeliveryAborted('stopped while pushing');
        answer = { kind: 'outage', cause: describe(error) };
      }
      if (answer.kind !== 'outage') {
        fx.observe?.storeState?.(true);
        return answer;
      }
      fx.observe?.storeState?.(false, answer.cause);
      fx.observe?.retrying?.(attempt, answer.cause);
      await this.#backOff(attempt);
    }
  }

  /** Runs `action` until it succeeds, backing off between failures. */
  async #untilDone(action: () => Promise<void>, what: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      if (this.#fx.stopRequested()) throw new DeliveryAborted(`stopped while writing ${what}`);
      await this.#fx.heartbeat();
      try {
        await action();
        return;
      } catch (error) {
        if (this.#fx.stopRequested()) throw new DeliveryAborted(`stopped while writing ${what}`);
        this.#fx.observe?.retrying?.(attempt, `${what}: ${describe(error)}`);
      }
      await this.#backOff(attempt);
    }
  }

  /** Full-jitter exponential backoff, heartbeating at least every heartbeatIntervalMs. */
  async #backOff(attempt: number): Promise<void> {
    const { retry, heartbeatIntervalMs } = this.#options;
    const ceiling = Math.min(
      retry.maxDelayMs,
      retry.initialDelayMs * 2 ** Math.min(attempt - 1, 20),
    );
    // Whole milliseconds: timers have no finer resolution.
    let remaining = Math.round(this.#fx.random() * ceiling);
    while (remaining > 0) {
      const step = Math.min(remaining, heartbeatIntervalMs);
      try {
        await this.#fx.sleep(step);
      } catch (error) {
        if (this.#fx.stopRequested()) throw new DeliveryAborted('stopped while backing off');
        throw error;
      }
      remaining -= step;
      if (this.#fx.stopRequested()) throw new DeliveryAborted('stopped while backing off');
      await this.#fx.heartbeat();
    }
  }
}

function addLetter<R>(
  letters: DeadLetter<R>[],
  message: DeliveryMessage<R>,
  record: R,
  reason: string,
  detail: string,
): void {
  const same = letters.find((letter) => letter.message === message && letter.reason === reason);
  if (same) same.records.push(record);
  else letters.push({ message, records: [record], reason, detail });
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
