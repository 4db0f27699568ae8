import { expect } from 'chai';
import { KnownIds, OPERATIONS, plan } from '../../src/loadgen/operations.ts';
import { startApi, type RunningApi } from '../support/api-server.ts';
import { createContext, endpoints, startComponent } from '../../stack/index.ts';

describe('load generator', () => {
  it('plans no request that refers to an id the API has not handed out', () => {
    const known = new KnownIds();
    for (const operation of OPERATIONS) {
      const request = plan(operation, known, 1);
      expect(request.path, operation).to.not.match(/\/\d+$/);
      expect(String(request.init.body ?? ''), operation).to.not.include('"userId"');
    }
    known.remember('users', 7);
    expect(plan('create_order', known, 2).operation).to.equal('create_product');
    known.remember('products', 9);
    expect(plan('get_order', known, 3).operation).to.equal('create_order');
  });

  describe('against the real API', () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi();
    });
    after(() => api.close());

    it('gets only 2xx answers from the first second when no bad requests are asked for', async () => {
      const loadgen = await startComponent('loadgen', endpoints(createContext()), {
        args: ['--target', api.baseUrl, '--rate', '100', '--duration', '2', '--bad-share', '0'],
      });
      let output = '';
      loadgen.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await loadgen.exited;
      expect(code).to.equal(0);
      const summary = /summary: (\d+) requests/.exec(output);
      expect(Number(summary?.[1]), output).to.be.greaterThan(10);
      expect(output, output).to.match(/responses: 2xx \d+;/);
    });
  });
});
