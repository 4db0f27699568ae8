/**
 * Runs the k6 scripts of loadtest/ with real k6 for the integration tests, and reads back k6's
 * end-of-test summary (`--summary-export`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveK6 } from '../../stack/loadtest.ts';
import type { K6Binary } from '../../stack/loadtest.ts';
import { createContext } from '../../stack/index.ts';

/** Every route a visit exercises; each must have a latency and a minimum-count threshold. */
export const ROUTES = [
  'GET /products',
  'GET /products/:id',
  'GET /users/:id',
  'GET /users',
  'POST /orders',
  'GET /orders/:id',
  'POST /users',
  'POST /products',
  'GET /analytics',
];

export { REPO_ROOT } from '../../stack/config.ts';
import { REPO_ROOT } from '../../stack/config.ts';

/** One metric of `--summary-export`: trend statistics, counter count/rate, rate passes/fails. */
export interface SummaryMetric {
  count?: number;
  passes?: number;
  fails?: number;
  value?: number;
  /** Threshold expression -> true when it failed (k6's legacy summary format). */
  thresholds?: Record<string, boolean>;
  [stat: string]: unknown;
}

export interface K6Run {
  code: number | null;
  /** stdout and stderr, for failure messages. */
  output: string;
  metrics: Record<string, SummaryMetric>;
}

let k6: Promise<K6Binary> | undefined;

/** The k6 the project uses (stack/loadtest.ts), resolved once per test process. */
export function projectK6(): Promise<K6Binary> {
  k6 ??= resolveK6(createContext((line) => console.log(`  [k6] ${line}`)));
  return k6;
}

const running = new Set<ChildProcess>();

/** Stops k6 processes still running (a test that timed out); for `after` hooks. */
export function stopK6Runs(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * `k6 run [args] loadtest/<script>` (or an absolute script path) from the repository root with `env` on top of the
 * environment, waiting for it to exit. Usage reports are off: a test must not phone home.
 */
export async function runK6(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<K6Run> {
  const { path: binary } = await projectK6();
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-summary-'));
  const summaryFile = path.join(dir, 'summary.json');
  try {
    const child = spawn(
      binary,
      [
        'run',
        '--no-color',
        '--summary-export',
        summaryFile,
        ...args,
        path.isAbsolute(script) ? script : path.join('loadtest', script),
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, K6_NO_USAGE_REPORT: 'true', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(child);
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = `${output}${chunk.toString('utf8')}`.slice(-200_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    running.delete(child);
    let metrics: Record<string, SummaryMetric> = {};
    try {
      metrics = (JSON.parse(readFileSync(summaryFile, 'utf8')) as { metrics: typeof metrics })
        .metrics;
    } catch {
      // No summary (k6 failed before the test ran); the exit code and output tell why.
    }
    return { code, output, metrics };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How many samples a summary metric was computed from (trend count, counter count, rate total). */
export function sampleCount(metric: SummaryMetric | undefined): number {
  if (metric === undefined) return 0;
  if (typeof metric.passes === 'number' && typeof metric.fails === 'number') {
    return metric.passes + metric.fails;
  }
  return typeof metric.count === 'number' ? metric.count : 0;
}
