import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';

export type Logger = (line: string) => void;

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
}

/**
 * Runs a build tool with its output captured in a log file. Builds take minutes on a small
 * machine, so a heartbeat with the latest output line shows it is alive without flooding the
 * terminal.
 */
export function runLogged(command: string, args: string[], options: RunOptions): Promise<void> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const out = createWriteStream(options.logFile, { flags: 'a' });
  out.write(`\n$ ${command} ${args.join(' ')}\n`);
  const started = Date.now();
  let lastLine = '';

  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer): void => {
      out.write(chunk);
      const lines = chunk
        .toString()
        .split('\n')
        .map((line) => line.trim());
      const last = lines.filter((line) => line.length > 0).pop();
      if (last) lastLine = last;
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => {
      const tail = lastLine.length > 90 ? `${lastLine.slice(0, 87)}...` : lastLine;
      options.log(`    ... ${seconds(Date.now() - started)} ${tail}`);
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
