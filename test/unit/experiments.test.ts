// The experiment variants as data: every shipped folder loads, bad folders are refused with the
// file and the key named, and each variant's compose overlay merges into compose.yaml as a
// valid file that names only services, files and volumes that exist (checked without Docker,
// with Compose's merge rules for the parts the overlays use).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { isMap, isScalar, isSeq, parse, parseDocument, type Node } from 'yaml';
import { COLLECTOR_CONFIG, collectorConfigArgs } from '../../stack/collector.ts';
import { loadConfig } from '../../stack/config.ts';
import type { Endpoints } from '../../stack/index.ts';
import {
  EXPERIMENTS_DIR,
  VariantError,
  loadVariant,
  resolveEnv,
  variantNames,
} from '../../experiments/variants.ts';
import { composeValidator } from '../support/compose-schema.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SHIPPED = [
  'baseline',
  'collector-shipper',
  'kafka-direct',
  'kafka-json',
  'no-kafka',
  'otlp-grpc',
  'otlp-json',
];

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
/** A value of an override file, with Compose's `!override` / `!reset` tags kept. */
interface Tagged {
  value: Yaml | Record<string, Tagged> | Tagged[];
  tag: '!override' | '!reset' | undefined;
}

function tagged(node: unknown): Tagged {
  const tag = (node as Node | null)?.tag;
  const kept = tag === '!override' || tag === '!reset' ? tag : undefined;
  if (isMap(node)) {
    const value: Record<string, Tagged> = {};
    for (const pair of node.items) value[String((pair.key as Node).toJSON())] = tagged(pair.value);
    return { value, tag: kept };
  }
  if (isSeq(node)) return { value: node.items.map(tagged), tag: kept };
  return { value: isScalar(node) ? (node.toJSON() as Yaml) : null, tag: kept };
}

function plain(value: Tagged): Yaml {
  if (Array.isArray(value.value)) return (value.value as Tagged[]).map(plain);
  if (value.value !== null && typeof value.value === 'object') {
    return Object.fromEntries(
      Object.entries(value.value as Record<string, Tagged>).map(([key, item]) => [
        key,
        plain(item),
      ]),
    );
  }
  return value.value as Yaml;
}

/** Compose merges these sequences (volumes by container path); every other one is replaced. */
function mergeList(key: string, base: Yaml[], over: Yaml[]): Yaml[] {
  if (key === 'volumes') {
    const target = (volume: Yaml) => String(volume).split(':')[1];
    return [...base.filter((item) => !over.some((o) => target(o) === target(item))), ...over];
  }
  if (key === 'ports' || key === 'expose') return [...new Set([...base, ...over])];
  return over;
}

/** Compose's override merge: maps merge, `!override` replaces, `!reset` removes. */
function merge(base: Yaml | undefined, over: Tagged, key = ''): Yaml | undefined {
  if (over.tag === '!reset') return undefined;
  if (over.tag === '!override' || base === undefined) return plain(over);
  if (Array.isArray(over.value) && Array.isArray(base))
    return mergeList(key, base, plain(over) as Yaml[]);
  if (over.value !== null && typeof over.value === 'object' && !Array.isArray(over.value)) {
    if (base === null || typeof base !== 'object' || Array.isArray(base)) return plain(over);
    const overrides = over.value as Record<string, Tagged>;
    const names = [...new Set([...Object.keys(base), ...Object.keys(overrides)])];
    return Object.fromEntries(
      names.flatMap((name) => {
        const item = overrides[name];
        const merged = item ? merge(base[name], item, name) : base[name];
        return merged === undefined ? [] : [[name, merged]];
      }),
    );
  }
  return plain(over);
}

interface Service {
  command?: string[];
  volumes?: string[];
  profiles?: string[];
  depends_on?: Record<string, unknown>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const baseCompose = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), {
  merge: true,
}) as ComposeFile;

function overlayOf(name: string): Tagged {
  const document = parseDocument(
    readFileSync(path.join(EXPERIMENTS_DIR, name, 'compose.yaml'), 'utf8'),
  );
  // Compose's own tags are not YAML errors; anything else is.
  const errors = document.errors.filter((error) => !/tag/i.test(error.message));
  expect(errors, name).to.deep.equal([]);
  return tagged(document.contents);
}

describe('experiment variants', () => {
  it('ships the seven variants, and each folder loads', () => {
    expect(variantNames()).to.include.members(SHIPPED);
    for (const name of variantNames()) {
      const variant = loadVariant(name);
      expect(variant.description, name).to.be.a('string').and.not.equal('');
      for (const overlay of variant.collectorOverlays) expect(existsSync(overlay)).to.equal(true);
    }
    expect(loadVariant('kafka-direct').collector.run).to.equal(false);
    expect(loadVariant('no-kafka').shipper.kind).to.equal('none');
    expect(loadVariant('no-kafka').kafka).to.equal(false);
    expect(loadVariant('collector-shipper').collectorOverlays).to.have.lengthOf(1);
  });

  describe('a bad folder stops with the file and the key named', () => {
    let root: string;
    const write = (name: string, text: string, extra: Record<string, string> = {}) => {
      mkdirSync(path.join(root, name), { recursive: true });
      writeFileSync(path.join(root, name, 'variant.yaml'), text);
      for (const [file, content] of Object.entries(extra)) {
        writeFileSync(path.join(root, name, file), content);
      }
    };
    before(() => {
      root = mkdtempSync(path.join(tmpdir(), 'variants-'));
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    it('an unknown top-level key', () => {
      write('typo', 'description: x\nshiper: {kind: none}\n');
      expect(() => loadVariant('typo', root))
        .to.throw(VariantError)
        .with.property('message')
        .that.matches(/typo[/\\]variant\.yaml: unknown key "shiper"/);
    });

    it('an unknown nested key', () => {
      write('nested', 'description: x\ncollector:\n  overlay: [c.yaml]\n');
      expect(() => loadVariant('nested', root)).to.throw(
        VariantError,
        /nested[/\\]variant\.yaml: unknown key "collector\.overlay"/,
      );
    });

    it('a wrong value, a missing overlay and an unknown placeholder', () => {
      write('kind', 'description: x\nshipper: {kind: vector, env: {}}\n');
      expect(() => loadVariant('kind', root)).to.throw(
        VariantError,
        /kind[/\\]variant\.yaml: shipper\.kind/,
      );
      write('missing', 'description: x\ncollector: {overlays: [gone.yaml]}\n');
      expect(() => loadVariant('missing', root)).to.throw(
        VariantError,
        /missing[/\\]variant\.yaml: collector\.overlays\.0: gone\.yaml does not exist/,
      );
      write('placeholder', 'description: x\napi: {env: {X: "${NOPE}"}}\n');
      expect(() => loadVariant('placeholder', root)).to.throw(
        VariantError,
        /placeholder[/\\]variant\.yaml: api\.env\.X: unknown placeholder \$\{NOPE\}/,
      );
      expect(() => loadVariant('absent', root)).to.throw(VariantError, /no variant "absent"/);
    });
  });

  it("hands a variant's overlays to the Collector after the project's configuration", () => {
    expect(collectorConfigArgs(loadConfig({}))).to.deep.equal(['--config', COLLECTOR_CONFIG]);
    const overlays = loadVariant('kafka-json').collectorOverlays;
    const config = loadConfig({
      OTELCOL_EXTRA_CONFIGS: ['experiments/kafka-json/collector.yaml'].join(path.delimiter),
    });
    expect(config.collectorExtraConfigs).to.deep.equal(overlays);
    expect(collectorConfigArgs(config)).to.deep.equal([
      '--config',
      COLLECTOR_CONFIG,
      '--config',
      path.join(ROOT, 'experiments', 'kafka-json', 'collector.yaml'),
    ]);
  });

  it('resolves placeholders from the running stack', () => {
    const endpoints = {
      otlpHttp: 'http://127.0.0.1:1',
      otlpGrpc: '127.0.0.1:2',
      kafkaBrokers: ['127.0.0.1:3'],
      victoriaLogs: 'http://127.0.0.1:4',
    } as Endpoints;
    expect(
      resolveEnv({ A: '${OTLP_GRPC_URL}', B: 'x${KAFKA_BROKERS}', C: 'plain' }, endpoints),
    ).to.deep.equal({ A: 'http://127.0.0.1:2', B: 'x127.0.0.1:3', C: 'plain' });
  });
});

describe('experiment compose overlays', () => {
  for (const name of SHIPPED) {
    describe(name, () => {
      const overlay = overlayOf(name);
      const merged = merge(baseCompose as unknown as Yaml, overlay) as unknown as ComposeFile;

      it('names only services that exist in compose.yaml', () => {
        const services = Object.keys(
          (overlay.value as Record<string, Tagged>).services?.value ?? {},
        );
        expect(services).to.not.have.lengthOf(0);
        for (const service of services) {
          expect(baseCompose.services, `${name}: ${service}`).to.have.property(service);
        }
        expect(Object.keys(overlay.value as object)).to.deep.equal(['services']);
      });

      it('merges into a file valid against the Compose specification', () => {
        const validate = composeValidator();
        validate(merged);
        expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).to.deep.equal([]);
      });

      it('mounts only files that exist, and every --config the Collector is given', () => {
        for (const [service, spec] of Object.entries(merged.services)) {
          const mounts = spec.volumes ?? [];
          for (const mount of mounts) {
            const source = mount.split(':')[0] ?? '';
            if (source.startsWith('./')) {
              expect(existsSync(path.join(ROOT, source)), `${service}: ${source}`).to.equal(true);
            } else {
              expect(merged.volumes ?? {}, `${service}: volume ${source}`).to.have.property(source);
            }
          }
          for (const argument of spec.command ?? []) {
            const file = /^--config=(.+)$/.exec(argument)?.[1];
            if (!file) continue;
            const targets = mounts.map((mount) => mount.split(':')[1]);
            expect(targets, `${service} reads ${file}`).to.include(file);
          }
        }
      });

      it('mounts the same Collector overlay the native run merges', () => {
        const variant = loadVariant(name);
        const mounted = (merged.services['otel-collector']?.volumes ?? [])
          .map((mount) => mount.split(':')[0] ?? '')
          .filter((source) => source.startsWith('./experiments/'))
          .map((source) => path.join(ROOT, source));
        expect(mounted).to.deep.equal(variant.collectorOverlays);
      });

      it('starts no service that depends on one left out by a profile', () => {
        const active = (service: string) => (merged.services[service]?.profiles ?? []).length === 0;
        for (const [service, spec] of Object.entries(merged.services)) {
          if (!active(service)) continue;
          for (const dependency of Object.keys(spec.depends_on ?? {})) {
            expect(merged.services, `${service} -> ${dependency}`).to.have.property(dependency);
            expect(active(dependency), `${service} depends on ${dependency}`).to.equal(true);
          }
        }
      });
    });
  }

  it('the merge honours !override (guards the checks above)', () => {
    const merged = merge(
      baseCompose as unknown as Yaml,
      overlayOf('no-kafka'),
    ) as unknown as ComposeFile;
    expect(Object.keys(merged.services.canary?.depends_on ?? {})).to.deep.equal(['loki']);
    expect(merged.services['log-consumer']?.profiles).to.deep.equal(['ts-consumer']);
    const base = baseCompose.services.canary?.depends_on ?? {};
    expect(Object.keys(base)).to.include('log-consumer');
  });
});
