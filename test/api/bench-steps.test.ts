import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { BENCH_STEPS } from '../../src/api/telemetry/config.ts';
import { createContext, endpoints, startComponent } from '../../stack/index.ts';

/**
 * The benchmark switch TELEMETRY_BENCH_STEP: each step of `npm run bench:api -- --breakdown`
 * runs what it says and nothing of the steps after it, and the default is the full telemetry.
 */
describe('TELEMETRY_BENCH_STEP (benchmark switch)', function () {
  this.timeout(120_000);
  let sink: Server;
  let sinkUrl = '';
  let exports = 0;

  before(async () => {
    sink = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        exports += 1;
        res.end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  });
  after(() => sink.close());

  /** Starts the API at `step`, sends requests, and reports what its telemetry showed. */
  async function observe(step: string | undefined, expectExport = false) {
    exports = 0;
    const api = await startComponent('api', endpoints(createContext()), {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_BLRP_SCHEDULE_DELAY: '50',
        ...(step ? { TELEMETRY_BENCH_STEP: step } : {}),
      },
    });
    try {
      for (let index = 0; index < 3; index += 1) await (await fetch(`${api.url}/health`)).text();
      // A step that exports does so within its 50 ms batch delay: waited for, up to 10 s. One
      // that does not is given ten times that delay to show it does not.
      const deadline = Date.now() + (expectExport ? 10_000 : 500);
      let page = '';
      do {
        await new Promise((resolve) => setTimeout(resolve, 50));
        page = await (await fetch(`${api.url}/metrics`)).text();
      } while (
        Date.now() < deadline &&
        !(exports > 0 && page.includes('otel_sdk_processor_log_processed_total{'))
      );
      return {
        histogram: page.includes('http_server_request_duration_count{'),
        processed: page.includes('otel_sdk_processor_log_processed_total{'),
        exported: exports > 0,
      };
    } finally {
      await api.stop();
    }
  }

  it('has no request histogram and exports nothing before the steps that add them', async () => {
    for (const step of ['context', 'http', 'koa'] as const) {
      expect(await observe(step), step).to.deep.equal({
        histogram: false,
        processed: false,
        exported: false,
      });
    }
    expect(await observe('records')).to.deep.equal({
      histogram: true,
      processed: false,
      exported: false,
    });
  });

  it('runs the whole telemetry at the last step, which is the default', async () => {
    expect(BENCH_STEPS.at(-1)).to.equal('export');
    for (const step of ['export', undefined]) {
      expect(await observe(step, true), String(step)).to.deep.equal({
        histogram: true,
        processed: true,
        exported: true,
      });
    }
  });
});
