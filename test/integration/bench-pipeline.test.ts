// `npm run bench:pipeline` against the services the suite started, briefly: every figure it
// reports must come from samples (a latency hop with no probe behind it, a drain that found
// nothing in the store or a ceiling of zero pushes would be a broken benchmark, not a fast one).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO_ROOT } from '../../stack/config.ts';
import { HOPS } from '../../bench/pipeline/latency.ts';

const run = promisify(execFile);

interface HopStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
}
interface Report {
  e2e: {
    requestsAnswered: number;
    landed: number;
    lost: number;
    probes: number;
    probesNeverQueryable: number;
    hops: Record<string, HopStats>;
    apiCpuMicrosPerRequest: number;
  }[];
  consumer: {
    partitionsInParallel: number;
    records: number;
    landedInStore: number;
    steadyRecordsPerSecond: number;
    cpuSeconds: Record<string, number>;
  }[];
  ceiling: { records: number; pushes: number; inFlight: number; recordsPerSecond: number }[];
}

describe('bench:pipeline (a short run)', function () {
  this.timeout(600_000);

  it('reports every hop of the latency budget, the drains and the store ceiling from real samples', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'bench-pipeline-'));
    try {
      const records = 20_000;
      const { stdout } = await run(
        process.execPath,
        [
          'bench/pipeline/run.ts',
          '--rates',
          '200',
          '--seconds',
          '6',
          '--records',
          String(records),
          '--consumer-rounds',
          '1',
          '--skip-kcat',
          '--out',
          out,
        ],
        { cwd: REPO_ROOT, env: process.env, maxBuffer: 64 * 1024 * 1024, timeout: 540_000 },
      );
      const report = JSON.parse(readFileSync(path.join(out, 'pipeline.json'), 'utf8')) as Report;

      const [e2e] = report.e2e;
      expect(e2e, stdout).to.not.equal(undefined);
      expect(e2e?.requestsAnswered).to.be.greaterThan(1000);
      expect(e2e?.lost).to.equal(0);
      expect(e2e?.landed).to.be.at.least(e2e?.requestsAnswered ?? Infinity);
      expect(e2e?.probesNeverQueryable).to.equal(0);
      expect(e2e?.apiCpuMicrosPerRequest).to.be.greaterThan(0);
      for (const hop of Object.keys(HOPS)) {
        const stats = e2e?.hops[hop];
        expect(stats?.count, `${hop} has samples`).to.be.greaterThan(5);
        expect(stats?.p50Ms, hop).to.be.a('number').and.to.be.at.least(0);
        expect(stats?.p99Ms, hop).to.be.at.least(stats?.p50Ms ?? Infinity);
      }

      expect(report.consumer.map((drain) => drain.partitionsInParallel)).to.deep.equal([1, 3]);
      for (const drain of report.consumer) {
        expect(drain.landedInStore).to.equal(records);
        expect(drain.steadyRecordsPerSecond).to.be.greaterThan(0);
        expect(drain.cpuSeconds['consumer']).to.be.greaterThan(0);
        expect(drain.cpuSeconds['victorialogs']).to.be.greaterThan(0);
      }
      expect(report.ceiling.map((ceiling) => ceiling.inFlight)).to.deep.equal([1, 3]);
      for (const ceiling of report.ceiling) {
        expect(ceiling.records).to.equal(records);
        // The consumer's default push: 1000 entries.
        expect(ceiling.pushes).to.equal(records / 1000);
        expect(ceiling.recordsPerSecond).to.be.greaterThan(0);
      }
      const markdown = readFileSync(path.join(out, 'pipeline.md'), 'utf8');
      expect(markdown).to.include('Latency budget');
      expect(markdown).to.include("The store's own ceiling");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
