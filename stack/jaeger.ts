/**
 * Jaeger v2, the trace store: built from the Go module proxy, configured by jaeger/config.yaml
 * (the file compose.yaml mounts into the official image), in-memory storage bounded by
 * JAEGER_MAX_TRACES traces, every listener on loopback.
 *
 * The Go module does not carry the built web UI (its assets are produced by a separate npm
 * build), so the natively built binary serves a placeholder page at `/`; the query API that
 * Grafana and the tests use (`/api/traces/<trace id>`, `/api/services`, `/api/v3/...`) is
 * complete. compose.yaml runs the image, which has the full UI.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { HOST, REPO_ROOT } from './config.ts';
import type { ServicesConfig } from './config.ts';
import { httpOk } from './http.ts';
import { buildGoModule, GO_REQUIRED } from './go-build.ts';
import { stampMatches, writeStamp } from './stamp.ts';
import type { Context, ServiceDefinition } from './types.ts';
import { JAEGER_MODULE, JAEGER_VERSION } from './versions.ts';

export const JAEGER_CONFIG = path.join(REPO_ROOT, 'jaeger', 'config.yaml');

function jaegerDir(config: ServicesConfig): string {
  return path.join(config.cacheDir, 'jaeger');
}
export function jaegerBinary(config: ServicesConfig): string {
  return path.join(jaegerDir(config), 'bin', 'jaeger');
}
function stampFile(config: ServicesConfig): string {
  return path.join(jaegerDir(config), 'stamp.json');
}
const stampValues = { jaeger: JAEGER_VERSION };

export function jaegerInstalled(config: ServicesConfig): boolean {
  return stampMatches(stampFile(config), stampValues) && existsSync(jaegerBinary(config));
}

/** Built from a generated module (stack/go-build.ts), with the progress line. */
export async function installJaeger(ctx: Context): Promise<void> {
  const { config } = ctx;
  await buildGoModule(ctx, {
    name: 'jaeger',
    dir: path.join(jaegerDir(config), 'build'),
    requires: { [JAEGER_MODULE]: JAEGER_VERSION },
    pkg: `${JAEGER_MODULE}/cmd/jaeger`,
    output: jaegerBinary(config),
    logFile: path.join(jaegerDir(config), 'install.log'),
  });
  writeStamp(stampFile(config), stampValues);
}

export const jaegerService: ServiceDefinition = {
  name: 'jaeger',
  // Independent of the others: the Collector retries its traces exports until Jaeger is up.
  startsAfter: [],
  installTitle: 'jaeger: go build (Jaeger v2)',
  installKind: 'build',
  installRequires: [GO_REQUIRED],
  install: installJaeger,
  ports: ({ config }) => [
    { port: config.ports.jaegerOtlpHttp, env: 'JAEGER_OTLP_HTTP_PORT' },
    { port: config.ports.jaegerQuery, env: 'JAEGER_QUERY_PORT' },
    { port: config.ports.jaegerQueryGrpc, env: 'JAEGER_QUERY_GRPC_PORT' },
    { port: config.ports.jaegerHealth, env: 'JAEGER_HEALTH_PORT' },
  ],
  listens: ({ config }) =>
    `OTLP http://${HOST}:${config.ports.jaegerOtlpHttp}, ` +
    `query http://${HOST}:${config.ports.jaegerQuery} (/api/traces), ` +
    `health :${config.ports.jaegerHealth}`,
  installed: ({ config }) => jaegerInstalled(config),
  prepare: async () => undefined,
  launch: ({ config }) => ({
    command: jaegerBinary(config),
    args: ['--config', JAEGER_CONFIG],
    env: {
      ...process.env,
      JAEGER_LISTEN_HOST: HOST,
      JAEGER_OTLP_HTTP_PORT: String(config.ports.jaegerOtlpHttp),
      JAEGER_QUERY_PORT: String(config.ports.jaegerQuery),
      JAEGER_QUERY_GRPC_PORT: String(config.ports.jaegerQueryGrpc),
      JAEGER_HEALTH_PORT: String(config.ports.jaegerHealth),
      JAEGER_MAX_TRACES: process.env.JAEGER_MAX_TRACES ?? '10000',
      // A soft heap target keeps the Go runtime from growing to the machine's size.
      GOMEMLIMIT: process.env.GOMEMLIMIT ?? '256MiB',
    },
  }),
  healthy: ({ config }) => httpOk(`http://${HOST}:${config.ports.jaegerHealth}/status`),
  startTimeoutMs: 30_000,
};
