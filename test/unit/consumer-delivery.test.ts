/**
 * The delivery engine against a model of Kafka and of a Loki-like store, with fast-check
 * choosing the messages, the store's answers (acknowledged; 400 refusing some entries while
 * storing the others, as Loki does; 429/5xx; network errors; timeouts after or before storing),
 * dead-letter write failures, and stops (a revoked partition or SIGTERM) at any push or wait.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  deliver,
  DeliveryAborted,
  type DeadLetter,
  type DeliveryMessage,
  type DeliveryOptions,
  type PushAnswer,
} from '../../src/consumer/delivery.ts';

interface ModelRecord {
  id: number;
  /** The store refuses it (as Loki refuses a line that is too long or too old). */
  refused: boolean;
  /** The client-side checks refuse it before any push. */
  failsCheck: boolean;
}

type Availability = 'up' | 'down' | 'timeout' | 'stored-then-timeout';

interface Scenario {
  messages: { poison: boolean; records: { refused: boolean; failsCheck: boolean }[] }[];
  availability: Availability[];
  dlqFailures: number;
  /** For each run until one finishes: the effect call (push or wait) at which a stop comes. */
  stops: number[];
  maxEntries: number;
  maxBytes: number;
  jitter: number[];
}

const PUSH_TIMEOUT_MS = 10_000;
const OPTIONS: DeliveryOptions = {
  maxEntries: 4,
  maxBytes: 1000,
  retry: { initialDelayMs: 200, maxDelayMs: 30_000 },
  heartbeatIntervalMs: 3000,
};

interface Outcome {
  violations: string[];
  stored: Map<number, number>;
  deadLettered: Map<number, number>;
  poisonDeadLettered: Set<string>;
  records: ModelRecord[];
  /** Sends of records the store accepted, within one run (isolation resends). */
  maxSendsOfAccepted: number;
  heartbeatGaps: number[];
  pushes: number;
}

/** Runs the engine over the scenario, restarting from the committed offset after each stop. */
async function runModel(scenario: Scenario, options: DeliveryOptions): Promise<Outcome> {
  let nextId = 0;
  const messages: DeliveryMessage<ModelRecord>[] = scenario.messages.map((message, index) => {
    const offset = String(100 + index);
    if (message.poison) {
      return { offset, records: [], poison: { reason: 'undecodable', detail: 'garbage' } };
    }
    return { offset, records: message.records.map((record) => ({ id: nextId++, ...record })) };
  });
  const records = messages.flatMap((message) => [...message.records]);
  const offsetOf = new Map<number, bigint>();
  for (const message of messages) {
    for (const record of message.records) offsetOf.set(record.id, BigInt(message.offset));
  }
  // The duplicate bound: a crash re-delivers what was acknowledged and not committed, at most
  // one push (maxEntries records, or one message's records when a message holds more).
  const duplicateBound = Math.max(
    options.maxEntries,
    ...messages.map((message) => message.records.length),
  );
  const outcome: Outcome = {
    violations: [],
    stored: new Map(),
    deadLettered: new Map(),
    poisonDeadLettered: new Set(),
    records,
    maxSendsOfAccepted: 0,
    heartbeatGaps: [],
    pushes: 0,
  };
  const bump = (map: Map<number, number>, id: number) => map.set(id, (map.get(id) ?? 0) + 1);

  const availability = [...scenario.availability];
  let dlqFailures = scenario.dlqFailures;
  let committed = 100n;
  let clock = 0;
  let jitterIndex = 0;
  const acknowledged = new Set<number>();
  const lettered = new Set<number>();

  for (let run = 0; ; run += 1) {
    const stopAt = scenario.stops[run];
    let effectCalls = 0;
    let stopped = false;
    const tick = () => {
      effectCalls += 1;
      if (stopAt !== undefined && effectCalls >= stopAt) stopped = true;
    };
    const acknowledgedThisRun = new Set<number>();
    const sendsThisRun = new Map<number, number>();
    let lastHeartbeat = clock;
    const from = messages.filter((message) => BigInt(message.offset) >= committed);
    // Pulled lazily, as the consumer decodes: the engine reads ahead while a chunk is flushed.
    function* pulled(): Generator<DeliveryMessage<ModelRecord>> {
      for (const message of from) yield message;
    }

    const store = (pushed: readonly ModelRecord[]) => {
      for (const record of pushed) if (!record.refused) bump(outcome.stored, record.id);
    };

    try {
      await deliver(
        pulled(),
        {
          push: async (pushed) => {
            tick();
            outcome.pushes += 1;
            for (const record of pushed) {
              if (record.failsCheck)
                outcome.violations.push(`record ${record.id} pushed past the check`);
              if (acknowledgedThisRun.has(record.id)) {
                outcome.violations.push(`(c) record ${record.id} pushed again after its ack`);
              }
              bump(sendsThisRun, record.id);
            }
            const state = availability.shift() ?? 'up';
            if (stopped) {
              // Abandoned mid-push: the store may or may not have taken it.
              if (state === 'up') store(pushed);
              clock += 5;
              throw new Error('aborted');
            }
            if (state === 'down') {
              clock += 5;
              return { kind: 'outage', cause: 'HTTP 503' };
            }
            if (state === 'timeout' || state === 'stored-then-timeout') {
              if (state === 'stored-then-timeout') store(pushed);
              clock += PUSH_TIMEOUT_MS;
              return { kind: 'outage', cause: 'TimeoutError' };
            }
            clock += 5;
            store(pushed);
            if (pushed.some((record) => record.refused)) {
              return { kind: 'rejected', reason: 'line_too_long', detail: 'max entry size' };
            }
            for (const record of pushed) {
              acknowledgedThisRun.add(record.id);
              acknowledged.add(record.id);
            }
            const uncommitted = [...acknowledgedThisRun].filter(
              (id) => (offsetOf.get(id) ?? 0n) >= committed,
            ).length;
            if (uncommitted > duplicateBound) {
              outcome.violations.push(
                `(e) ${uncommitted} records acknowledged and not committed, bound ${duplicateBound}`,
              );
            }
            return { kind: 'ok' } satisfies PushAnswer;
          },
          deadLetter: async (letters: readonly DeadLetter<ModelRecord>[]) => {
            if (dlqFailures > 0) {
              dlqFailures -= 1;
              throw new Error('broker unavailable');
            }
            for (const letter of letters) {
              if (letter.message.poison) outcome.poisonDeadLettered.add(letter.message.offset);
              for (const record of letter.records) {
                if (!record.refused && !record.failsCheck) {
                  outcome.violations.push(`record ${record.id} dead-lettered but acceptable`);
                }
                bump(outcome.deadLettered, record.id);
                lettered.add(record.id);
              }
            }
          },
          commit: async (nextOffset) => {
            for (const message of messages) {
              if (BigInt(message.offset) >= BigInt(nextOffset)) continue;
              if (message.poison && !outcome.poisonDeadLettered.has(message.offset)) {
                outcome.violations.push(`(a) commit ${nextOffset} passes poison ${message.offset}`);
              }
              for (const record of message.records) {
                if (!acknowledged.has(record.id) && !lettered.has(record.id)) {
                  outcome.violations.push(`(a) commit ${nextOffset} passes record ${record.id}`);
                }
              }
            }
            if (BigInt(nextOffset) < committed) outcome.violations.push('commit went backwards');
            committed = BigInt(nextOffset);
          },
          heartbeat: async () => {
            outcome.heartbeatGaps.push(clock - lastHeartbeat);
            lastHeartbeat = clock;
          },
          sleep: async (ms) => {
            tick();
            clock += ms;
          },
          random: () => scenario.jitter[jitterIndex++ % scenario.jitter.length] ?? 0.5,
          stopRequested: () => stopped,
          check: (record) =>
            record.failsCheck ? { reason: 'line_too_long', detail: 'client-side' } : undefined,
          sizeOf: () => 100,
          now: () => clock,
        },
        options,
      );
      outcome.heartbeatGaps.push(clock - lastHeartbeat);
      for (const [id, sends] of sendsThisRun) {
        const record = records[id];
        if (record && !record.refused) {
          outcome.maxSendsOfAccepted = Math.max(outcome.maxSendsOfAccepted, sends);
        }
      }
      return outcome;
    } catch (error) {
      if (!(error instanceof DeliveryAborted)) throw error;
      if (run > 20) throw new Error('did not finish', { cause: error });
    }
  }
}

const scenarios: fc.Arbitrary<Scenario> = fc.record({
  messages: fc.array(
    fc.record({
      poison: fc.nat(9).map((n) => n === 0),
      records: fc.array(
        fc.record({
          refused: fc.nat(5).map((n) => n === 0),
          failsCheck: fc.nat(9).map((n) => n === 0),
        }),
        { maxLength: 6 },
      ),
    }),
    { maxLength: 12 },
  ),
  availability: fc.array(
    fc.constantFrom<Availability>('up', 'up', 'down', 'timeout', 'stored-then-timeout'),
    { maxLength: 25 },
  ),
  dlqFailures: fc.nat(3),
  stops: fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 3 }),
  maxEntries: fc.integer({ min: 1, max: 8 }),
  maxBytes: fc.integer({ min: 100, max: 900 }),
  jitter: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
    minLength: 1,
    maxLength: 5,
  }),
});

const optionsOf = (scenario: Scenario): DeliveryOptions => ({
  ...OPTIONS,
  maxEntries: scenario.maxEntries,
  maxBytes: scenario.maxBytes,
});

describe('delivery engine (model-based)', () => {
  it('(a) never commits past a record that is neither acknowledged nor dead-lettered, (c) never pushes an acknowledged record again within a run, (e) never holds more than one push acknowledged and not committed', async () => {
    await fc.assert(
      fc.asyncProperty(scenarios, async (scenario) => {
        const outcome = await runModel(scenario, optionsOf(scenario));
        expect(outcome.violations).to.deep.equal([]);
      }),
      { numRuns: 400 },
    );
  });

  it('(b) every record ends in the store or in the dead letters, never both, never neither', async () => {
    let recordsSeen = 0;
    let refusedSeen = 0;
    await fc.assert(
      fc.asyncProperty(scenarios, async (scenario) => {
        const outcome = await runModel(scenario, optionsOf(scenario));
        for (const record of outcome.records) {
          recordsSeen += 1;
          const stored = outcome.stored.has(record.id);
          const lettered = outcome.deadLettered.has(record.id);
          if (record.refused || record.failsCheck) refusedSeen += 1;
          expect(stored !== lettered, `record ${JSON.stringify(record)}`).to.equal(true);
          expect(lettered).to.equal(record.refused || record.failsCheck);
        }
        for (const [index, scripted] of scenario.messages.entries()) {
          if (scripted.poison) {
            expect(outcome.poisonDeadLettered.has(String(100 + index))).to.equal(true);
          }
        }
      }),
      { numRuns: 400 },
    );
    // Nothing passes on zero samples: the generators produced both kinds of record.
    expect(recordsSeen).to.be.greaterThan(1000);
    expect(refusedSeen).to.be.greaterThan(100);
  });

  it('(c) while isolating a refused push, an accepted record is sent at most 3 times', async () => {
    let worst = 0;
    await fc.assert(
      fc.asyncProperty(
        scenarios.map((scenario) => ({ ...scenario, stops: [], availability: [] })),
        async (scenario) => {
          const outcome = await runModel(scenario, optionsOf(scenario));
          worst = Math.max(worst, outcome.maxSendsOfAccepted);
          expect(outcome.maxSendsOfAccepted).to.be.at.most(3);
        },
      ),
      { numRuns: 300 },
    );
    expect(worst, 'isolation happened in some run').to.equal(3);
  });

  it('(d) heartbeats at least every interval plus one push attempt, whatever the outage', async () => {
    const bound = OPTIONS.heartbeatIntervalMs + PUSH_TIMEOUT_MS;
    let longest = 0;
    await fc.assert(
      fc.asyncProperty(
        scenarios.map((scenario) => ({ ...scenario, stops: [] })),
        fc.array(fc.constantFrom<Availability>('down', 'timeout'), {
          minLength: 20,
          maxLength: 60,
        }),
        async (scenario, outage) => {
          const outcome = await runModel(
            { ...scenario, availability: [...outage, ...scenario.availability] },
            optionsOf(scenario),
          );
          for (const gap of outcome.heartbeatGaps) {
            longest = Math.max(longest, gap);
            expect(gap).to.be.at.most(bound);
          }
        },
      ),
      { numRuns: 200 },
    );
    // The outages were long enough to test the bound: some gap came close to it.
    expect(longest).to.be.greaterThan(PUSH_TIMEOUT_MS);
  });

  it('a long outage is waited out: 5 minutes of failures, then everything is acknowledged', async () => {
    const outcome = await runModel(
      {
        messages: [{ poison: false, records: [{ refused: false, failsCheck: false }] }],
        availability: Array.from({ length: 30 }, () => 'timeout'),
        dlqFailures: 0,
        stops: [],
        maxEntries: 10,
        maxBytes: 1000,
        jitter: [0.99],
      },
      OPTIONS,
    );
    expect(outcome.stored.get(0)).to.equal(1);
    expect(outcome.pushes).to.equal(31);
    expect(Math.max(...outcome.heartbeatGaps)).to.be.at.most(
      OPTIONS.heartbeatIntervalMs + PUSH_TIMEOUT_MS,
    );
  });
});
