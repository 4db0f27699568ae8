import { existsSync } from 'node:fs';
import path from 'node:path';
import { HOST } from './config.ts';
import type { ServicesConfig } from './config.ts';
import { httpOk } from './http.ts';
import { buildGoModule, GO_REQUIRED } from './go-build.ts';
import { stampMatches, writeStamp } from './stamp.ts';
import type { Context, ServiceDefinition } from './types.ts';
import {
  VICTORIALOGS_MODULE,
  VICTORIALOGS_VERSION,
  VICTORIAMETRICS_LIB_VERSION,
} from './versions.ts';

function vlDir(config: ServicesConfig): string {
  return path.join(config.cacheDir, 'victorialogs');
}
export function victoriaLogsBinary(config: ServicesConfig): string {
  return path.join(vlDir(config), 'bin', 'victoria-logs');
}
function stampFile(config: ServicesConfig): string {
  return path.join(vlDir(config), 'stamp.json');
}
const stampValues = {
  victorialogs: VICTORIALOGS_VERSION,
  victoriametrics: VICTORIAMETRICS_LIB_VERSION,
};

export function victoriaLogsInstalled(config: ServicesConfig): boolean {
  return stampMatches(stampFile(config), stampValues) && existsSync(victoriaLogsBinary(config));
}

/** Built from a generated module: its VictoriaMetrics dependency needs a replace (versions.ts). */
export async function installVictoriaLogs(ctx: Context): Promise<void> {
  const { config } = ctx;
  await buildGoModule(ctx, {
    name: 'victorialogs',
    dir: path.join(vlDir(config), 'build'),
    requires: { [VICTORIALOGS_MODULE]: VICTORIALOGS_VERSION },
    replaces: { 'github.com/VictoriaMetrics/VictoriaMetrics': VICTORIAMETRICS_LIB_VERSION },
    pkg: `${VICTORIALOGS_MODULE}/app/victoria-logs`,
    output: victoriaLogsBinary(config),
    logFile: path.join(vlDir(config), 'install.log'),
  });
  writeStamp(stampFile(config), stampValues);
}

export const victoriaLogsService: ServiceDefinition = {
  name: 'victorialogs',
  startsAfter: [],
  installTitle: 'victorialogs: go build',
  installKind: 'build',
  installRequires: [GO_REQUIRED],
  install: installVictoriaLogs,
  ports: ({ config }) => [{ port: config.ports.victoriaLogs, env: 'VICTORIALOGS_PORT' }],
  listens: ({ config }) =>
    `http://${HOST}:${config.ports.victoriaLogs} (Loki push /insert/loki/api/v1/push, LogsQL /select/logsql/query)`,
  installed: ({ config }) => victoriaLogsInstalled(config),
  prepare: async () => undefined,
  launch: ({ config }, paths) => ({
    command: victoriaLogsBinary(config),
    args: [
      `-httpListenAddr=${HOST}:${config.ports.victoriaLogs}`,
      `-storageDataPath=${paths.dataDir}`,
      `-retentionPeriod=${process.env.VICTORIALOGS_RETENTION ?? '7d'}`,
      // Its caches otherwise size themselves from the host's RAM.
      '-memory.allowedBytes=256MiB',
      // Loki stores each line verbatim; without this flag VictoriaLogs would unpack JSON lines
      // into fields and leave _msg empty unless the pusher names a _msg_field.
      '-loki.disableMessageParsing',
    ],
  }),
  healthy: ({ config }) => httpOk(`http://${HOST}:${config.ports.victoriaLogs}/health`),
  startTimeoutMs: 30_000,
};
