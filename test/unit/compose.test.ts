// compose.yaml checked without a Docker engine: against the Compose spec JSON schema, and
// against the rules this project holds itself to (pinned images, health-gated start-up,
// memory limits, one network, only the documented ports published).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { KAFKA_TOPICS } from '../../src/shared/kafka-topics.ts';
import { composeValidator } from '../support/compose-schema.ts';
import { JAEGER_IMAGE_VERSION } from '../../stack/versions.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  ports?: string[];
  volumes?: string[];
  networks?: string[] | Record<string, unknown>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources?: { limits?: { memory?: string } } };
  mem_limit?: string;
  profiles?: string[];
  restart?: string;
  environment?: Record<string, string | number>;
}

interface ComposeFile {
  services: Record<string, Service>;
  networks?: Record<string, unknown>;
  volumes?: Record<string, unknown>;
}

const composeText = readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8');
// `merge: true`: services share settings through the `x-app` anchor (`<<: *app`).
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);

/** Services that run once and exit: no health check, no restart. */
const ONE_SHOT = new Set(['topic-init', 'otelcol-queue-init', 'k6']);
/** Long-running services that cannot carry a health check, with the reason in compose.yaml. */
const NO_HEALTHCHECK_POSSIBLE = new Set(['otel-collector']);
const PUBLISHED_PORTS = [3000, 3100, 8000, 9090, 16686];

const validator = composeValidator;

describe('compose.yaml', () => {
  it('validates against the Compose specification schema', () => {
    const validate = validator();
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).to.deep.equal([]);
    expect(valid).to.equal(true);
  });

  it('the schema check itself rejects a malformed file', () => {
    // Guards the test above: a validator that accepts anything would prove nothing.
    const validate = validator();
    expect(
      validate({ services: { api: { image: 'x:1', healthcheck: { interval: 'often' } } } }),
    ).to.equal(false);
    expect(validate({ services: { api: { image: 'x:1', unknown_key: true } } })).to.equal(false);
  });

  it('mounts only config files that exist in the repository', () => {
    const binds = services.flatMap(([, service]) =>
      (service.volumes ?? []).filter((volume) => volume.startsWith('./')),
    );
    expect(binds).to.not.have.lengthOf(0);
    for (const bind of binds) {
      const source = bind.split(':')[0] ?? '';
      expect(existsSync(path.join(ROOT, source)), `${source} is mounted but missing`).to.equal(
        true,
      );
    }
  });

  it('pins every image to a version (no latest, no bare name), including the Dockerfile base', () => {
    for (const [name, service] of services) {
      const image = service.image;
      expect(image, `${name} has no image`).to.be.a('string');
      if (service.build !== undefined) continue; // built here; its base image is checked below
      expect(image, name).to.match(/^[\w./-]+(:[\w.-]+|@sha256:[a-f0-9]{64})$/);
      expect(image, name).to.not.match(/:latest$/);
    }
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(base).to.match(/^node:24\.\d+\.\d+-[\w-]+$/);
    for (const from of dockerfile.matchAll(/^FROM (\S+)/gm)) {
      expect(from[1], 'every FROM uses the pinned ARG').to.equal('${NODE_IMAGE}');
    }
  });

  it('publishes exactly the documented ports, each once', () => {
    const published = services.flatMap(([, service]) =>
      (service.ports ?? []).map((port) => Number(port.split(':').at(-2))),
    );
    expect(published.toSorted((a, b) => a - b)).to.deep.equal(PUBLISHED_PORTS);
  });

  it('gives every long-running service a health check that runs a real probe', () => {
    for (const [name, service] of services) {
      if (ONE_SHOT.has(name) || NO_HEALTHCHECK_POSSIBLE.has(name)) continue;
      const test = service.healthcheck?.test;
      expect(test, `${name} has no health check`).to.be.an('array');
      expect(service.healthcheck?.disable, name).to.not.equal(true);
      // ['CMD', ...] or ['CMD-SHELL', ...]; NONE or a bare `true` would always pass.
      expect(['CMD', 'CMD-SHELL'], name).to.include((test as string[])[0]);
      expect((test as string[]).slice(1).join(' '), name).to.not.match(/^(true|exit 0)$/);
    }
  });

  it('waits on health, not just start: every service_healthy target has a health check', () => {
    let gated = 0;
    for (const [name, service] of services) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        const dependency = compose.services[target];
        expect(dependency, `${name} depends on unknown service ${target}`).to.not.equal(undefined);
        if (condition === 'service_healthy') {
          gated += 1;
          expect(
            dependency?.healthcheck?.test,
            `${name} waits for ${target}'s health`,
          ).to.not.equal(undefined);
        }
        if (condition === 'service_completed_successfully') {
          expect(ONE_SHOT.has(target), `${target} must be a one-shot service`).to.equal(true);
        }
      }
    }
    expect(gated).to.be.greaterThan(5);
    expect(compose.services['log-consumer']?.depends_on).to.deep.include({
      'topic-init': { condition: 'service_completed_successfully' },
    });
  });

  it('limits the memory of every service', () => {
    for (const [name, service] of services) {
      const limit = service.deploy?.resources?.limits?.memory ?? service.mem_limit;
      expect(limit, `${name} has no memory limit`).to.match(/^\d+[KMG]$/);
    }
  });

  it('puts every service on monitoring_network and nothing else', () => {
    expect(Object.keys(compose.networks ?? {})).to.deep.equal(['monitoring_network']);
    for (const [name, service] of services) {
      const networks = Array.isArray(service.networks)
        ? service.networks
        : Object.keys(service.networks ?? {});
      expect(networks, name).to.deep.equal(['monitoring_network']);
    }
  });

  it('keeps state in named volumes', () => {
    expect(Object.keys(compose.volumes ?? {})).to.include.members([
      'kafka-data',
      'loki-data',
      'prometheus-data',
      'grafana-data',
      'otelcol-queue',
    ]);
  });

  it('creates exactly the topics of src/shared/kafka-topics.ts', () => {
    const specs = String(compose.services['topic-init']?.environment?.TOPICS ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((spec) => {
        const [name = '', partitions = ''] = spec.split(':');
        return { name, partitions: Number(partitions) };
      });
    expect(specs).to.deep.equal(KAFKA_TOPICS.map(({ name, partitions }) => ({ name, partitions })));
  });

  it('requires a Grafana admin password and keeps anonymous access opt-in', () => {
    const env = compose.services.grafana?.environment ?? {};
    expect(env.GF_SECURITY_ADMIN_PASSWORD).to.match(/^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).to.equal('${GRAFANA_ANONYMOUS:-false}');
    expect(composeText).to.not.match(/admin\/admin|PASSWORD:\s*admin\b/);
  });

  it('runs the Collector with the native config file and container settings', () => {
    const collector = compose.services['otel-collector'];
    expect(collector?.image).to.equal('otel/opentelemetry-collector-contrib:0.160.0');
    expect(collector?.volumes).to.include(
      './otel-collector/config.yaml:/etc/otelcol-contrib/config.yaml:ro',
    );
    expect(collector?.environment).to.include({
      OTELCOL_LISTEN_HOST: '0.0.0.0',
      KAFKA_BROKERS: 'kafka:9092',
    });
  });

  it('runs Jaeger from the pinned image with the native config file, bounded and health-checked', () => {
    const jaeger = compose.services['jaeger'];
    expect(jaeger?.image).to.equal(`jaegertracing/jaeger:${JAEGER_IMAGE_VERSION}`);
    expect(jaeger?.volumes).to.include('./jaeger/config.yaml:/etc/jaeger/config.yaml:ro');
    expect(jaeger?.environment?.JAEGER_MAX_TRACES).to.be.a('number').and.be.greaterThan(0);
    expect(compose.services['api']?.environment?.OTEL_TRACES_EXPORTER).to.equal('otlp');
    expect(compose.services.grafana?.depends_on?.['jaeger']?.condition).to.equal('service_healthy');
  });
});

/**
 * compose.yaml with an override file on top, merged the way `docker compose -f a -f b` merges
 * the keys the override files of this project use: mappings key by key, anything else
 * replaced.
 */
function mergeCompose(base: unknown, override: unknown): unknown {
  const isMap = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isMap(base) || !isMap(override)) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = key in base ? mergeCompose(base[key], value) : value;
  }
  return merged;
}

describe('compose.cluster.yaml (three brokers, two consumers)', () => {
  const overlay = parse(readFileSync(path.join(ROOT, 'compose.cluster.yaml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;
  const cluster = mergeCompose(compose, overlay) as ComposeFile;
  const clusterServices = Object.entries(cluster.services);
  const brokers = ['kafka', 'kafka-2', 'kafka-3'];
  const env = (service: string) => cluster.services[service]?.environment ?? {};
  const allBrokers = brokers.map((name) => `${name}:9092`).join(',');

  it('validates, merged over compose.yaml, against the Compose specification schema', () => {
    const validate = validator();
    expect(validate(cluster), JSON.stringify(validate.errors, null, 2)).to.equal(true);
  });

  it('runs three KRaft nodes of the same pinned image, one cluster id, one quorum of all three', () => {
    const voters = '1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093';
    brokers.forEach((name, index) => {
      const service = cluster.services[name];
      expect(service?.image, name).to.equal(compose.services.kafka?.image);
      expect(service?.deploy?.resources?.limits?.memory, name).to.match(/^\d+[KMG]$/);
      expect(service?.healthcheck?.test, name).to.be.an('array');
      expect(service?.networks, name).to.deep.equal(['monitoring_network']);
      expect(env(name), name).to.include({
        KAFKA_NODE_ID: index + 1,
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${name}:9092`,
        CLUSTER_ID: env('kafka').CLUSTER_ID,
      });
    });
    const volumes = brokers.map((name) => cluster.services[name]?.volumes?.[0]?.split(':')[0]);
    expect(new Set(volumes).size, 'a data volume per node').to.equal(3);
    expect(Object.keys(cluster.volumes ?? {})).to.include.members(volumes as string[]);
  });

  it('replicates every topic and internal topic on all three, writes needing two', () => {
    for (const name of brokers) {
      expect(env(name), name).to.include({
        KAFKA_DEFAULT_REPLICATION_FACTOR: 3,
        KAFKA_MIN_INSYNC_REPLICAS: 2,
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 3,
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 3,
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 2,
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: 3,
        KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
      });
    }
    expect(env('topic-init')).to.include({
      KAFKA_BROKERS: allBrokers,
      REPLICATION_FACTOR: '3',
      MIN_INSYNC_REPLICAS: '2',
    });
    // The single broker of compose.yaml keeps one replica.
    expect(compose.services['topic-init']?.environment).to.include({ REPLICATION_FACTOR: '1' });
    const script = (cluster.services['topic-init'] as { command?: string[] }).command?.join('');
    expect(script).to.include('--replication-factor "$$REPLICATION_FACTOR"');
    expect(script).to.include('min.insync.replicas="$$MIN_INSYNC_REPLICAS"');
  });

  it('gives every Kafka client all three brokers and waits for all three to be healthy', () => {
    for (const [name, service] of clusterServices) {
      const listed = service.environment?.KAFKA_BROKERS;
      if (listed !== undefined) expect(listed, name).to.equal(allBrokers);
    }
    expect(env('otel-collector').KAFKA_BROKERS).to.equal(allBrokers);
    expect(env('log-consumer').KAFKA_BROKERS).to.equal(allBrokers);
    for (const name of brokers) {
      expect(cluster.services['topic-init']?.depends_on?.[name]).to.deep.equal({
        condition: 'service_healthy',
      });
    }
  });

  it('runs the consumer as two replicas, keeping its memory limit and health check', () => {
    const consumer = cluster.services['log-consumer'] as Service & {
      deploy?: { replicas?: number };
    };
    expect(consumer.deploy?.replicas).to.equal(2);
    expect(consumer.deploy?.resources?.limits?.memory).to.match(/^\d+[KMG]$/);
    expect(consumer.healthcheck?.test).to.be.an('array');
    // Two replicas cannot share a published port or a fixed container name.
    expect(consumer.ports ?? []).to.deep.equal([]);
    expect(consumer).to.not.have.property('container_name');
  });
});
