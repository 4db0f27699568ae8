/**
 * Starts the project's own Node entry points (API, consumer, canary) as child processes for
 * tests and benchmarks, and reads their Prometheus metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { waitForOutput } from './process-output.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface NodeProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> of the port it printed when it started listening. */
  url: string;
  /** Sends `signal` (SIGTERM by default) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `node <args>` from the repository root and waits for its `"port":N` start-up line. */
export async function startNodeProcess(
  args: string[],
  env: Record<string, string>,
): Promise<NodeProcess> {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [, port] = await waitForOutput(child, /"port":(\d+)/);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

/** Sum of one metric's series on `<url>/metrics`, optionally only those whose labels contain `labelFragment`. */
export async function scrapeMetric(url: string, name: string, labelFragment = ''): Promise<number> {
  return sumOfSeries(await scrapeText(url), name, labelFragment);
}

/** The Prometheus text of `<url>/metrics`, for reading several metrics from one scrape. */
export async function scrapeText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Sum of one metric's series in a Prometheus text exposition (see scrapeMetric). */
export function sumOfSeries(text: string, name: string, labelFragment = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => line.includes(labelFragment))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
