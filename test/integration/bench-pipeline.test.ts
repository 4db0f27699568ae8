// `npm run bench:pipeline` against the services the suite started, briefly: every figure it
// reports must come from samples (a latency hop with no probe behind it, a drain that found
// nothing in the store or a ceiling of zero pushes would be a broken benchmark, not a fast one).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO_ROOT } from '../../stack/config.ts';
import { HOPS } from '../../bench/pipeline/latency.ts';
import { createContext, serviceStatus, stopServices } from '../../stack/index.ts';
import { processTree } from '../../experiments/process-stats.ts';
import { isListening, ownStack } from './support.ts';

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

  it('stops every service it started when interrupted during the load (Ctrl-C)', async () => {
    // A port block and run directory of its own, so that the benchmark starts (and must stop)
    // its own services instead of reusing the suite's.
    const runDir = mkdtempSync(path.join(tmpdir(), 'bench-sigint-'));
    const out = mkdtempSync(path.join(tmpdir(), 'bench-sigint-out-'));
    const { env, ports } = ownStack(19_000, runDir);
    const bench = spawn(
      process.execPath,
      [
        'bench/pipeline/run.ts',
        '--rates',
        '300',
        '--seconds',
        '60',
        '--skip-consumer',
        '--out',
        out,
      ],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += String(chunk);
          // Once the load runs, the latency probes are in flight to every service.
          if (/e2e 300\/s for/.test(output)) setTimeout(resolve, 3000);
        };
        bench.stdout.on('data', onData);
        bench.stderr.on('data', onData);
        bench.once('exit', (code) => reject(new Error(`bench exited (${code}): ${output}`)));
      });
      // Everything it started: the API, the consumer, the services (its descendants).
      const started = processTree(bench.pid ?? 0).filter((pid) => pid !== bench.pid);
      expect(started.length, 'processes started by the benchmark').to.be.greaterThan(2);
      bench.kill('SIGINT');
      const [code] = (await once(bench, 'exit')) as [number | null];
      expect(code, output).to.equal(130);
      // Stopped before it exited, not after: nothing it started outlives it.
      expect(started.filter(isRunning), `still running after it exited: ${output}`).to.deep.equal(
        [],
      );
      const listening: number[] = [];
      for (const port of ports) {
        if (await isListening(port)) listening.push(port);
      }
      expect(listening, `ports still taken: ${output}`).to.deep.equal([]);
      const alive = (await serviceStatus(createContext(() => undefined, env)))
        .filter((service) => service.alive)
        .map((service) => service.name);
      expect(alive, 'services still running after the benchmark ended').to.deep.equal([]);
    } finally {
      if (bench.exitCode === null) bench.kill('SIGKILL');
      // Whatever the benchmark left, this test does not leave to the next.
      await stopServices(createContext(() => undefined, env));
      rmSync(runDir, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/** True while `pid` runs (a zombie waiting to be reaped has ended). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
