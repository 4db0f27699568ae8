import { expect } from 'chai';
import { createKafka } from '../../src/shared/kafka-client.ts';

/** Lines `work` writes to stderr through console.error. */
function stderrOf(work: () => void): string[] {
  const lines: string[] = [];
  const original = console.error;
  console.error = (line: unknown) => lines.push(String(line));
  try {
    work();
  } finally {
    console.error = original;
  }
  return lines;
}

describe('kafkajs clients (src/shared/kafka-client.ts)', () => {
  const logger = createKafka({ clientId: 'test', brokers: ['127.0.0.1:1'] }).logger();

  it('logs what kafkajs retries by itself below ERROR, so a healthy start prints no ERROR line', () => {
    const lines = stderrOf(() =>
      logger.error('[Connection] Response GroupCoordinator(key: 10, version: 2)', {
        error: 'The coordinator is loading and hence can not process requests for this group',
      }),
    );
    expect(lines).to.deep.equal([]);
  });

  it('keeps real errors as one JSON line at level error', () => {
    const lines = stderrOf(() => logger.error('[Producer] failed', { error: 'Broker refused' }));
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0] ?? '{}')).to.include({
      level: 'error',
      msg: '[Producer] failed',
      error: 'Broker refused',
    });
  });
});
