import { expect } from 'chai';
import fc from 'fast-check';
import {
  decodeLokiProtobuf,
  encodeLokiProtobuf,
  type LokiStream,
} from '../../src/shared/loki-push.ts';

// Loki's label names: [a-zA-Z_][a-zA-Z0-9_]*; values and lines any text.
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/);
const stream: fc.Arbitrary<LokiStream> = fc.record({
  labels: fc.dictionary(labelName, fc.string({ unit: 'grapheme' }), { minKeys: 1, maxKeys: 4 }),
  entries: fc.array(
    fc.record({
      timestampNs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      line: fc.string({ unit: 'grapheme' }),
      structuredMetadata: fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    }),
    { maxLength: 5 },
  ),
});

describe('Loki push encoding (protobuf)', () => {
  it('round-trips through the generated logproto decoder: labels, timestamps, lines, metadata', () => {
    fc.assert(
      fc.property(fc.array(stream, { maxLength: 4 }), (streams) => {
        expect(decodeLokiProtobuf(encodeLokiProtobuf(streams))).to.deep.equal(streams);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes an empty push (the store probe) as an empty request', () => {
    expect(decodeLokiProtobuf(encodeLokiProtobuf([]))).to.deep.equal([]);
  });
});
