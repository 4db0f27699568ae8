import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { HOST, REPO_ROOT, kafkaNodes } from './config.ts';
import type { ServicesConfig } from './config.ts';
import { httpOk } from './http.ts';
import { compileGoProgram, GO_REQUIRED } from './go-build.ts';
import { runLogged } from './progress.ts';
import { stampMatches, writeStamp } from './stamp.ts';
import type { Context, ServiceDefinition } from './types.ts';
import { OTELCOL_VERSION } from './versions.ts';

export const BUILDER_MANIFEST = path.join(REPO_ROOT, 'otel-collector', 'builder-config.yaml');
export const COLLECTOR_CONFIG = path.join(REPO_ROOT, 'otel-collector', 'config.yaml');

interface Manifest {
  dist?: { name?: string; version?: string };
}

function readManifest(): { name: string; hash: string } {
  const text = readFileSync(BUILDER_MANIFEST, 'utf8');
  const manifest = YAML.parse(text) as Manifest;
  const name = manifest.dist?.name;
  if (!name) throw new Error(`${BUILDER_MANIFEST}: dist.name is missing`);
  // The builder and the components must be one release, or `go build` fails deep in pdata.
  const strays = [...text.matchAll(/gomod:\s*\S+\s+(v\S+)/g)]
    .map((match) => match[1])
    .filter((version) => version !== `v${OTELCOL_VERSION}`);
  if (manifest.dist?.version !== OTELCOL_VERSION || strays.length > 0) {
    throw new Error(
      `${BUILDER_MANIFEST} must pin every module to v${OTELCOL_VERSION} (stack/versions.ts)`,
    );
  }
  return { name, hash: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

function collectorDir(config: ServicesConfig): string {
  return path.join(config.cacheDir, 'collector');
}
function builderBinary(config: ServicesConfig): string {
  return path.join(collectorDir(config), 'bin', 'builder');
}
export function collectorBinary(config: ServicesConfig): string {
  return path.join(collectorDir(config), 'build', readManifest().name);
}
function stampFile(config: ServicesConfig): string {
  return path.join(collectorDir(config), 'stamp.json');
}
function stampValues(): Record<string, string> {
  return { otelcol: OTELCOL_VERSION, manifest: readManifest().hash };
}

export function collectorInstalled(config: ServicesConfig): boolean {
  return stampMatches(stampFile(config), stampValues()) && existsSync(collectorBinary(config));
}

export async function installCollector(ctx: Context): Promise<void> {
  const { config } = ctx;
  const logFile = path.join(collectorDir(config), 'install.log');
  const buildDir = path.join(collectorDir(config), 'build');
  const values = stampValues();
  // Go's module and build caches stay at their defaults (shared across clones), which is
  // what makes a rebuild after a fresh clone take a fraction of the first one.
  await runLogged(
    'go',
    ['install', `go.opentelemetry.io/collector/cmd/builder@v${OTELCOL_VERSION}`],
    {
      logFile,
      log: ctx.log,
      env: { ...process.env, GOBIN: path.dirname(builderBinary(config)) },
    },
  );
  ctx.log('    collector: generating the distribution and fetching its modules');
  await runLogged(
    builderBinary(config),
    ['--config', BUILDER_MANIFEST, '--output-path', buildDir, '--skip-compilation'],
    { logFile, log: ctx.log },
  );
  // Compiled here rather than by the builder, with the flags it would use, because
  // `go build -v` names each package it compiles: that is what the progress line counts.
  await compileGoProgram(ctx, {
    name: 'collector',
    cwd: buildDir,
    pkg: '.',
    output: readManifest().name,
    logFile,
  });
  writeStamp(stampFile(config), values);
}

/** `--config` arguments: the project's configuration, then each extra file merged over it. */
export function collectorConfigArgs(config: ServicesConfig): string[] {
  return [COLLECTOR_CONFIG, ...config.collectorExtraConfigs].flatMap((file) => ['--config', file]);
}

/** The environment the Collector's configuration reads (`${env:...}`), for this stack's ports. */
function collectorEnv(config: ServicesConfig, dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OTELCOL_LISTEN_HOST: HOST,
    OTLP_GRPC_PORT: String(config.ports.otlpGrpc),
    OTLP_HTTP_PORT: String(config.ports.otlpHttp),
    COLLECTOR_HEALTH_PORT: String(config.ports.collectorHealth),
    COLLECTOR_METRICS_PORT: String(config.ports.collectorMetrics),
    // Every node: the exporter reaches the cluster through any of them.
    KAFKA_BROKERS: kafkaNodes(config)
      .map(({ broker }) => `${HOST}:${broker}`)
      .join(','),
    JAEGER_OTLP_ENDPOINT: `http://${HOST}:${config.ports.jaegerOtlpHttp}`,
    // The log store's own OTLP logs endpoint, for configurations that write to it directly.
    LOGS_STORE_OTLP_ENDPOINT: `http://${HOST}:${config.ports.victoriaLogs}/insert/opentelemetry/v1/logs`,
    OTELCOL_FILE_STORAGE_DIR: path.join(dataDir, 'file_storage'),
    // A soft heap target keeps the Go runtime from growing to the machine's size.
    GOMEMLIMIT: process.env.GOMEMLIMIT ?? '256MiB',
  };
}

/**
 * Checks the configuration the Collector would start with (the base file and every extra one,
 * merged) with the binary's own `validate` subcommand; throws with its message when invalid.
 */
export function validateCollectorConfig(config: ServicesConfig): void {
  const result = spawnSync(collectorBinary(config), ['validate', ...collectorConfigArgs(config)], {
    env: collectorEnv(config, path.join(config.runDir, 'collector', 'data')),
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const files = [COLLECTOR_CONFIG, ...config.collectorExtraConfigs].join(', ');
    throw new Error(
      `invalid Collector configuration (${files}):\n${(result.stderr || result.stdout).trim()}`,
    );
  }
}

export const collectorService: ServiceDefinition = {
  name: 'collector',
  // Its Kafka exporter needs the broker and the project's topics; its traces exporter, Jaeger
  // (so Jaeger also stops after it, once the last traces were flushed).
  startsAfter: ['kafka', 'jaeger'],
  installTitle: 'collector: build with the OpenTelemetry Collector builder',
  installKind: 'build',
  installRequires: [GO_REQUIRED],
  install: installCollector,
  ports: ({ config }) => [
    { port: config.ports.otlpGrpc, env: 'OTLP_GRPC_PORT' },
    { port: config.ports.otlpHttp, env: 'OTLP_HTTP_PORT' },
    { port: config.ports.collectorHealth, env: 'COLLECTOR_HEALTH_PORT' },
    { port: config.ports.collectorMetrics, env: 'COLLECTOR_METRICS_PORT' },
  ],
  listens: ({ config }) =>
    `OTLP http://${HOST}:${config.ports.otlpHttp} grpc ${HOST}:${config.ports.otlpGrpc}, ` +
    `health :${config.ports.collectorHealth}, metrics :${config.ports.collectorMetrics}`,
  installed: ({ config }) => collectorInstalled(config),
  prepare: async () => undefined,
  launch: ({ config }, paths) => ({
    command: collectorBinary(config),
    args: collectorConfigArgs(config),
    env: collectorEnv(config, paths.dataDir),
  }),
  healthy: ({ config }) => httpOk(`http://${HOST}:${config.ports.collectorHealth}/`),
  startTimeoutMs: 30_000,
};
