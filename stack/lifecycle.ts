import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HOST, endpointsOf } from './config.ts';
import { stopStartedComponents } from './components.ts';
import type { Endpoints } from './config.ts';
import { poll } from './http.ts';
import { installServices, missingComponents } from './install.ts';
import { ensureTopics } from './kafka.ts';
import { isAlive, readPid, startDetached, stopByPidFile, tailFile } from './process.ts';
import type { StopOptions } from './process.ts';
import { guardOutput, step } from './progress.ts';
import { SERVICES, stopOrder } from './registry.ts';
import { SERVICE_NAMES } from './types.ts';
import type { Context, RunPaths, ServiceName } from './types.ts';

export { SERVICES };

/** The run directory, pid file, log and data of one process of a service (1-based). */
export function runPaths(ctx: Context, name: ServiceName, instance = 1): RunPaths {
  const label = instanceLabel(name, instance);
  const dir = path.join(ctx.config.runDir, label);
  return {
    instance,
    dir,
    pidFile: path.join(dir, `${label}.pid`),
    logFile: path.join(dir, `${label}.log`),
    dataDir: path.join(dir, 'data'),
  };
}

/** `kafka` for the first process, `kafka-2` for the second: names in status and in logs. */
export function instanceLabel(name: ServiceName, instance: number): string {
  return instance === 1 ? name : `${name}-${instance}`;
}

/** How many processes the configuration asks of a service. */
export function instanceCount(ctx: Context, name: ServiceName): number {
  return SERVICES[name].instances?.(ctx) ?? 1;
}

/**
 * The processes of a service that have a run directory, configured or not: a cluster started
 * with three nodes is stopped whole by a `down` run without the setting that asked for them.
 */
function instancesOnDisk(ctx: Context, name: ServiceName): number[] {
  const found = new Set<number>();
  for (let instance = 1; instance <= instanceCount(ctx, name); instance++) found.add(instance);
  if (existsSync(ctx.config.runDir)) {
    const pattern = new RegExp(`^${name}-(\\d+)$`);
    for (const entry of readdirSync(ctx.config.runDir)) {
      const match = pattern.exec(entry);
      if (match) found.add(Number(match[1]));
    }
  }
  return [...found].sort((a, b) => a - b);
}

export class ServiceStartError extends Error {
  readonly service: ServiceName;
  readonly logTail: string;
  constructor(service: ServiceName, reason: string, logFile: string) {
    const logTail = tailFile(logFile);
    super(
      `${service} did not become healthy: ${reason}\n--- last lines of ${logFile} ---\n${logTail}`,
    );
    this.service = service;
    this.logTail = logTail;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The pid of a running service's process (node `instance` of a cluster); undefined when it is not running. */
export function runningPid(ctx: Context, name: ServiceName, instance = 1): number | undefined {
  const pid = readPid(runPaths(ctx, name, instance).pidFile);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/** Whether every configured process of the service is alive. */
function allRunning(ctx: Context, name: ServiceName): boolean {
  for (let instance = 1; instance <= instanceCount(ctx, name); instance++) {
    if (runningPid(ctx, name, instance) === undefined) return false;
  }
  return true;
}

/**
 * Starts one service (idempotent: running processes are only health-checked; of a cluster,
 * only the nodes that are down are started) and waits until it is healthy. On failure the
 * processes this call started are stopped and the error carries the tail of their own log.
 */
export async function startService(ctx: Context, name: ServiceName): Promise<void> {
  const service = SERVICES[name];
  const launched: { pid: number; paths: RunPaths }[] = [];
  try {
    for (let instance = 1; instance <= instanceCount(ctx, name); instance++) {
      if (runningPid(ctx, name, instance) !== undefined) continue;
      const paths = runPaths(ctx, name, instance);
      launched.push({ pid: await launchInstance(ctx, name, paths), paths });
    }
  } catch (error) {
    for (const { paths } of launched) await stopByPidFile(paths.pidFile, { graceMs: 5000 });
    throw error;
  }
  try {
    // Nodes of a cluster become healthy together (a controller quorum needs a majority), so
    // all of them are launched before the first health check.
    await poll(async () => ((await service.healthy(ctx)) ? true : undefined), {
      timeoutMs: service.startTimeoutMs,
      intervalMs: 500,
      abort: () => {
        const dead = launched.find(({ pid }) => !isAlive(pid));
        return dead ? `process ${dead.pid} exited` : undefined;
      },
    });
  } catch (error) {
    const failed = launched.find(({ pid }) => !isAlive(pid)) ?? launched[0];
    const failure = new ServiceStartError(
      name,
      (error as Error).message,
      (failed?.paths ?? runPaths(ctx, name)).logFile,
    );
    for (const { paths } of launched) await stopByPidFile(paths.pidFile, { graceMs: 5000 });
    throw failure;
  }
  if (name === 'kafka') {
    const created = await ensureTopics(ctx.config);
    if (created.length > 0) ctx.log(`    kafka: created topics ${created.join(', ')}`);
  }
}

/** Checks one process' ports, prepares it and starts it detached; returns its pid. */
async function launchInstance(ctx: Context, name: ServiceName, paths: RunPaths): Promise<number> {
  const service = SERVICES[name];
  if (!service.installed(ctx)) {
    throw new Error(`${name} is not installed; run: npm run services:install`);
  }
  for (const { port, env } of service.ports(ctx, paths.instance)) {
    // Right after a stop the kernel may take a moment to release the listening socket.
    const free = await poll(async () => ((await portFree(port)) ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 200,
    }).catch(() => false);
    if (!free) {
      throw new Error(
        `${name}: port ${HOST}:${port} is already in use by another process; ` +
          `free it or set ${env} to another port`,
      );
    }
  }
  mkdirSync(paths.dataDir, { recursive: true });
  await service.prepare(ctx, paths);
  const spec = service.launch(ctx, paths);
  return startDetached({ ...spec, logFile: paths.logFile, pidFile: paths.pidFile });
}

export interface StopServiceOptions extends StopOptions {
  /** Remove the service's data dir after stopping (default false: a restart keeps data). */
  deleteData?: boolean;
  /** Stop only this process of the service (1-based), e.g. one broker of a cluster. */
  instance?: number;
}

/**
 * Stops one service by its pid files, e.g. `{ signal: 'SIGKILL' }` to simulate a crash: every
 * process it has a run directory for (all nodes of a cluster, at once, so that none waits for
 * a quorum the others already left), or only `options.instance`. Returns whether any was
 * running.
 */
export async function stopService(
  ctx: Context,
  name: ServiceName,
  options: StopServiceOptions = {},
): Promise<boolean> {
  const instances =
    options.instance === undefined ? instancesOnDisk(ctx, name) : [options.instance];
  const stopped = await Promise.all(
    instances.map(async (instance) => {
      const paths = runPaths(ctx, name, instance);
      // Kafka's controlled shutdown and the Collector's queue flush need a few seconds.
      const wasRunning = await stopByPidFile(paths.pidFile, { graceMs: 20_000, ...options });
      if (options.deleteData) rmSync(paths.dataDir, { recursive: true, force: true });
      return wasRunning;
    }),
  );
  return stopped.some(Boolean);
}

export interface StartOptions {
  /** Install missing components first (default true). */
  install?: boolean;
  /**
   * Aborted when the caller is stopping (a signal, a closed stdout): no further service is
   * started, the call rejects, and what it had started is stopped again.
   */
  signal?: AbortSignal;
}

/**
 * Brings every service up, each as soon as the services it starts after are healthy (the
 * Collector once Kafka is healthy and its topics exist; the others at once). If anything fails,
 * whatever this call started is stopped again.
 */
export async function startServices(ctx: Context, options: StartOptions = {}): Promise<Endpoints> {
  if (options.install !== false && missingComponents(ctx).length > 0) {
    await installServices(ctx);
  }
  const alreadyRunning = new Set(SERVICE_NAMES.filter((name) => allRunning(ctx, name)));
  const start = (name: ServiceName): Promise<void> => {
    if (options.signal?.aborted) return Promise.reject(new Error(`start of ${name} abandoned`));
    return step(ctx.log, `start ${name}`, () => startService(ctx, name));
  };
  try {
    const started = new Map<ServiceName, Promise<void>>();
    const startInOrder = (name: ServiceName): Promise<void> => {
      let promise = started.get(name);
      if (!promise) {
        const before = SERVICES[name].startsAfter.map(startInOrder);
        promise = Promise.all(before).then(() => start(name));
        started.set(name, promise);
      }
      return promise;
    };
    const results = await Promise.allSettled(SERVICE_NAMES.map(startInOrder));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (error) {
    for (const name of stopOrder()) {
      if (!alreadyRunning.has(name)) await stopService(ctx, name, { graceMs: 5000 });
    }
    throw error;
  }
  return endpointsOf(ctx.config);
}

export interface StopServicesOptions {
  keepData?: boolean;
}

export async function stopServices(ctx: Context, options: StopServicesOptions = {}): Promise<void> {
  const keepData = options.keepData ?? ctx.config.keepData;
  for (const name of stopOrder()) {
    const wasRunning = await stopService(ctx, name, { deleteData: !keepData });
    if (wasRunning) ctx.log(`stopped ${name}`);
  }
  if (!keepData) ctx.log(`deleted per-run data under ${ctx.config.runDir}/*/data`);
}

export interface ServiceStatus {
  name: ServiceName;
  /** Which process of the service (1-based); `label` names it (`kafka-2`). */
  instance: number;
  label: string;
  pid: number | undefined;
  alive: boolean;
  healthy: boolean;
  listens: string;
  logFile: string;
}

/** One row per process: every configured one, and any other still running (a cluster). */
export async function serviceStatus(ctx: Context): Promise<ServiceStatus[]> {
  const rows = SERVICE_NAMES.flatMap((name) =>
    instancesOnDisk(ctx, name)
      .filter((instance) => instance <= instanceCount(ctx, name) || runningPid(ctx, name, instance))
      .map((instance) => ({ name, instance })),
  );
  return Promise.all(
    rows.map(async ({ name, instance }) => {
      const service = SERVICES[name];
      const paths = runPaths(ctx, name, instance);
      const pid = readPid(paths.pidFile);
      const alive = pid !== undefined && isAlive(pid);
      return {
        name,
        instance,
        label: instanceLabel(name, instance),
        pid,
        alive,
        healthy: alive && (await service.healthy(ctx)),
        listens: service.listens(ctx, instance),
        logFile: paths.logFile,
      };
    }),
  );
}

export function describeServices(ctx: Context): string[] {
  return SERVICE_NAMES.flatMap((name) =>
    Array.from({ length: instanceCount(ctx, name) }, (_, index) => {
      const label = instanceLabel(name, index + 1);
      const paths = runPaths(ctx, name, index + 1);
      return `  ${label.padEnd(13)} ${SERVICES[name].listens(ctx, index + 1)}\n  ${''.padEnd(13)} log: ${paths.logFile}`;
    }),
  );
}

/**
 * Runs `work` with every backing service up, for commands that need the stack only while they
 * run (benchmarks): the services not yet running are started (installed first if needed) and
 * stopped again when `work` ends, throws, or the process gets SIGINT or SIGTERM or loses its
 * output pipe. Services that were already running are left as they were.
 */
export async function withServices<T>(ctx: Context, work: () => Promise<T>): Promise<T> {
  const before = await serviceStatus(ctx);
  const startedHere = !before.every((service) => service.healthy);
  let stopping: Promise<void> | undefined;
  const stopOnce = (): Promise<void> =>
    (stopping ??= startedHere ? stopServices(ctx) : Promise.resolve());
  const onSignal = (signal: string): void => {
    ctx.log(`${signal}: stopping the services this command started`);
    // The work goes on while the services stop, and fails as they go (connections refused):
    // those failures must not end the process before every service is stopped.
    const ignore = (error: unknown): void =>
      ctx.log(`ignored while stopping: ${error instanceof Error ? error.message : String(error)}`);
    process.on('unhandledRejection', ignore);
    process.on('uncaughtException', ignore);
    // The components first (they use the services), each awaited, then the services.
    void stopStartedComponents()
      .catch(ignore)
      .then(stopOnce)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  guardOutput(() => onSignal('SIGPIPE'));
  try {
    if (startedHere) await startServices(ctx);
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopOnce();
  }
}
