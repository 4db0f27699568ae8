import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HOST, endpointsOf } from './config.ts';
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

export function runPaths(ctx: Context, name: ServiceName): RunPaths {
  const dir = path.join(ctx.config.runDir, name);
  return {
    dir,
    pidFile: path.join(dir, `${name}.pid`),
    logFile: path.join(dir, `${name}.log`),
    dataDir: path.join(dir, 'data'),
  };
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

function runningPid(ctx: Context, name: ServiceName): number | undefined {
  const pid = readPid(runPaths(ctx, name).pidFile);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * Starts one service (idempotent: a running one is only health-checked) and waits until it is
 * healthy. On failure the process is stopped and the error carries the tail of its own log.
 */
export async function startService(ctx: Context, name: ServiceName): Promise<void> {
  const service = SERVICES[name];
  const paths = runPaths(ctx, name);
  let pid = runningPid(ctx, name);
  if (pid === undefined) {
    if (!service.installed(ctx)) {
      throw new Error(`${name} is not installed; run: npm run services:install`);
    }
    for (const { port, env } of service.ports(ctx)) {
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
    pid = startDetached({ ...spec, logFile: paths.logFile, pidFile: paths.pidFile });
  }
  const startedPid = pid;
  try {
    await poll(async () => ((await service.healthy(ctx)) ? true : undefined), {
      timeoutMs: service.startTimeoutMs,
      intervalMs: 500,
      abort: () => (isAlive(startedPid) ? undefined : `process ${startedPid} exited`),
    });
  } catch (error) {
    const failure = new ServiceStartError(name, (error as Error).message, paths.logFile);
    await stopByPidFile(paths.pidFile, { graceMs: 5000 });
    throw failure;
  }
  if (name === 'kafka') {
    const created = await ensureTopics(ctx.config);
    if (created.length > 0) ctx.log(`    kafka: created topics ${created.join(', ')}`);
  }
}

export interface StopServiceOptions extends StopOptions {
  /** Remove the service's data dir after stopping (default false: a restart keeps data). */
  deleteData?: boolean;
}

/** Stops one service by its pid file, e.g. `{ signal: 'SIGKILL' }` to simulate a crash. */
export async function stopService(
  ctx: Context,
  name: ServiceName,
  options: StopServiceOptions = {},
): Promise<boolean> {
  const paths = runPaths(ctx, name);
  // Kafka's controlled shutdown and the Collector's queue flush need a few seconds.
  const wasRunning = await stopByPidFile(paths.pidFile, { graceMs: 20_000, ...options });
  if (options.deleteData) rmSync(paths.dataDir, { recursive: true, force: true });
  return wasRunning;
}

export interface StartOptions {
  /** Install missing components first (default true). */
  install?: boolean;
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
  const alreadyRunning = new Set(SERVICE_NAMES.filter((name) => runningPid(ctx, name)));
  const start = (name: ServiceName): Promise<void> =>
    step(ctx.log, `start ${name}`, () => startService(ctx, name));
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
  pid: number | undefined;
  alive: boolean;
  healthy: boolean;
  listens: string;
  logFile: string;
}

export async function serviceStatus(ctx: Context): Promise<ServiceStatus[]> {
  return Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const service = SERVICES[name];
      const paths = runPaths(ctx, name);
      const pid = readPid(paths.pidFile);
      const alive = pid !== undefined && isAlive(pid);
      return {
        name,
        pid,
        alive,
        healthy: alive && (await service.healthy(ctx)),
        listens: service.listens(ctx),
        logFile: paths.logFile,
      };
    }),
  );
}

export function describeServices(ctx: Context): string[] {
  return SERVICE_NAMES.map((name) => {
    const paths = runPaths(ctx, name);
    return `  ${name.padEnd(13)} ${SERVICES[name].listens(ctx)}\n  ${''.padEnd(13)} log: ${paths.logFile}`;
  });
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
    void stopOnce().finally(() => process.exit(130));
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
