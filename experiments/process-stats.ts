/**
 * CPU time and peak memory of the processes a variant runs, read from Linux' /proc: a process
 * and all its descendants count as one (a service's pid file names its group leader).
 *
 * A `ProcessMeter` is sampled about once a second. It follows pids that change (a service
 * restarted by a fault gets a new pid; the CPU of the old one is kept) and remembers the
 * highest resident set seen.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ): 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

/** `pid` and its descendants, through /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (const current of tree) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${current}/task/${tid}/children`, 'utf8');
        for (const child of children.split(' ').filter(Boolean)) tree.push(Number(child));
      } catch {
        // The task ended between the two reads.
      }
    }
  }
  return tree;
}

/** User plus system CPU of one process, in seconds; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start with field 3, the state;
    // utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** One `/proc/<pid>/status` value in bytes (VmRSS, VmHWM); undefined once the process is gone. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessUsage {
  /** CPU seconds (user + system) used between `start()` and the last sample. */
  cpuSeconds: number;
  /** Highest resident set seen, bytes: the kernel's high-water mark (VmHWM) of the tree. */
  peakRssBytes: number;
  /** How many samples found the process running; 0 means nothing was measured. */
  samples: number;
}

/** Measures one named role (e.g. "collector") whose pid may change while it is measured. */
export class ProcessMeter {
  /** Per pid: CPU seconds at the first sample and at the latest one. */
  readonly #cpu = new Map<number, { first: number; last: number }>();
  #peakRss = 0;
  #samples = 0;
  readonly #pidOf: () => number | undefined;

  /** `pidOf` returns the current pid (e.g. from a pid file), or undefined while not running. */
  constructor(pidOf: () => number | undefined) {
    this.#pidOf = pidOf;
  }

  sample(): void {
    const root = this.#pidOf();
    if (root === undefined) return;
    let counted = false;
    let hwm = 0;
    // A process first seen after the first sample (a restarted service) started within the
    // measured window: all of its CPU counts.
    const measuring = this.#samples > 0;
    for (const pid of processTree(root)) {
      const cpu = cpuSecondsOf(pid);
      if (cpu === undefined) continue;
      counted = true;
      const seen = this.#cpu.get(pid);
      if (seen) seen.last = cpu;
      else this.#cpu.set(pid, { first: measuring ? 0 : cpu, last: cpu });
      hwm += statusBytes(pid, 'VmHWM') ?? 0;
    }
    if (!counted) return;
    this.#samples += 1;
    this.#peakRss = Math.max(this.#peakRss, hwm);
  }

  usage(): ProcessUsage {
    let cpuSeconds = 0;
    for (const { first, last } of this.#cpu.values()) cpuSeconds += last - first;
    return { cpuSeconds, peakRssBytes: this.#peakRss, samples: this.#samples };
  }
}
