/** What the benchmark scripts share when they write their results. */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** The middle value (upper middle for an even count); NaN when there is none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** How this run was started, for the results: `npm run <script> -- <arguments>`. */
export function invokedCommand(npmScript: string): string {
  const args = process.argv.slice(2);
  return [`npm run ${npmScript}`, ...(args.length > 0 ? ['--', ...args] : [])].join(' ');
}

/** The `p`-th percentile (0-100, nearest rank) of `values`; NaN when there is none. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

/** The machine a run measured, read at its start rather than assumed. */
export interface Machine {
  cores: number;
  cpuModel: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverageAtStart: [number, number, number];
  totalMemoryMiB: number;
  node: string;
}

export function describeMachine(): Machine {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    loadAverageAtStart: [one, five, fifteen].map((value) => Number(value.toFixed(2))) as [
      number,
      number,
      number,
    ],
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
  };
}

/** One line for the Markdown results: "2 cores (model), load average 1.2 / 0.9 / 0.7 at start". */
export function machineLine(machine: Machine): string {
  const [one, five, fifteen] = machine.loadAverageAtStart;
  return (
    `${machine.cores} cores (${machine.cpuModel}), load average ${one} / ${five} / ${fifteen} ` +
    `at start, ${machine.node}`
  );
}

/**
 * Prints progress lines for a run of `total` steps of work: how far, how long so far and an
 * estimate of the rest from the average step so far.
 */
export class Progress {
  readonly #started = Date.now();
  #done = 0;
  readonly total: number;
  readonly log: (line: string) => void;
  constructor(total: number, log: (line: string) => void = (line) => console.log(line)) {
    this.total = total;
    this.log = log;
  }

  /** Marks one step done and prints `detail` with the position and the estimate. */
  step(detail: string): void {
    this.#done += 1;
    const elapsed = (Date.now() - this.#started) / 1000;
    const left = (elapsed / this.#done) * (this.total - this.#done);
    this.log(
      `[${this.#done}/${this.total} ${Math.round(elapsed)}s, about ${Math.round(left)}s left] ${detail}`,
    );
  }
}
