import { expect } from 'chai';
import {
  LOKI_JSON_CONTENT_TYPE,
  LOKI_PROTOBUF_CONTENT_TYPE,
  encodeLokiJson,
  encodeLokiProtobuf,
  nowNs,
} from '../../src/shared/loki-push.ts';
import type { LokiStream } from '../../src/shared/loki-push.ts';
import { endpoint, poll, uniqueToken } from './support.ts';

type LogsqlRow = Record<string, string>;

async function logsql(query: string): Promise<LogsqlRow[]> {
  const response = await fetch(endpoint.logsQuery, {
    method: 'POST',
    body: new URLSearchParams({ query, limit: '100' }),
  });
  expect(response.status).to.equal(200);
  // One JSON object per line.
  return (await response.text())
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as LogsqlRow);
}

async function findByToken(token: string): Promise<LogsqlRow[]> {
  return poll(
    async () => {
      const rows = await logsql(token);
      return rows.length > 0 ? rows : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 300 },
  );
}

function stream(token: string, format: string): LokiStream[] {
  return [
    {
      labels: { service_name: 'integration-test', log_type: 'app', format },
      entries: [
        {
          timestampNs: nowNs(),
          line: `user signed in ${token}`,
          structuredMetadata: { trace_id: `trace-${token}`, severity: 'info' },
        },
      ],
    },
  ];
}

describe('VictoriaLogs via the Loki push API', () => {
  for (const format of ['json', 'protobuf'] as const) {
    it(`stores a ${format} push and finds it with LogsQL`, async () => {
      const token = uniqueToken(`loki${format}`);
      const streams = stream(token, format);
      const response = await fetch(endpoint.lokiPush, {
        method: 'POST',
        headers: {
          'content-type': format === 'json' ? LOKI_JSON_CONTENT_TYPE : LOKI_PROTOBUF_CONTENT_TYPE,
        },
        body: format === 'json' ? encodeLokiJson(streams) : encodeLokiProtobuf(streams),
      });
      expect(response.status, await response.text()).to.equal(204);

      const rows = await findByToken(token);
      expect(rows).to.have.length(1);
      const [row] = rows;
      // The line becomes _msg, stream labels become the log stream (and plain fields too),
      // structured metadata becomes ordinary fields.
      expect(row?._msg).to.equal(`user signed in ${token}`);
      expect(row?._stream).to.equal(
        `{format="${format}",log_type="app",service_name="integration-test"}`,
      );
      expect(row).to.include({
        service_name: 'integration-test',
        log_type: 'app',
        trace_id: `trace-${token}`,
        severity: 'info',
      });
    });
  }

  it('selects by stream label and structured metadata field', async () => {
    const token = uniqueToken('lokiselect');
    const streams = stream(token, 'json');
    await fetch(endpoint.lokiPush, {
      method: 'POST',
      headers: { 'content-type': LOKI_JSON_CONTENT_TYPE },
      body: encodeLokiJson(streams),
    });
    await findByToken(token);
    const rows = await logsql(`{log_type="app"} trace_id:="trace-${token}"`);
    expect(rows.map((row) => row._msg)).to.deep.equal([`user signed in ${token}`]);
  });
});
