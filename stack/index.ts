// Programmatic API of the native services, for tests and scripts that should not shell out
// to `npm run services:*`. Every function takes an optional Context; by default the config
// comes from the environment (ports, cache dir) exactly as for the CLI.
import { ConfigError, endpointsOf, loadConfig } from './config.ts';
import type { Endpoints, ServicesConfig } from './config.ts';
import { installServices as install, missingComponents as missing } from './install.ts';
import type { InstallReport } from './install.ts';
import {
  describeServices,
  runningPid,
  runPaths,
  serviceStatus as status,
  startService as startOne,
  startServices as startAll,
  stopService as stopOne,
  stopServices as stopAll,
  withServices,
} from './lifecycle.ts';
import type {
  ServiceStatus,
  StartOptions,
  StopServiceOptions,
  StopServicesOptions,
} from './lifecycle.ts';
import { addScrapeTarget as addTarget, removeScrapeTarget as removeTarget } from './prometheus.ts';
import { defaultLogger } from './progress.ts';
import type { Logger } from './progress.ts';
import type { Context, ServiceName } from './types.ts';

export type {
  Context,
  Endpoints,
  InstallReport,
  Logger,
  ServiceName,
  ServiceStatus,
  ServicesConfig,
  StartOptions,
  StopServiceOptions,
  StopServicesOptions,
};
export {
  ConfigError,
  describeServices,
  endpointsOf,
  loadConfig,
  runningPid,
  runPaths,
  withServices,
};
export { SERVICE_NAMES, isServiceName } from './types.ts';
export { kafkaClient, ensureTopics } from './kafka.ts';
export { validateCollectorConfig } from './collector.ts';
export { poll, httpOk } from './http.ts';
export { ComponentGroup, startComponent } from './components.ts';
export { guardOutput } from './progress.ts';
export type {
  ComponentEnv,
  ComponentName,
  ComponentOptions,
  ComponentProcess,
} from './components.ts';
export { scrapeMetric, scrapeText, sumOfSeries } from './scrape.ts';
export { installPythonTools, pythonToolPath, pythonToolsInstalled } from './python-tools.ts';
export type { PythonTool } from './python-tools.ts';
export { quietKafkajsTimerWarning } from '../src/shared/kafkajs-warnings.ts';

export function createContext(log: Logger = defaultLogger, env = process.env): Context {
  return { config: loadConfig(env), log };
}

/** Resolved addresses of every service for the current environment. */
export function endpoints(ctx: Context = createContext()): Endpoints {
  return endpointsOf(ctx.config);
}

export function missingComponents(ctx: Context = createContext()): string[] {
  return missing(ctx);
}

export function installServices(ctx: Context = createContext()): Promise<InstallReport> {
  return install(ctx);
}

export function startServices(
  ctx: Context = createContext(),
  options?: StartOptions,
): Promise<Endpoints> {
  return startAll(ctx, options);
}

export function stopServices(
  ctx: Context = createContext(),
  options?: StopServicesOptions,
): Promise<void> {
  return stopAll(ctx, options);
}

export function startService(name: ServiceName, ctx: Context = createContext()): Promise<void> {
  return startOne(ctx, name);
}

/** Stops one service, keeping its data so `startService` resumes it (e.g. after SIGKILL). */
export function stopService(
  name: ServiceName,
  options: StopServiceOptions = {},
  ctx: Context = createContext(),
): Promise<boolean> {
  return stopOne(ctx, name, options);
}

export function serviceStatus(ctx: Context = createContext()): Promise<ServiceStatus[]> {
  return status(ctx);
}

/** Makes Prometheus scrape `target` (host:port) under job `dynamic` until removed. */
export function addScrapeTarget(
  id: string,
  target: string,
  labels: Record<string, string> = {},
  ctx: Context = createContext(),
): string {
  return addTarget(ctx.config, id, target, labels);
}

export function removeScrapeTarget(id: string, ctx: Context = createContext()): void {
  removeTarget(ctx.config, id);
}
