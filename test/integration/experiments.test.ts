// The experiment runner against the real stack: two variants run briefly on the services the
// suite started (the Collector restarted with each variant's configuration), every answered
// request's record is found in the store by its request id, and each variant gets its table
// row. An invalid Collector overlay stops the run before anything is restarted.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { markdownReport } from '../../experiments/report.ts';
import { runExperiments, type ExperimentReport } from '../../experiments/runner.ts';
import { VariantError } from '../../experiments/variants.ts';
import { createContext, runningPid } from '../../stack/index.ts';

const ctx = createContext(() => undefined);
const collectorPid = () => runningPid(ctx, 'collector');

describe('experiments: npm run experiment', function () {
  // Two variants of 8 s each, their drains and the Collector restarts.
  this.timeout(600_000);
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  afterEach(function () {
    // The runner's progress, shown only when a test failed.
    if (this.currentTest?.state === 'failed') console.log(lines.join('\n'));
    lines.length = 0;
  });

  it('stops before anything restarts when a Collector overlay is invalid, naming file and key', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'variants-'));
    try {
      mkdirSync(path.join(root, 'broken'));
      writeFileSync(
        path.join(root, 'broken', 'variant.yaml'),
        'description: an exporter with a misspelt setting\ncollector:\n  overlays: [collector.yaml]\n',
      );
      writeFileSync(
        path.join(root, 'broken', 'collector.yaml'),
        'exporters:\n  kafka:\n    brokerz: [127.0.0.1:1]\n',
      );
      const before = collectorPid();
      let failure: unknown;
      try {
        await runExperiments({
          variants: ['broken'],
          rate: 10,
          seconds: 1,
          saturationSeconds: 0,
          drainSeconds: 10,
          log,
          variantsDir: root,
        });
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(VariantError);
      const message = (failure as Error).message;
      expect(message).to.include(path.join('broken', 'variant.yaml'));
      expect(message).to.include(path.join('broken', 'collector.yaml'));
      expect(message).to.include('brokerz');
      expect(collectorPid(), 'the Collector was not restarted').to.equal(before);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('runs two variants: every answered record lands, each gets a table row', async () => {
    const defaultCollector = collectorPid();
    const report: ExperimentReport = await runExperiments({
      variants: ['kafka-direct', 'collector-shipper'],
      rate: 50,
      seconds: 8,
      saturationSeconds: 0,
      drainSeconds: 120,
      log,
    });
    expect(report.results.map((result) => result.variant)).to.deep.equal([
      'kafka-direct',
      'collector-shipper',
    ]);
    for (const result of report.results) {
      expect(result.answered, result.variant).to.be.greaterThan(0);
      expect(result.landed, result.variant).to.equal(result.answered);
      expect(result.lost, result.variant).to.equal(0);
      expect(result.probes, result.variant).to.be.greaterThan(0);
      expect(result.latencyP50Ms, result.variant).to.be.a('number');
      expect(result.processes.api?.samples, result.variant).to.be.greaterThan(0);
      expect(result.processes.store?.peakRssBytes, result.variant).to.be.greaterThan(0);
      expect(result.complete, result.variant).to.equal(true);
    }
    // Each variant ran the processes it names, and only those.
    const [direct, shipper] = report.results;
    expect(direct?.processes.collector, 'kafka-direct runs no Collector').to.equal(undefined);
    expect(direct?.processes.consumer?.cpuSeconds).to.be.greaterThan(0);
    expect(shipper?.processes.consumer, 'collector-shipper runs no consumer').to.equal(undefined);
    expect(shipper?.processes.collector?.cpuSeconds).to.be.greaterThan(0);

    const markdown = markdownReport(
      report,
      'npm run experiment -- --variants kafka-direct,collector-shipper',
    );
    const rows = markdown
      .split('\n')
      .filter((line) => /^\| (kafka-direct|collector-shipper) \|/.test(line));
    // One row per variant in each of the three tables.
    expect(rows).to.have.lengthOf(6);
    expect(markdown).to.include('Command: `npm run experiment -- --variants kafka-direct');
    // The Collector runs its default configuration again afterwards.
    const restored = collectorPid();
    expect(restored).to.be.a('number').and.not.equal(defaultCollector);
    const args = readFileSync(`/proc/${restored}/cmdline`, 'utf8').split('\0');
    expect(args.filter((arg) => arg === '--config')).to.have.lengthOf(1);
  });
});
