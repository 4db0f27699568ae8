/**
 * The OpenAPI document is the contract: Schemathesis generates requests from /openapi.json,
 * sends them to the real API (its own process, ephemeral port) and checks every response
 * against the document. Any failure or warning fails the test.
 */
import { expect } from 'chai';
import {
  createContext,
  endpoints,
  startComponent,
  type ComponentProcess,
} from '../../stack/index.ts';
import { runSchemathesis, schemathesisPath } from './schemathesis.ts';

/** Fixed so CI runs are reproducible; `npm run contract` draws a new one each time. */
const SEED = 20261130;
/** Per operation in the fuzzing and stateful phases; keeps the run well under a minute. */
const MAX_EXAMPLES = 20;

describe('contract: Schemathesis against /openapi.json', () => {
  let api: ComponentProcess | undefined;

  before(async function () {
    this.timeout(600_000); // includes a one-time install of Schemathesis into the cache
    await schemathesisPath();
    api = await startComponent('api', endpoints(createContext()), {
      env: { OTEL_LOGS_EXPORTER: 'none' },
    });
  });
  after(() => api?.stop());

  it('finds no failure with all checks in the examples, coverage, fuzzing and stateful phases', async function () {
    this.timeout(300_000);
    if (!api) throw new Error('API not started');
    const started = performance.now();
    const result = await runSchemathesis({
      baseUrl: api.url,
      seed: SEED,
      maxExamples: MAX_EXAMPLES,
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `      Schemathesis: ${result.casesGenerated ?? '?'} cases, ${result.failures} failures, ` +
        `exit ${result.exitCode}, ${seconds} s (seed ${SEED})`,
    );
    // The findings, with the reproducing curl commands; generated bodies can be huge.
    if (result.exitCode !== 0) console.log(result.output.slice(-30_000));
    expect(result.casesGenerated, 'cases generated').to.be.greaterThan(0);
    expect(result.failures, 'unique failures').to.equal(0);
    expect(result.exitCode, 'st exit code').to.equal(0);
  });
});
