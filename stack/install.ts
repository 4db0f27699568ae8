import { spawnSync } from 'node:child_process';
import { INSTALLABLES } from './registry.ts';
import { step } from './progress.ts';
import type { Context, Installable } from './types.ts';

export interface InstallReport {
  built: string[];
  upToDate: string[];
}

function checkRequirements(items: Installable[]): void {
  for (const { command, args, hint } of items.flatMap((item) => item.installRequires)) {
    const result = spawnSync(command, args, { stdio: 'ignore' });
    if (result.error || result.status !== 0) throw new Error(`${command} is required: ${hint}`);
  }
}

export function missingComponents(ctx: Context): string[] {
  return INSTALLABLES.filter((item) => !item.installed(ctx)).map((item) => item.name);
}

/**
 * Installs whatever is missing or stale and skips the rest, so it is cheap to call before
 * every `up`. Downloads (Maven, PyPI, apt) run alongside the builds (network vs CPU); the Go
 * builds run one after the other because each already uses every core.
 */
export async function installServices(ctx: Context): Promise<InstallReport> {
  const missing = INSTALLABLES.filter((item) => !item.installed(ctx));
  const report: InstallReport = {
    built: missing.map((item) => item.name),
    upToDate: INSTALLABLES.filter((item) => !missing.includes(item)).map((item) => item.name),
  };
  if (missing.length === 0) {
    ctx.log(`services are installed and up to date in ${ctx.config.cacheDir}`);
    return report;
  }
  ctx.log(`installing into ${ctx.config.cacheDir}: ${report.built.join(', ')}`);
  checkRequirements(missing);
  const inSequence = async (kind: Installable['installKind']) => {
    for (const item of missing.filter((candidate) => candidate.installKind === kind)) {
      await step(ctx.log, item.installTitle, () => item.install(ctx));
    }
  };
  const results = await Promise.allSettled([inSequence('download'), inSequence('build')]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return report;
}
