/**
 * The project's own processes (the API, the log consumer, the canary and the load generator),
 * launched the one way the demo, the benchmarks and the tests all use. Each launcher knows its
 * entry point and the environment that wires it to the native services (`Endpoints`); callers
 * only add what their run changes.
 *
 * Every process started here is tracked: whatever ends the parent (a signal, an uncaught error, a
 * closed stdout), `process.on('exit')` sends SIGTERM to the ones still running, so none outlives
 * it. Graceful stops go through `ComponentProcess.stop()` or `ComponentGroup.stopAll()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { HOST, REPO_ROOT, type Endpoints } from './config.ts';

export type ComponentName = 'api' | 'consumer' | 'canary' | 'loadgen' | 'dlq';

/** Node arguments of each entry point; the API is started with its telemetry bootstrap. */
const ENTRY_POINTS: Record<ComponentName, string[]> = {
  api: ['--import', './src/api/telemetry/register.ts', 'src/api/main.ts'],
  consumer: ['src/consumer/main.ts'],
  canary: ['src/canary/main.ts'],
  loadgen: ['src/loadgen/main.ts'],
  dlq: ['src/consumer/dlq/main.ts'],
};

/** Commands that run to completion rather than serve: nothing to wait for before returning. */
const COMMANDS: ReadonlySet<ComponentName> = new Set(['loadgen', 'dlq']);

const CONSUMER_VARIABLES = [
  'KAFKA_BROKERS',
  'KAFKA_CLIENT_ID',
  'CONSUMER_GROUP',
  'TOPIC_PATTERN',
  'TOPIC_REFRESH_MS',
  'DLQ_TOPIC',
  'DLQ_TRUNCATE_BYTES',
  'LOKI_PUSH_URL',
  'LOKI_TENANT',
  'LOKI_PUSH_FORMAT',
  'MESSAGE_ENCODING',
  'BATCH_MAX_ENTRIES',
  'BATCH_MAX_BYTES',
  'BATCH_MAX_WAIT_MS',
  'PARTITIONS_IN_PARALLEL',
  'RETRY_INITIAL_DELAY_MS',
  'RETRY_MAX_DELAY_MS',
  'PUSH_TIMEOUT_MS',
  'STORE_LIMITS_CHECK',
  'STORE_MAX_LINE_BYTES',
  'STORE_MAX_STRUCTURED_METADATA_BYTES',
  'STORE_MAX_STRUCTURED_METADATA_ENTRIES',
  'STORE_MAX_LABEL_VALUE_BYTES',
  'STORE_MAX_LABEL_NAME_BYTES',
  'STORE_REJECT_OLD_MAX_AGE_S',
  'STORE_CREATION_GRACE_PERIOD_S',
  'STORE_MAX_CHUNK_AGE_S',
  'METRICS_HOST',
  'METRICS_PORT',
] as const;

/**
 * The variables each component reads (besides the standard `OTEL_*` ones), so that a launcher's
 * overrides are type-checked; test/unit/components.test.ts checks each name against the
 * component's source, so a renamed variable fails there instead of being ignored at run time.
 */
export const COMPONENT_VARIABLES = {
  api: [
    'HOST',
    'PORT',
    'BODY_LIMIT_BYTES',
    'STORE_CAPACITY',
    'LOW_STOCK_THRESHOLD',
    'SHUTDOWN_GRACE_MS',
    'REQUEST_TIMEOUT_MS',
    'RATE_LIMIT_PER_SECOND',
    'FAULT_ROUTES',
    'KAFKA_BROKERS',
    'KAFKA_LOGS_ENCODING',
    'LOG_EXPORT_RETRY_MS',
    'LOG_EXPORT_MAX_REQUEST_BYTES',
    'TELEMETRY_BENCH_STEP',
  ],
  consumer: CONSUMER_VARIABLES,
  dlq: CONSUMER_VARIABLES,
  canary: [
    'CANARY_STORE',
    'CANARY_STORE_URL',
    'CANARY_INTERVAL_MS',
    'CANARY_DEADLINE_MS',
    'CANARY_CHECK_INTERVAL_MS',
    'LOKI_TENANT',
    'METRICS_HOST',
    'METRICS_PORT',
  ],
  loadgen: [
    'LOADGEN_TARGET',
    'LOADGEN_RATE',
    'LOADGEN_DURATION_S',
    'LOADGEN_CONCURRENCY',
    'LOADGEN_BAD_SHARE',
    'LOADGEN_MIX',
  ],
} as const satisfies Record<ComponentName, readonly string[]>;

/**
 * Overrides a component accepts: its own variables, the standard OpenTelemetry ones, and
 * `BENCH_*` ones read by benchmark code loaded into it (`nodeFlags: ['--import', ...]`).
 */
export type ComponentEnv<N extends ComponentName = ComponentName> = Partial<
  Record<(typeof COMPONENT_VARIABLES)[N][number] | `OTEL_${string}` | `BENCH_${string}`, string>
>;

/** The environment that connects a component to the native services, before overrides. */
function wiring(name: ComponentName, endpoints: Endpoints): ComponentEnv {
  const brokers = endpoints.kafkaBrokers.join(',');
  switch (name) {
    case 'api':
      return {
        HOST,
        PORT: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.otlpHttp,
        KAFKA_BROKERS: brokers,
      };
    case 'consumer':
      return {
        KAFKA_BROKERS: brokers,
        LOKI_PUSH_URL: endpoints.lokiPush,
        METRICS_HOST: HOST,
        METRICS_PORT: '0',
      };
    case 'canary':
      return {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.otlpHttp,
        CANARY_STORE: 'victorialogs',
        CANARY_STORE_URL: endpoints.victoriaLogs,
        METRICS_HOST: HOST,
        METRICS_PORT: '0',
      };
    case 'dlq':
      return { KAFKA_BROKERS: brokers, LOKI_PUSH_URL: endpoints.lokiPush };
    case 'loadgen':
      return {};
  }
}

export interface ComponentOptions<N extends ComponentName = ComponentName> {
  /** Environment on top of the wiring (and of this process' own environment). */
  env?: ComponentEnv<N>;
  /** Node flags placed before the entry point, e.g. V8 heap sizes. */
  nodeFlags?: string[];
  /** Command-line arguments after the entry point (the load generator's flags). */
  args?: string[];
  /** API only: start it without its OpenTelemetry bootstrap (the benchmark's bare baseline). */
  withoutTelemetry?: boolean;
  /**
   * Where the process' output goes: `inherit` shares this terminal; `{ file }` appends both
   * streams to a log file; `ignore` drains and drops it (the default); `pipe` leaves
   * `child.stdout` and `child.stderr` for the caller to read. Servers' start-up lines are read
   * in every case.
   */
  output?: 'inherit' | 'ignore' | 'pipe' | { file: string };
  /**
   * Servers only: resolve once the process printed its listening port (the default), or at once
   * after spawning (for a caller that expects it to refuse to start; `url` is then empty).
   */
  waitUntilListening?: boolean;
}

export interface ComponentProcess {
  readonly name: ComponentName;
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` of the port a server printed when it started listening. */
  readonly url: string;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default), then SIGKILL after `graceMs`; resolves on exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function trackUntilExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs on every way out of this process, including process.exit() from a signal handler and a
  // crash; only synchronous work is possible here, so the children get SIGTERM and stop alone.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

/**
 * Stops every component this process started that is still running, the latest first (the load
 * before the API, the API before the consumer that ships its logs): SIGTERM, then SIGKILL after
 * `graceMs`. Resolves once each has exited. For a process that is about to exit on a signal,
 * so that nothing it started outlives it.
 */
export async function stopStartedComponents(graceMs = 10_000): Promise<void> {
  for (const child of [...running].reverse()) await stopChild(child, 'SIGTERM', graceMs);
}

/** Sends `signal`, then SIGKILL after `graceMs`; resolves once the child has exited. */
async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Servers print one JSON start-up line with their port (`"port":N`). */
const LISTENING = /"port":(\d+)/;

function waitForPort(child: ChildProcess, name: ComponentName): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen = (seen + chunk.toString('utf8')).slice(-8000);
      const match = LISTENING.exec(seen);
      if (!match) return;
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(Number(match[1]));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      reject(
        new Error(`${name} exited (${signal ?? code}) before it listened: ${seen.slice(-2000)}`),
      );
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Starts one component from the repository root and, for servers (all but the load generator),
 * waits until it printed its listening port. Rejects if it exits before that.
 */
export async function startComponent<N extends ComponentName>(
  name: N,
  endpoints: Endpoints,
  options: ComponentOptions<N> = {},
): Promise<ComponentProcess> {
  const output = options.output ?? 'ignore';
  const entry = options.withoutTelemetry
    ? ENTRY_POINTS[name].filter(
        (arg, index, all) => arg !== '--import' && all[index - 1] !== '--import',
      )
    : ENTRY_POINTS[name];
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), ...entry, ...(options.args ?? [])],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...wiring(name, endpoints), ...options.env },
      // Its own process group: a Ctrl-C in the terminal reaches only the parent, which stops its
      // components in order (load first, then the API, then what ships its logs).
      detached: true,
      // stdout is always a pipe: the start-up line with the port is read from it.
      stdio: ['ignore', 'pipe', output === 'inherit' ? 'inherit' : 'pipe'],
    },
  );
  trackUntilExit(child);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  if (typeof output === 'object') {
    mkdirSync(path.dirname(output.file), { recursive: true });
    const log = createWriteStream(output.file, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  } else if (output === 'inherit') {
    child.stdout?.pipe(process.stdout, { end: false });
  } else if (output === 'ignore') {
    // Drained, or a chatty child would block once the pipe buffer is full.
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const port =
    COMMANDS.has(name) || options.waitUntilListening === false
      ? undefined
      : await waitForPort(child, name);
  return {
    name,
    child,
    url: port === undefined ? '' : `http://${HOST}:${port}`,
    exited,
    stop: (signal = 'SIGTERM', graceMs = 15_000) => stopChild(child, signal, graceMs),
  };
}

/**
 * The components one run started, stopped together: in reverse start order, so the load stops
 * before the API and the API (which flushes its logs) before the consumer that ships them.
 */
export class ComponentGroup {
  /** The running components, in start order. */
  readonly running: ComponentProcess[] = [];

  /** Starts a component and remembers it for `stopAll`. */
  async start<N extends ComponentName>(
    name: N,
    endpoints: Endpoints,
    options?: ComponentOptions<N>,
  ): Promise<ComponentProcess> {
    const started = await startComponent(name, endpoints, options);
    this.running.push(started);
    return started;
  }

  /** Tracks a component started elsewhere (e.g. through `startComponent`); safe to destructure. */
  readonly track = async (started: Promise<ComponentProcess>): Promise<ComponentProcess> => {
    const handle = await started;
    this.running.push(handle);
    return handle;
  };

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const handle of this.running.splice(0).reverse()) await handle.stop(signal);
  }
}
