import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { HOST, REPO_ROOT } from './config.ts';
import type { ServicesConfig } from './config.ts';
import { httpOk } from './http.ts';
import { runLogged } from './progress.ts';
import type { Context, RunPaths, ServiceDefinition } from './types.ts';
import { PROMETHEUS_APT_PACKAGE } from './versions.ts';

const TEMPLATE = path.join(REPO_ROOT, 'services', 'prometheus', 'prometheus.yml');

export function prometheusBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, 'prometheus');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function installPrometheus(ctx: Context): Promise<void> {
  if (prometheusBinary()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `prometheus is not installed. Run: sudo apt-get install -y ${PROMETHEUS_APT_PACKAGE}\n` +
        '(the project runs the binary itself; you may disable the system service: ' +
        'sudo systemctl disable --now prometheus)',
    );
  }
  await runLogged('apt-get', ['install', '-y', '--no-install-recommends', PROMETHEUS_APT_PACKAGE], {
    logFile: path.join(ctx.config.cacheDir, 'prometheus', 'install.log'),
    log: ctx.log,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  // The package may have started its own service on the same port; that one is not ours.
  spawnSync('systemctl', ['disable', '--now', 'prometheus'], { stdio: 'ignore' });
}

function runPaths(config: ServicesConfig): { fileSdDir: string } {
  return { fileSdDir: path.join(config.runDir, 'prometheus', 'data', 'file_sd') };
}

function renderConfig(config: ServicesConfig): string {
  const values: Record<string, string> = {
    SCRAPE_INTERVAL: config.prometheusScrapeInterval,
    PROMETHEUS_TARGET: `${HOST}:${config.ports.prometheus}`,
    COLLECTOR_TARGET: `${HOST}:${config.ports.collectorMetrics}`,
    API_TARGET: config.apiMetricsTarget,
    CONSUMER_TARGET: config.consumerMetricsTarget,
    FILE_SD_DIR: runPaths(config).fileSdDir,
    CANARY_TARGET: `${HOST}:9470`,
    ALERTS_FILE: path.join(REPO_ROOT, 'prometheus', 'alerts.yml'),
  };
  return readFileSync(TEMPLATE, 'utf8').replace(/\$\{(\w+)\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${TEMPLATE}: unknown placeholder ${whole}`);
    return value;
  });
}

/**
 * Registers an extra scrape target (job `dynamic`) through file-based service discovery;
 * Prometheus notices the file within about a second, no reload needed.
 */
export function addScrapeTarget(
  config: ServicesConfig,
  id: string,
  target: string,
  labels: Record<string, string> = {},
): string {
  if (!/^[\w-]+$/.test(id))
    throw new Error(`scrape target id ${JSON.stringify(id)} must be [\\w-]+`);
  const { fileSdDir } = runPaths(config);
  mkdirSync(fileSdDir, { recursive: true });
  const file = path.join(fileSdDir, `${id}.json`);
  // Written to a temp name first: Prometheus must never read a half-written file.
  writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: [target], labels }]));
  renameSync(`${file}.tmp`, file);
  return file;
}

export function removeScrapeTarget(config: ServicesConfig, id: string): void {
  rmSync(path.join(runPaths(config).fileSdDir, `${id}.json`), { force: true });
}

async function prepare(ctx: Context, paths: RunPaths): Promise<void> {
  mkdirSync(runPaths(ctx.config).fileSdDir, { recursive: true });
  writeFileSync(path.join(paths.dir, 'prometheus.yml'), renderConfig(ctx.config));
}

export const prometheusService: ServiceDefinition = {
  name: 'prometheus',
  ports: ({ config }) => [{ port: config.ports.prometheus, env: 'PROMETHEUS_PORT' }],
  listens: ({ config }) => `http://${HOST}:${config.ports.prometheus}`,
  installed: () => prometheusBinary() !== undefined,
  prepare,
  launch: ({ config }, paths) => ({
    command: prometheusBinary() ?? 'prometheus',
    args: [
      `--config.file=${path.join(paths.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(paths.dataDir, 'tsdb')}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=${HOST}:${config.ports.prometheus}`,
      '--web.enable-lifecycle',
      // k6 sends its results here (k6 run -o experimental-prometheus-rw, npm run loadtest).
      '--web.enable-remote-write-receiver',
    ],
  }),
  healthy: ({ config }) => httpOk(`http://${HOST}:${config.ports.prometheus}/-/ready`),
  startTimeoutMs: 30_000,
};
