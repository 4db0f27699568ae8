// The Collector's traces pipeline read from otel-collector/config.yaml: what tail sampling keeps
// by default (the README's table), and that nothing of the traces path sits in the logs
// pipeline, whose records must reach the on-disk queue before they are acknowledged. The real
// Collector runs this file in test/integration/traces.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

interface Policy {
  name: string;
  type: string;
  status_code?: { status_codes: string[] };
  numeric_attribute?: { key: string; min_value: number; max_value: number };
  latency?: { threshold_ms: string };
  probabilistic?: { sampling_percentage: string };
}

interface Pipeline {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

const config = parse(read('otel-collector/config.yaml')) as {
  processors: { tail_sampling: { decision_wait: string; num_traces: string; policies: Policy[] } };
  exporters: Record<string, { sending_queue?: { storage?: string } }>;
  service: { pipelines: Record<string, Pipeline> };
};
const { logs, traces } = config.service.pipelines;

/** The default of a `${env:NAME:-default}` value. */
const defaultOf = (value: string | undefined): string =>
  /^\$\{env:\w+:-([^}]+)\}$/.exec(String(value))?.[1] ?? String(value);

describe('Collector traces pipeline', () => {
  it('is a pipeline of its own: no batch, sampling or trace exporter in the logs pipeline', () => {
    expect(traces?.receivers).to.deep.equal(['otlp']);
    expect(traces?.processors).to.deep.equal(['memory_limiter', 'tail_sampling']);
    expect(traces?.exporters).to.deep.equal(['otlp_http/jaeger']);
    expect(logs?.processors).to.not.include('tail_sampling');
    expect(logs?.processors.some((name) => name.startsWith('batch'))).to.equal(false);
    expect(logs?.exporters).to.deep.equal(['kafka']);
    expect(config.exporters['kafka']?.sending_queue?.storage).to.equal('file_storage');
  });

  it('keeps errors, 5xx, slow traces and a share of the rest, with the documented defaults', () => {
    const sampling = config.processors.tail_sampling;
    const byName = new Map(sampling.policies.map((policy) => [policy.name, policy]));
    expect(byName.get('errors')?.status_code?.status_codes).to.deep.equal(['ERROR']);
    expect(byName.get('server-errors')?.numeric_attribute).to.deep.equal({
      key: 'http.response.status_code',
      min_value: 500,
      max_value: 599,
    });
    expect(defaultOf(byName.get('slow')?.latency?.threshold_ms)).to.equal('500');
    expect(defaultOf(byName.get('share-of-the-rest')?.probabilistic?.sampling_percentage)).to.equal(
      '10',
    );
    expect(defaultOf(sampling.decision_wait)).to.equal('5s');
    expect(defaultOf(sampling.num_traces)).to.equal('5000');
    const readme = read('README.md');
    for (const documented of [
      '`TRACES_SLOW_THRESHOLD_MS` (500)',
      '`TRACES_KEPT_PERCENT` (10)',
      '`TRACES_DECISION_WAIT`, 5s',
      '`TRACES_NUM_TRACES`,\n5000',
    ]) {
      expect(readme.replace(/\s+/g, ' '), documented).to.include(documented.replace(/\s+/g, ' '));
    }
  });
});
