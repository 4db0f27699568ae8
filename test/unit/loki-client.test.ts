import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { LokiClient } from '../../src/consumer/loki-client.ts';
import { causeOf, classifyAnswer } from '../../src/consumer/rejections.ts';

/** A scripted push endpoint: answers each request with the next status and body in the list. */
async function scriptedEndpoint(
  answers: [status: number, body: string][],
): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const [status, body] = answers[Math.min(hits, answers.length - 1)] ?? [204, ''];
      hits += 1;
      res.writeHead(status).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/push`, hits: () => hits };
}

const stream = [{ labels: { log_type: 'app' }, entries: [{ timestampNs: 1n, line: '{}' }] }];
const client = (pushUrl: string, timeoutMs = 2000) =>
  new LokiClient({ pushUrl, tenant: 'team-a', format: 'protobuf', timeoutMs });

const LONG_SELECTOR = `{deployment_environment="test", level="info", log_type="${'x'.repeat(3000)}", service_name="shop-api"}`;

// Messages in the formats of Loki 3.x (pkg/validation/validate.go and the ingester's stream.go).
const LOKI_REJECTIONS: [string, string][] = [
  [
    `entry for stream '${LONG_SELECTOR}' has timestamp too old: 2026-11-01T00:00:00Z, oldest acceptable timestamp is: 2026-11-23T00:00:00Z`,
    'too_old',
  ],
  [`entry for stream '${LONG_SELECTOR}' has timestamp too new: 2027-01-01T00:00:00Z`, 'too_new'],
  [
    `entry with timestamp 2026-11-30 01:00:00 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2026-11-30T01:00:00Z, oldest acceptable timestamp is: 2026-11-30T02:03:00Z',\nuser 'fake', total ignored: 1 out of 3 for stream: ${LONG_SELECTOR}`,
    'too_far_behind',
  ],
  [
    `Max entry size '262144' bytes exceeded for stream '${LONG_SELECTOR}' while adding an entry with length '300000' bytes`,
    'line_too_long',
  ],
  [
    `stream '${LONG_SELECTOR}' has structured metadata too large: '70000' bytes, limit: '65536' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it.`,
    'structured_metadata_too_large',
  ],
  [
    `stream '${LONG_SELECTOR}' has label value too long: '${'x'.repeat(3000)}'`,
    'label_value_too_long',
  ],
  [
    `Error parsing labels '{a=' with error: 1:4: parse error: unexpected end of input`,
    'invalid_labels',
  ],
];

describe('store answers', () => {
  for (const [message, reason] of LOKI_REJECTIONS) {
    it(`a 400 "${message.slice(0, 40)}…" is a ${reason} rejection whose detail keeps the cause`, () => {
      const answer = classifyAnswer(400, message);
      expect(answer).to.include({ kind: 'rejected', reason });
      if (answer.kind !== 'rejected') return;
      expect(answer.detail.length).to.be.at.most(1000);
      // The cause survives the stream selector that precedes it.
      const cause = message
        .replace(LONG_SELECTOR, '')
        .match(/(too old|too new|too far behind|exceeded|too large|too long|parse error)/)?.[0];
      expect(answer.detail).to.contain(cause);
    });
  }

  for (const [status, body] of [
    [400, 'unsupported path requested: "/insert/loki/api/v1/pushX"'],
    [400, 'cannot parse request body: snappy: corrupt input'],
    [401, 'no org id'],
    [403, 'forbidden'],
    [404, '404 page not found'],
    [405, 'method not allowed'],
    [408, 'request timeout'],
    [413, 'request entity too large'],
    [
      429,
      `Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest '1000' lines totaling '5000000' bytes`,
    ],
    [500, 'internal error'],
    [503, 'unavailable'],
  ] as const) {
    it(`${status} "${body.slice(0, 30)}" is an outage, never a record's fault`, () => {
      expect(classifyAnswer(status, body)).to.include({ kind: 'outage' });
    });
  }

  it('shortens only long label sets', () => {
    expect(causeOf(`stream '{a="1"}' bad`)).to.equal(`stream '{a="1"}' bad`);
    const short = causeOf(`stream '${LONG_SELECTOR}' has label value too long`);
    expect(short).to.match(
      /^stream .\{deployment_environment="test", level="i…\(\d+ chars\)\}. has label/,
    );
    expect(short).to.have.length.below(100);
  });
});

describe('LokiClient', () => {
  it('classifies each attempt and never retries by itself', async () => {
    const endpoint = await scriptedEndpoint([
      [503, 'unavailable'],
      [400, 'entry for stream \'{a="b"}\' has timestamp too old: x'],
      [404, 'not found'],
      [204, ''],
    ]);
    const loki = client(endpoint.url);
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await loki.attempt(stream));
    endpoint.server.close();
    expect(answers.map((answer) => answer.kind)).to.deep.equal([
      'outage',
      'rejected',
      'outage',
      'ok',
    ]);
    expect(endpoint.hits()).to.equal(4);
  });

  it('reports an unreachable store as an outage', async () => {
    const answer = await client('http://127.0.0.1:9/push').attempt(stream);
    expect(answer.kind).to.equal('outage');
  });

  it('probes the push URL with an empty push and reports the answer', async () => {
    const endpoint = await scriptedEndpoint([
      [400, 'unsupported path requested: "/pushX"'],
      [204, ''],
    ]);
    const loki = client(endpoint.url);
    expect(await loki.probe()).to.deep.equal({
      ok: false,
      cause: 'HTTP 400: unsupported path requested: "/pushX"',
    });
    expect(await loki.probe()).to.deep.equal({ ok: true });
    endpoint.server.close();
  });

  it('stops an attempt when aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    let failure: unknown;
    await client('http://127.0.0.1:9/push')
      .attempt(stream, stop.signal)
      .catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(Error);
  });
});
