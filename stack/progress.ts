import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';

export type Logger = (line: string) => void;

/**
 * Makes a closed stdout or stderr (EPIPE: the reader of a pipe such as `| head` or `| tee` went
 * away) call `onClosed` instead of crashing the process with an unhandled 'error' event, so a
 * command can still stop what it started. Console writes after that are dropped silently.
 */
export function guardOutput(onClosed: () => void): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
      onClosed();
    });
  }
}

export const defaultLogger: Logger = (line) => console.log(line);

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Runs one named step and prints how long it took, so a slow first install is explainable. */
export async function step<T>(log: Logger, title: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  log(`==> ${title}`);
  try {
    const result = await run();
    log(`    done: ${title} (${seconds(Date.now() - started)})`);
    return result;
  } catch (error) {
    log(`    FAILED: ${title} (${seconds(Date.now() - started)})`);
    throw error;
  }
}

export class CommandError extends Error {
  readonly logFile: string;
  constructor(message: string, logFile: string) {
    super(message);
    this.logFile = logFile;
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Full output goes here; the terminal only gets a heartbeat line. */
  logFile: string;
  log: Logger;
  heartbeatMs?: number;
  /**
   * Reads each output line of the tool and may return a progress status (e.g. "412 of 1630
   * packages, about 3 min left") that the heartbeat shows instead of the raw last line.
   */
  progress?: (line: string) => string | undefined;
}

/**
 * Progress of a Go build from `go build -v`, which prints each package as it compiles it, against
 * the package count from `go list -deps`. Packages already in Go's build cache are not printed,
 * so the count may stop short of the total and the estimate is an upper bound.
 */
export class GoBuildProgress {
  readonly #total: number;
  readonly #started = Date.now();
  #compiled = 0;

  constructor(totalPackages: number) {
    this.#total = totalPackages;
  }

  /** Feed one line of `go build -v` output; returns the status to show. */
  readonly observe = (line: string): string | undefined => {
    // Package paths have no spaces; anything else is a warning or an error line.
    if (!/^[\w.\-/]+$/.test(line)) return undefined;
    this.#compiled += 1;
    return this.status();
  };

  status(): string {
    const done = Math.min(this.#compiled, this.#total);
    const elapsed = Date.now() - this.#started;
    const left = done > 0 ? (elapsed / done) * (this.#total - done) : undefined;
    const estimate =
      left === undefined ? '' : `, at most about ${Math.ceil(left / 60_000)} min left`;
    return `compiled ${done} of ${this.#total} packages${estimate}`;
  }
}

/**
 * Runs a build tool with its output captured in a log file. Builds take minutes on a small
 * machine, so a heartbeat with the latest output line shows it is alive without flooding the
 * terminal.
 */
/** Log files whose path was already printed: each is named once per command. */
const announcedLogs = new Set<string>();

export function runLogged(command: string, args: string[], options: RunOptions): Promise<void> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  if (!announcedLogs.has(options.logFile)) {
    announcedLogs.add(options.logFile);
    options.log(`    output of ${path.basename(command)}: ${options.logFile}`);
  }
  const out = createWriteStream(options.logFile, { flags: 'a' });
  out.write(`\n$ ${command} ${args.join(' ')}\n`);
  const started = Date.now();
  let lastLine = '';
  let status: string | undefined;

  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // One reader per stream: a chunk may end mid-line, and the rest of the line comes next.
    const reader = () => {
      let pending = '';
      return (chunk: Buffer): void => {
        out.write(chunk);
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop() ?? '';
        for (const raw of lines) {
          const line = raw.trim();
          if (!line) continue;
          lastLine = line;
          status = options.progress?.(line) ?? status;
        }
      };
    };
    child.stdout.on('data', reader());
    child.stderr.on('data', reader());
    const timer = setInterval(() => {
      const tail = lastLine.length > 90 ? `${lastLine.slice(0, 87)}...` : lastLine;
      options.log(
        `    ... ${seconds(Date.now() - started)} ${status ?? (tail || '(no output yet)')}`,
      );
    }, options.heartbeatMs ?? 15_000);
    const finish = (error?: Error): void => {
      clearInterval(timer);
      out.end(() => (error ? reject(error) : resolve()));
    };
    child.on('error', (error) =>
      finish(new CommandError(`cannot run ${command}: ${error.message}`, options.logFile)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) finish();
      else
        finish(
          new CommandError(
            `${command} ${args.slice(0, 3).join(' ')} failed (${signal ?? `exit ${code}`}); see ${options.logFile}`,
            options.logFile,
          ),
        );
    });
  });
}
