/**
 * The SDK reports export failures through its diagnostic logger. With no Collector reachable
 * that would be one stderr line per failed batch, so repeated messages are collapsed: at most
 * one line per interval, with a count of what was suppressed.
 */
import { DiagLogLevel, diag, type DiagLogger } from '@opentelemetry/api';

export class RateLimitedDiagLogger implements DiagLogger {
  readonly #intervalMs: number;
  readonly #write: (line: string) => void;
  #lastWrittenAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(intervalMs: number, write: (line: string) => void = (line) => console.error(line)) {
    this.#intervalMs = intervalMs;
    this.#write = write;
  }

  error = (message: string, ...args: unknown[]): void => this.#report('error', message, args);
  warn = (message: string, ...args: unknown[]): void => this.#report('warn', message, args);
  info = (message: string, ...args: unknown[]): void => this.#report('info', message, args);
  debug = (message: string, ...args: unknown[]): void => this.#report('debug', message, args);
  verbose = (message: string, ...args: unknown[]): void => this.#report('verbose', message, args);

  #report(level: string, message: string, args: unknown[]): void {
    const now = Date.now();
    if (now - this.#lastWrittenAt < this.#intervalMs) {
      this.#suppressed += 1;
      return;
    }
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');
    const suppressed = this.#suppressed > 0 ? ` (${this.#suppressed} similar suppressed)` : '';
    this.#write(`otel ${level}: ${message} ${detail}${suppressed}`.trimEnd());
    this.#lastWrittenAt = now;
    this.#suppressed = 0;
  }
}

const LEVELS: Record<string, DiagLogLevel> = {
  NONE: DiagLogLevel.NONE,
  ERROR: DiagLogLevel.ERROR,
  WARN: DiagLogLevel.WARN,
  INFO: DiagLogLevel.INFO,
  DEBUG: DiagLogLevel.DEBUG,
  VERBOSE: DiagLogLevel.VERBOSE,
  ALL: DiagLogLevel.ALL,
};

export function installDiagLogger(env: NodeJS.ProcessEnv, intervalMs = 30_000): void {
  const level = LEVELS[(env['OTEL_LOG_LEVEL'] ?? 'WARN').toUpperCase()] ?? DiagLogLevel.WARN;
  diag.setLogger(new RateLimitedDiagLogger(intervalMs), {
    logLevel: level,
    suppressOverrideMessage: true,
  });
}
