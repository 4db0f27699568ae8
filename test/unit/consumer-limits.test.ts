import { expect } from 'chai';
import { LimitChecker, LOKI_DEFAULT_LIMITS } from '../../src/consumer/limits.ts';
import { mapResourceLogs, type MappedEntry } from '../../src/consumer/mapping.ts';
import type { DecodedLogRecord } from '../../src/shared/otlp-logs.ts';

const NOW_MS = Date.UTC(2026, 10, 30, 12, 0, 0);
const MINUTE_NS = 60_000_000_000n;
const nowNs = BigInt(NOW_MS) * 1_000_000n;

/** One access record of one API instance, mapped as the consumer maps it from `partition`. */
function entry(
  partition: number,
  overrides: Partial<DecodedLogRecord> = {},
  resource: Record<string, string> = {},
): MappedEntry {
  const record: DecodedLogRecord = {
    timeUnixNano: nowNs,
    observedTimeUnixNano: 0n,
    severityNumber: 9,
    severityText: 'INFO',
    body: 'GET /health',
    attributes: { 'request.id': 'r-1' },
    traceId: '',
    spanId: '',
    eventName: '',
    ...overrides,
  };
  const [mapped] = mapResourceLogs(
    [
      {
        resource: { 'service.name': 'shop-api', ...resource },
        scopes: [{ name: 's', version: '', records: [record] }],
      },
    ],
    'access',
    nowNs,
    partition,
  );
  if (!mapped) throw new Error('nothing mapped');
  return mapped;
}

const checker = () => new LimitChecker(LOKI_DEFAULT_LIMITS, () => NOW_MS);

describe('client-side store limits (mirror of Loki 3.x)', () => {
  it('accepts an ordinary record', () => {
    expect(checker().check(entry(0))).to.equal(undefined);
  });

  it('refuses a line over max_line_size (256 KB), in bytes', () => {
    const limits = checker();
    expect(limits.check(entry(0, { body: 'é'.repeat(130 * 1024) }))).to.include({
      reason: 'line_too_long',
    });
    expect(limits.check(entry(0, { body: 'x'.repeat(200 * 1024) }))).to.equal(undefined);
  });

  it('refuses structured metadata over 64 KB', () => {
    expect(
      checker().check(entry(0, { attributes: { 'request.id': 'x'.repeat(65 * 1024) } })),
    ).to.include({ reason: 'structured_metadata_too_large' });
  });

  it('refuses a label value over 2048 bytes', () => {
    expect(checker().check(entry(0, {}, { 'service.name': 's'.repeat(2049) }))).to.include({
      reason: 'label_value_too_long',
    });
  });

  it('refuses timestamps older than reject_old_samples_max_age or beyond the grace period', () => {
    expect(checker().check(entry(0, { timeUnixNano: nowNs - 169n * 60n * MINUTE_NS }))).to.include({
      reason: 'too_old',
    });
    expect(checker().check(entry(0, { timeUnixNano: nowNs + 11n * MINUTE_NS }))).to.include({
      reason: 'too_new',
    });
    expect(checker().check(entry(0, { timeUnixNano: nowNs + 9n * MINUTE_NS }))).to.equal(undefined);
  });

  // Issue case: a record timestamped now on partition 1, then one of the same resource 62
  // minutes earlier on partition 0. Loki refuses an entry more than max_chunk_age/2 (1 h) older
  // than its stream's newest; with a stream per partition the lagging partition is accepted.
  it('keeps a lagging partition apart: 62 minutes behind another partition is accepted', () => {
    const limits = checker();
    expect(limits.check(entry(1))).to.equal(undefined);
    expect(limits.check(entry(0, { timeUnixNano: nowNs - 62n * MINUTE_NS }))).to.equal(undefined);
    expect(entry(0).labels).to.include({ messaging_destination_partition_id: '0' });
  });

  it('refuses, as Loki does, an entry more than 1 h behind the newest of its own stream', () => {
    const limits = checker();
    expect(limits.check(entry(0))).to.equal(undefined);
    expect(limits.check(entry(0, { timeUnixNano: nowNs - 58n * MINUTE_NS }))).to.equal(undefined);
    const refusal = limits.check(entry(0, { timeUnixNano: nowNs - 62n * MINUTE_NS }));
    expect(refusal).to.include({ reason: 'too_far_behind' });
    expect(refusal?.detail).to.contain('3600 s');
  });
});
