import { expect } from 'chai';
import type { KafkaMessage } from 'kafkajs';
import { matches, parseLetter, REPLAYED_HEADER } from '../../src/consumer/dlq/letters.ts';

const message = (
  offset: string,
  headers: Record<string, string>,
  timestamp = '1000',
): KafkaMessage =>
  ({
    offset,
    timestamp,
    key: null,
    value: Buffer.from('v'),
    attributes: 0,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
  }) as KafkaMessage;

const letterHeaders = {
  'dlq.reason': 'line_too_long',
  'dlq.detail': 'line of 3000 bytes exceeds max_line_size 2000',
  'dlq.records': '2',
  'dlq.source.topic': 'api-logs-access',
  'dlq.source.partition': '1',
  'dlq.source.offset': '42',
};

describe('dead letters read back (npm run dlq)', () => {
  it('parses a letter from its headers', () => {
    const parsed = parseLetter(message('7', letterHeaders));
    expect(parsed).to.have.property('letter');
    if (!parsed || !('letter' in parsed)) return;
    expect(parsed.letter).to.deep.include({
      offset: '7',
      time: 1000,
      reason: 'line_too_long',
      records: 2,
      truncated: false,
      source: { topic: 'api-logs-access', partition: 1, offset: '42' },
    });
  });

  it('tells replay markers from letters, and ignores anything else', () => {
    expect(parseLetter(message('8', { [REPLAYED_HEADER]: '7' }))).to.deep.equal({ replayed: '7' });
    expect(parseLetter(message('9', {}))).to.equal(undefined);
  });

  it('filters by reason, source topic and time', () => {
    const parsed = parseLetter(message('7', letterHeaders, '5000'));
    if (!parsed || !('letter' in parsed)) throw new Error('not a letter');
    const { letter } = parsed;
    expect(matches(letter, {})).to.equal(true);
    expect(matches(letter, { reason: 'line_too_long', sourceTopic: 'api-logs-access' })).to.equal(
      true,
    );
    expect(matches(letter, { reason: 'too_old' })).to.equal(false);
    expect(matches(letter, { sourceTopic: 'api-logs-app' })).to.equal(false);
    expect(matches(letter, { since: 5000, until: 5001 })).to.equal(true);
    expect(matches(letter, { since: 5001 })).to.equal(false);
    expect(matches(letter, { until: 5000 })).to.equal(false);
  });
});
