// One Collector release everywhere: the builder manifest's modules and dist version,
// stack/versions.ts and the contrib image compose runs. A mix fails deep inside `go build`,
// and compose running another release than the native build would test a different Collector.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { OTELCOL_VERSION } from '../../stack/versions.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const manifestText = readFileSync(path.join(ROOT, 'otel-collector', 'builder-config.yaml'), 'utf8');
const manifest = parse(manifestText) as {
  dist: { version: string };
} & Record<string, { gomod: string }[] | undefined>;

const modules = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'].flatMap(
  (kind) => (manifest[kind] ?? []).map(({ gomod }) => gomod.split(/\s+/)),
);

describe('Collector release', () => {
  it('pins every module of the manifest and its dist version to OTELCOL_VERSION', () => {
    expect(manifest.dist.version).to.equal(OTELCOL_VERSION);
    for (const [module, version] of modules) {
      expect(version, module).to.equal(`v${OTELCOL_VERSION}`);
    }
  });

  it('runs the contrib image of the same release in compose', () => {
    const compose = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), {
      merge: true,
    }) as { services: Record<string, { image?: string }> };
    expect(compose.services['otel-collector']?.image).to.equal(
      `otel/opentelemetry-collector-contrib:${OTELCOL_VERSION}`,
    );
  });

  it('builds the modules the later pipelines need', () => {
    const paths = modules.map(([module]) => module);
    expect(paths).to.include.members([
      'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver',
      'github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor',
      'github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector',
      'go.opentelemetry.io/collector/exporter/otlphttpexporter',
    ]);
  });
});
