import type { ServicesConfig } from './config.ts';
import type { Logger } from './progress.ts';

export const SERVICE_NAMES = [
  'kafka',
  'collector',
  'victorialogs',
  'prometheus',
  'jaeger',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(value: string): value is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(value);
}

export interface Context {
  config: ServicesConfig;
  log: Logger;
}

export interface RunPaths {
  /** Which of the service's processes (1-based); 1 for a service that runs one. */
  instance: number;
  /** .cache/run/<service> (.cache/run/<service>-<n> from the second process on). */
  dir: string;
  pidFile: string;
  logFile: string;
  /** Deleted by `down` unless data is kept. */
  dataDir: string;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** A command an installer needs, checked before it runs, with the hint printed when missing. */
export interface RequiredTool {
  command: string;
  args: string[];
  hint: string;
}

/** Something `install` provides under the cache: a service's program, or the test tools. */
export interface Installable {
  name: string;
  /** Shown while it installs, e.g. "kafka: resolve broker jars from Maven Central". */
  installTitle: string;
  /** `download` work runs beside `build` work (network vs CPU); builds run one at a time. */
  installKind: 'download' | 'build';
  installRequires: RequiredTool[];
  installed(ctx: Context): boolean;
  install(ctx: Context): Promise<void>;
}

export interface ServiceDefinition extends Installable {
  name: ServiceName;
  /** Services that must be healthy before this one starts; it stops before them. */
  startsAfter: ServiceName[];
  /**
   * How many processes it runs (default 1), e.g. the nodes of a Kafka cluster: each has its own
   * run directory, pid file, log and data, is started and stopped through the same calls, and
   * `healthy` speaks for all of them together.
   */
  instances?(ctx: Context): number;
  /** Ports one of its processes binds, with the env var that moves each; checked before starting. */
  ports(ctx: Context, instance: number): { port: number; env: string }[];
  /** Human-readable addresses of one process, printed by `up` and `status`. */
  listens(ctx: Context, instance: number): string;
  /**
   * Writes one process' config files and initialises its storage; must be idempotent
   * (restarts keep data).
   */
  prepare(ctx: Context, paths: RunPaths): Promise<void>;
  launch(ctx: Context, paths: RunPaths): LaunchSpec;
  healthy(ctx: Context): Promise<boolean>;
  startTimeoutMs: number;
}
