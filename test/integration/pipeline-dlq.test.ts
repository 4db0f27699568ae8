/**
 * What the consumer does with what it cannot deliver, against the real broker and log store:
 * exactly the refused records are dead-lettered (and replayed once with `npm run dlq`), a
 * compressed poison message is dead-lettered without stopping its partition, and a wrong push
 * URL is an outage that dead-letters nothing.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { CompressionTypes } from 'kafkajs';
import { DLQ_TOPIC } from '../../src/shared/kafka-topics.ts';
import { startComponent, type ComponentEnv } from '../../stack/index.ts';
import {
  decodeExportLogsServiceRequest,
  encodeExportLogsServiceRequest,
} from '../../src/shared/otlp-logs.ts';
import {
  countRecords,
  metricValue,
  startConsumer,
  TrackedProcesses,
  waitForRecords,
} from './pipeline-support.ts';
import { collectFrom, endpoint, kafka, poll, uniqueToken } from './support.ts';

const RESOURCE = { 'service.name': 'shop-api', 'deployment.environment.name': 'test' };

/** One OTLP message per entry of `bodies`' outer list, records tagged `<token>-<n>`. */
function otlpMessages(token: string, bodies: string[][], logType: string): Buffer[] {
  let n = 0;
  const now = BigInt(Date.now()) * 1_000_000n;
  return bodies.map((records) =>
    Buffer.from(
      encodeExportLogsServiceRequest(
        RESOURCE,
        records.map((body) => ({
          timeUnixNano: now + BigInt(n),
          severityNumber: 9,
          severityText: 'INFO',
          body,
          attributes: { 'request.id': `${token}-${n++}`, 'log.type': logType },
        })),
      ),
    ),
  );
}

async function produce(
  topic: string,
  values: Buffer[],
  { partition = 0, compression = CompressionTypes.None } = {},
): Promise<void> {
  const producer = kafka('dlq-test').producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    compression,
    messages: values.map((value) => ({ value, partition })),
  });
  await producer.disconnect();
}

function header(value: unknown): string {
  return Array.isArray(value) ? String(value[0]) : String(value);
}

/** `npm run dlq -- <args>` against the native stack; rejects if it exits non-zero. */
async function dlqTool(args: string[], env: ComponentEnv<'dlq'> = {}) {
  const tool = await startComponent('dlq', endpoint, {
    args,
    output: 'pipe',
    env: { RETRY_MAX_DELAY_MS: '1000', ...env },
  });
  let stdout = '';
  let stderr = '';
  tool.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  tool.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await tool.exited;
  if (code !== 0) throw new Error(`dlq ${args.join(' ')} exited ${code}: ${stderr}`);
  return { stdout, stderr };
}

describe('dead letters end to end', function () {
  this.timeout(240_000);
  const processes = new TrackedProcesses();
  const { track } = processes;
  afterEach(() => processes.stopAll());

  it('dead-letters exactly the refused records as valid OTLP, and `npm run dlq -- replay` stores each once after the limit is raised', async () => {
    const token = uniqueToken('e2elimit');
    const since = new Date(Date.now() - 1000).toISOString();
    const long = 'x'.repeat(3000);
    // Four messages, each mixing records under and over a 2000-byte line limit.
    const bodies = [
      ['short', long, 'short', 'short'],
      [long, 'short'],
      ['short', 'short', long],
      [long, long, 'short'],
    ];
    const refused = bodies.flat().filter((body) => body === long).length;
    const accepted = bodies.flat().length - refused;
    const dlq = await collectFrom([DLQ_TOPIC], 'dlq-limit');
    try {
      const consumer = await track(startConsumer({ STORE_MAX_LINE_BYTES: '2000' }));
      await produce('api-logs-access', otlpMessages(token, bodies, 'access'));
      const stored = await waitForRecords('access', token, accepted);
      expect(stored).to.deep.equal({ total: accepted, distinct: accepted });

      const ours = () =>
        dlq.messages.filter(({ message }) =>
          (message.value?.toString('latin1') ?? '').includes(token),
        );
      // One letter per source message (all four hold a refused record).
      await poll(async () => (ours().length === 4 ? true : undefined), { timeoutMs: 60_000 });
      const letters = ours();
      const lettered = letters.flatMap(({ message }) => {
        expect(header(message.headers?.['dlq.reason'])).to.equal('line_too_long');
        expect(header(message.headers?.['dlq.detail'])).to.match(/line of \d+ bytes exceeds/);
        expect(header(message.headers?.['dlq.source.topic'])).to.equal('api-logs-access');
        const [resource] = decodeExportLogsServiceRequest(message.value ?? Buffer.alloc(0));
        expect(resource?.resource).to.deep.include(RESOURCE);
        return resource?.scopes.flatMap((scope) => scope.records) ?? [];
      });
      // The store kept the short records, the DLQ holds only the long ones: none in both.
      expect(lettered).to.have.length(refused);
      for (const record of lettered) expect(record.body).to.equal(long);
      expect(
        await metricValue(
          consumer.url,
          'log_consumer_records_dead_lettered_total',
          'error_type="line_too_long"',
        ),
      ).to.equal(refused);
      expect(
        await metricValue(consumer.url, 'log_consumer_records_pushed_total', 'api-logs-access'),
      ).to.be.at.least(accepted);

      const listed = await dlqTool(['list', '--reason', 'line_too_long', '--since', since]);
      expect(listed.stdout.split('\n').filter((line) => line.includes('pending'))).to.have.length(
        4,
      );

      // The cause fixed (the default 256 KB limit), the records come back, each once.
      const replayed = await dlqTool([
        'replay',
        '--reason',
        'line_too_long',
        '--topic',
        'api-logs-access',
        '--since',
        since,
      ]);
      expect(JSON.parse(replayed.stdout)).to.deep.equal({
        replayedLetters: 4,
        recordsPushed: refused,
        recordsDeadLetteredAgain: 0,
      });
      const all = accepted + refused;
      expect(await waitForRecords('access', token, all)).to.deep.equal({
        total: all,
        distinct: all,
      });
      const again = await dlqTool(['replay', '--reason', 'line_too_long', '--since', since]);
      expect(JSON.parse(again.stdout)).to.include({ replayedLetters: 0, recordsPushed: 0 });
      expect(await countRecords('access', token)).to.deep.equal({ total: all, distinct: all });
    } finally {
      await dlq.stop();
    }
  });

  it('dead-letters each kind the client-side limits know, with its reason, and stores the rest', async () => {
    const token = uniqueToken('e2ekinds');
    const now = BigInt(Date.now()) * 1_000_000n;
    const minutes = (n: number) => BigInt(n) * 60_000_000_000n;
    const record = (n: number, overrides: { time?: bigint; body?: string; id?: string } = {}) => ({
      timeUnixNano: overrides.time ?? now + BigInt(n),
      severityNumber: 9,
      severityText: 'INFO',
      body: overrides.body ?? 'ok',
      attributes: { 'request.id': `${token}-${n}${overrides.id ?? ''}` },
    });
    // In partition order: the newest entry first, then entries 58 and 62 minutes behind it in
    // the same partition's stream (Loki's max_chunk_age/2 rule refuses the second).
    const messages: [Record<string, string>, ReturnType<typeof record>[], string | undefined][] = [
      [RESOURCE, [record(0)], undefined],
      [RESOURCE, [record(1, { time: now - minutes(58) })], undefined],
      [RESOURCE, [record(2, { time: now - minutes(62) })], 'too_far_behind'],
      [RESOURCE, [record(3, { time: now - minutes(169 * 60) })], 'too_old'],
      [RESOURCE, [record(4, { time: now + minutes(11) })], 'too_new'],
      [RESOURCE, [record(5, { body: 'x'.repeat(300 * 1024) })], 'line_too_long'],
      [RESOURCE, [record(6, { id: `-${'m'.repeat(70 * 1024)}` })], 'structured_metadata_too_large'],
      [{ ...RESOURCE, 'service.name': 's'.repeat(3000) }, [record(7)], 'label_value_too_long'],
      [RESOURCE, [record(8)], undefined],
    ];
    const dlq = await collectFrom([DLQ_TOPIC], 'dlq-kinds');
    try {
      const consumer = await track(startConsumer());
      await produce(
        'api-logs-other',
        messages.map(([resource, records]) =>
          Buffer.from(encodeExportLogsServiceRequest(resource, records)),
        ),
      );
      const refused = messages.filter(([, , reason]) => reason !== undefined);
      const ours = () =>
        dlq.messages.filter(({ message }) =>
          (message.value?.toString('latin1') ?? '').includes(token),
        );
      await poll(async () => (ours().length === refused.length ? true : undefined), {
        timeoutMs: 60_000,
      });
      const reasons = ours().map(({ message }) => header(message.headers?.['dlq.reason']));
      expect(reasons.sort()).to.deep.equal(refused.map(([, , reason]) => reason).sort());
      const stored = messages.length - refused.length;
      expect(await waitForRecords('other', token, stored)).to.deep.equal({
        total: stored,
        distinct: stored,
      });
      for (const [, , reason] of refused) {
        expect(
          await metricValue(
            consumer.url,
            'log_consumer_records_dead_lettered_total',
            `error_type="${reason}"`,
          ),
          reason,
        ).to.equal(1);
      }
    } finally {
      await dlq.stop();
    }
  });

  it('dead-letters a 3 MB gzip-compressed poison message compressed, and its neighbours are stored once', async () => {
    const token = uniqueToken('e2egzip');
    const dlq = await collectFrom([DLQ_TOPIC], 'dlq-gzip');
    try {
      // Accepted by the broker: its limit applies to the compressed batch.
      await produce('api-logs-app', [Buffer.alloc(3_000_000)], {
        compression: CompressionTypes.GZIP,
      });
      await produce(
        'api-logs-app',
        otlpMessages(
          token,
          Array.from({ length: 10 }, () => ['after the poison']),
          'app',
        ),
      );
      const consumer = await track(startConsumer());
      expect(await waitForRecords('app', token, 10)).to.deep.equal({ total: 10, distinct: 10 });
      const letter = await poll(
        async () =>
          dlq.messages.find(
            ({ message }) =>
              message.value?.length === 3_000_000 &&
              header(message.headers?.['dlq.source.topic']) === 'api-logs-app',
          ),
        { timeoutMs: 60_000 },
      );
      expect(header(letter.message.headers?.['dlq.reason'])).to.equal('undecodable');
      expect(letter.message.headers?.['dlq.truncated']).to.equal(undefined);
      // No crash and restart loop: the consumer joined its group once and stays ready.
      expect(await metricValue(consumer.url, 'log_consumer_group_joins_total')).to.equal(1);
      expect((await fetch(`${consumer.url}/health`)).status).to.equal(200);
      await poll(
        async () =>
          (await metricValue(consumer.url, 'log_consumer_lag')) === 0 ? true : undefined,
        { timeoutMs: 60_000 },
      );
      expect(await countRecords('app', token)).to.deep.equal({ total: 10, distinct: 10 });
    } finally {
      await dlq.stop();
    }
  });

  it('truncates a dead letter the dead-letter topic still refuses after gzip, with its size and cause in headers', async () => {
    const admin = kafka('dlq-limit-admin').admin();
    await admin.connect();
    const setDlqLimit = (value: string | null) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: 2, // TOPIC
            name: DLQ_TOPIC,
            configEntries: [{ name: 'max.message.bytes', value: value ?? '1048588' }],
          },
        ],
      });
    const dlq = await collectFrom([DLQ_TOPIC], 'dlq-truncate');
    try {
      // A dead-letter topic whose limit is below what the source topic accepted.
      await setDlqLimit('100000');
      const token = uniqueToken('e2etrunc');
      const garbage = Buffer.concat([Buffer.from(`not OTLP ${token} `), randomBytes(300_000)]);
      await produce('api-logs-other', [garbage]);
      const consumer = await track(startConsumer({ DLQ_TRUNCATE_BYTES: '50000' }));
      const letter = await poll(
        async () =>
          dlq.messages.find(({ message }) =>
            (message.value?.subarray(0, 64).toString('latin1') ?? '').includes(token),
          ),
        { timeoutMs: 60_000 },
      );
      expect(letter.message.value?.length).to.equal(50_000);
      expect(header(letter.message.headers?.['dlq.truncated'])).to.equal('true');
      expect(header(letter.message.headers?.['dlq.original.bytes'])).to.equal(
        String(garbage.length),
      );
      expect(header(letter.message.headers?.['dlq.truncated.cause'])).to.match(
        /larger than the max message size|too large/i,
      );
      expect(header(letter.message.headers?.['dlq.reason'])).to.equal('undecodable');
      expect(await metricValue(consumer.url, 'log_consumer_group_joins_total')).to.equal(1);
    } finally {
      await setDlqLimit(null);
      await admin.disconnect();
      await dlq.stop();
    }
  });

  it('treats a wrong push URL as an outage: nothing dead-lettered, /health unready with the store answer, everything stored once fixed', async () => {
    const token = uniqueToken('e2eurl');
    const dlq = await collectFrom([DLQ_TOPIC], 'dlq-url');
    try {
      const wrong = await track(
        startConsumer({ LOKI_PUSH_URL: `${endpoint.lokiPush}X` }, { waitForHealth: false }),
      );
      await produce(
        'api-logs-access',
        otlpMessages(
          token,
          Array.from({ length: 5 }, () => ['a', 'b', 'c', 'd']),
          'access',
        ),
      );
      await poll(
        async () =>
          (await metricValue(wrong.url, 'log_consumer_push_retries_total', 'error_type="4xx"')) >= 3
            ? true
            : undefined,
        { timeoutMs: 60_000 },
      );
      const health = await fetch(`${wrong.url}/health`);
      expect(health.status).to.equal(503);
      const body = (await health.json()) as { store?: { lastAnswer?: string } };
      expect(body.store?.lastAnswer).to.match(/^HTTP 400: .*unsupported path/i);
      expect(await metricValue(wrong.url, 'log_consumer_store_up')).to.equal(0);
      expect(await metricValue(wrong.url, 'log_consumer_records_dead_lettered_total')).to.equal(0);
      await wrong.stop('SIGTERM');

      await track(startConsumer());
      expect(await waitForRecords('access', token, 20)).to.deep.equal({ total: 20, distinct: 20 });
      expect(
        dlq.messages.filter(({ message }) =>
          (message.value?.toString('latin1') ?? '').includes(token),
        ),
      ).to.have.length(0);
    } finally {
      await dlq.stop();
    }
  });
});
