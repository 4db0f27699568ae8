import { expect } from 'chai';
import { decodeMessage, UndecodableMessage } from '../../src/shared/otlp-message.ts';
import { levelOf, mapResourceLogs } from '../../src/consumer/mapping.ts';
import { toStreams } from '../../src/consumer/shipper.ts';
import { encodeResourceLogs, type AttributeValue } from '../../src/shared/otlp-logs.ts';

const otlpJson = {
  resourceLogs: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'shop-api' } },
          { key: 'deployment.environment.name', value: { stringValue: 'test' } },
        ],
      },
      scopeLogs: [
        {
          scope: { name: 'shop-api' },
          logRecords: [
            {
              timeUnixNano: '1700000000123456789',
              severityNumber: 13,
              severityText: 'WARN',
              body: { stringValue: 'GET /users/:id 404' },
              traceId: '5B8EFFF798038103D269B633813FC60C',
              spanId: 'EEE19B7EC3C1B174',
              attributes: [
                { key: 'log.type', value: { stringValue: 'access' } },
                { key: 'http.route', value: { stringValue: '/users/:id' } },
                { key: 'http.response.status_code', value: { intValue: '404' } },
                { key: 'request.id', value: { stringValue: 'req-1' } },
                { key: 'user_agent.original', value: { stringValue: 'x"\n{"forged":1}' } },
              ],
            },
            { observedTimeUnixNano: '1700000000000000001', body: { stringValue: 'no time' } },
          ],
        },
      ],
    },
  ],
};

describe('consumer: decoding and mapping', () => {
  const decoded = decodeMessage(Buffer.from(JSON.stringify(otlpJson)), 'auto');
  const mapped = mapResourceLogs(decoded, 'access', 42n);
  const [first, second] = mapped;

  it('uses only the four low-cardinality labels', () => {
    expect(first?.labels).to.deep.equal({
      service_name: 'shop-api',
      log_type: 'access',
      level: 'warn',
      deployment_environment: 'test',
    });
  });

  it('writes the body and attributes as one JSON line, ids as structured metadata', () => {
    const line = JSON.parse(first?.entry.line ?? '{}');
    expect(line).to.deep.include({
      msg: 'GET /users/:id 404',
      http_route: '/users/:id',
      http_response_status_code: 404,
      request_id: 'req-1',
    });
    expect(line).to.not.have.property('log_type');
    expect(first?.entry.structuredMetadata).to.deep.equal({
      trace_id: '5b8efff798038103d269b633813fc60c',
      span_id: 'eee19b7ec3c1b174',
      request_id: 'req-1',
    });
  });

  it('keeps hostile text inside one JSON string value on one line', () => {
    const text = first?.entry.line ?? '';
    expect(text).to.not.include('\n');
    expect(JSON.parse(text).user_agent_original).to.equal('x"\n{"forged":1}');
    expect(JSON.parse(text)).to.not.have.property('forged');
  });

  it('takes the record time, then the observed time, then now', () => {
    expect(first?.entry.timestampNs).to.equal(1700000000123456789n);
    expect(second?.entry.timestampNs).to.equal(1700000000000000001n);
    expect(second?.labels['level']).to.equal('unknown');
  });

  it('maps severity numbers to Loki levels', () => {
    expect(levelOf({ severityNumber: 9, severityText: '' })).to.equal('info');
    expect(levelOf({ severityNumber: 17, severityText: '' })).to.equal('error');
    expect(levelOf({ severityNumber: 0, severityText: 'DEBUG' })).to.equal('debug');
  });

  it('groups entries into one stream per label set', () => {
    const streams = toStreams([...mapped, ...mapped.slice(0, 1)]);
    expect(streams).to.have.length(2);
    expect(streams[0]?.entries).to.have.length(2);
  });

  it("keeps attributes named like Object.prototype's members as fields of the line", () => {
    const attributes: Record<string, AttributeValue> = { constructor: 'c', toString: 't' };
    Object.defineProperty(attributes, '__proto__', {
      value: 'p',
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const message = encodeResourceLogs([
      {
        resource: { 'service.name': 'shop-api' },
        scopes: [
          {
            name: 's',
            version: '',
            records: [
              {
                timeUnixNano: 1n,
                observedTimeUnixNano: 0n,
                severityNumber: 9,
                severityText: '',
                body: 'b',
                attributes,
                traceId: '',
                spanId: '',
                eventName: '',
              },
            ],
          },
        ],
      },
    ]);
    const [mapped] = mapResourceLogs(decodeMessage(Buffer.from(message), 'auto'), 'app', 0n);
    expect(JSON.parse(mapped?.entry.line ?? '{}')).to.deep.equal(
      JSON.parse('{"msg":"b","constructor":"c","toString":"t","__proto__":"p"}'),
    );
  });

  it('refuses garbage as undecodable, in either encoding', () => {
    expect(() => decodeMessage(Buffer.from('{"not":"otlp"}'), 'auto')).to.throw(UndecodableMessage);
    expect(() => decodeMessage(Buffer.from([0xff, 0xff, 0xff, 0x01]), 'auto')).to.throw(
      UndecodableMessage,
    );
    expect(() => decodeMessage(Buffer.alloc(0), 'otlp_proto')).to.throw(UndecodableMessage);
  });
});

describe('OTLP protobuf round trip', () => {
  it('decodes what encodeExportLogsServiceRequest wrote, as the consumer sees it', async () => {
    const { encodeExportLogsServiceRequest } = await import('../../src/shared/otlp-logs.ts');
    const bytes = encodeExportLogsServiceRequest({ 'service.name': 'bench' }, [
      {
        timeUnixNano: 1700000000000000001n,
        severityNumber: 17,
        severityText: 'ERROR',
        body: 'boom',
        attributes: { 'log.type': 'error', 'http.response.status_code': 500, 'request.id': 'r-1' },
        traceId: '0af7651916cd43dd8448eb211c80319c',
      },
    ]);
    expect(bytes[0]).to.equal(0x0a);
    const [entry] = mapResourceLogs(decodeMessage(Buffer.from(bytes), 'auto'), 'error', 0n);
    expect(entry?.labels).to.include({ service_name: 'bench', level: 'error' });
    expect(entry?.entry.timestampNs).to.equal(1700000000000000001n);
    expect(entry?.entry.structuredMetadata).to.include({
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      request_id: 'r-1',
    });
    expect(JSON.parse(entry?.entry.line ?? '{}')).to.include({
      msg: 'boom',
      http_response_status_code: 500,
    });
  });
});
