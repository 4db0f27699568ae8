/**
 * Runs pipeline variants one after the other on the native stack, under the same load, and
 * measures each: requests answered at a fixed offered rate and at saturation, records landed
 * and lost (distinct request ids found in the store), emit-to-queryable latency, CPU seconds
 * per 1 000 records and peak RSS of every process, and optionally loss and recovery under one
 * fault. `experiments/run.ts` is its command line; the integration test calls it directly.
 *
 * Everything is checked before anything starts (every variant file, every Collector overlay
 * with the Collector's own `validate`). When the services were not running, each variant gets a
 * fresh stack (started, measured, stopped with its data deleted); when they were, they are
 * reused, only the Collector is restarted with each variant's configuration, and the default
 * Collector is restored at the end.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ComponentGroup,
  createContext,
  endpoints as endpointsOf,
  installServices,
  missingComponents,
  poll,
  runningPid,
  serviceStatus,
  startService,
  startServices,
  stopService,
  stopServices,
  validateCollectorConfig,
} from '../stack/index.ts';
import type { Context, Endpoints, Logger, ServiceName } from '../stack/index.ts';
import { distinctRequestIds, driveTaggedLoad, landedOf } from '../stack/request-ids.ts';
import { ProcessMeter, type ProcessUsage } from './process-stats.ts';
import { loadVariant, resolveEnv, VariantError, type Variant } from './variants.ts';

export const FAULTS = ['collector-restart', 'store-down', 'broker-restart'] as const;
export type FaultName = (typeof FAULTS)[number];

/** The processes measured for every variant, in table order. */
export const ROLES = ['api', 'collector', 'kafka', 'consumer', 'store'] as const;
export type Role = (typeof ROLES)[number];

export interface ExperimentOptions {
  variants: string[];
  /** Offered load of the fixed-rate phase, requests per second. */
  rate: number;
  /** Length of the fixed-rate phase, seconds. */
  seconds: number;
  /** Length of the unthrottled phase that finds the answered rate at saturation; 0 skips it. */
  saturationSeconds: number;
  /** How long to wait for records to become queryable after a phase, seconds. */
  drainSeconds: number;
  fault?: FaultName;
  log: Logger;
  /** Environment the stack's addresses and cache come from (ports, SERVICES_*). */
  env?: NodeJS.ProcessEnv;
  /** Where the variant folders are (default: experiments/). */
  variantsDir?: string;
}

export interface FaultResult {
  fault: FaultName;
  /** False when the variant has no such component (no Collector, no Kafka). */
  applied: boolean;
  /** Seconds from the start of the load to the start of the fault, and its length. */
  startedAtSeconds: number;
  durationSeconds: number;
  /** Probes sent while the fault lasted, and how many of them never became queryable. */
  probesDuringFault: number;
  probesLostDuringFault: number;
  /**
   * Seconds from the end of the fault until the last probe sent during it was queryable:
   * how long the pipeline took to catch up. Null when none was sent or none landed.
   */
  recoverySeconds: number | null;
}

export interface VariantResult {
  variant: string;
  description: string;
  /** Offered rate and length of the fixed-rate phase. */
  rate: number;
  seconds: number;
  /** Requests answered with 2xx in the fixed-rate phase, and per second. */
  answered: number;
  answeredPerSecond: number;
  /** Failed or non-2xx requests (their records are not expected). */
  errors: number;
  /** Distinct request ids of answered requests found in the store after the drain. */
  landed: number;
  lost: number;
  drainSeconds: number;
  /** Emit-to-queryable latency of the probes (one a second), milliseconds; null if none. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  probes: number;
  probesLost: number;
  /** Requests answered per second with no rate limit; null when that phase was skipped. */
  saturationPerSecond: number | null;
  saturationAnswered: number | null;
  saturationLost: number | null;
  /** Per process over the fixed-rate phase and its drain; undefined when it did not run. */
  processes: Partial<Record<Role, ProcessUsage>>;
  /** CPU seconds of every measured process per 1 000 records landed, and their sum. */
  cpuSecondsPer1000: Partial<Record<Role, number>> & { total: number };
  fault?: FaultResult;
  /** True when every answered request's record landed and latency was measured. */
  complete: boolean;
}

export interface ExperimentReport {
  date: string;
  options: Omit<ExperimentOptions, 'log' | 'env' | 'variantsDir'>;
  machine: { cores: number; loadAverage: number[]; node: string };
  results: VariantResult[];
}

const percentile = (values: number[], p: number): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
};

/**
 * Loads every named variant and validates its Collector configuration with the Collector
 * binary (installing the stack's programs first when missing). Throws before anything starts.
 */
export async function prepareVariants(
  names: string[],
  ctx: Context,
  env: NodeJS.ProcessEnv = process.env,
  variantsDir?: string,
): Promise<Variant[]> {
  if (names.length === 0) throw new VariantError('no variants given (--variants a,b,...)');
  const variants = names.map((name) => loadVariant(name, variantsDir));
  if (missingComponents(ctx).length > 0) await installServices(ctx);
  for (const variant of variants) {
    try {
      validateCollectorConfig(variantContext(variant, ctx.log, env).config);
    } catch (error) {
      throw new VariantError(`${variant.file}: collector.overlays: ${(error as Error).message}`);
    }
  }
  return variants;
}

function variantContext(variant: Variant, log: Logger, env: NodeJS.ProcessEnv): Context {
  return createContext(log, {
    ...env,
    OTELCOL_EXTRA_CONFIGS: variant.collectorOverlays.join(path.delimiter),
  });
}

interface Probe {
  sentAt: number;
  landedAt?: number;
}

/** One probe request a second, each polled for in the store until it is queryable. */
class Prober {
  readonly probes: Probe[] = [];
  #running = true;
  /** Set once the variant is over: probes still not found stop polling (they count as lost). */
  #closed = false;
  #loop: Promise<void> | undefined;

  start(apiUrl: string, endpoint: Endpoints, prefix: string, drainMs: number): void {
    this.#loop = (async () => {
      for (let index = 0; this.#running; index += 1) {
        const id = `${prefix}${index}`;
        const probe: Probe = { sentAt: performance.now() };
        const answered = await fetch(`${apiUrl}/health`, { headers: { 'x-request-id': id } })
          .then(async (response) => {
            await response.body?.cancel();
            return response.ok;
          })
          .catch(() => false);
        if (answered) {
          this.probes.push(probe);
          void poll(async () => ((await distinctRequestIds(endpoint, id)) > 0 ? true : undefined), {
            timeoutMs: drainMs,
            intervalMs: 50,
            abort: () => (this.#closed ? 'variant over' : undefined),
          }).then(
            () => (probe.landedAt = performance.now()),
            () => undefined,
          );
        }
        await sleep(1000);
      }
    })();
  }

  /** Stops sending probes; those sent keep being polled for until `close()`. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  close(): void {
    this.#running = false;
    this.#closed = true;
  }

  latencies(): number[] {
    return this.probes.flatMap((probe) =>
      probe.landedAt === undefined ? [] : [probe.landedAt - probe.sentAt],
    );
  }
}

/** Applies one fault to the running stack; resolves with its start and end (performance.now). */
async function applyFault(
  fault: FaultName,
  ctx: Context,
  log: Logger,
): Promise<{ start: number; end: number }> {
  const start = performance.now();
  const restart = async (name: ServiceName, downMs: number): Promise<void> => {
    log(`    fault: stopping ${name}`);
    await stopService(name, {}, ctx);
    if (downMs > 0) await sleep(downMs);
    log(`    fault: starting ${name} again`);
    await startService(name, ctx);
  };
  switch (fault) {
    case 'collector-restart':
      await restart('collector', 0);
      break;
    case 'store-down':
      await restart('victorialogs', 30_000);
      break;
    case 'broker-restart':
      await restart('kafka', 0);
      break;
  }
  return { start, end: performance.now() };
}

function faultApplies(fault: FaultName, variant: Variant): boolean {
  switch (fault) {
    case 'collector-restart':
      return variant.collector.run;
    case 'store-down':
      return true;
    case 'broker-restart':
      return variant.kafka;
  }
}

/** Prints a progress line every few seconds while `phase` runs. */
async function withProgress<T>(
  log: Logger,
  label: () => string,
  work: Promise<T>,
  everyMs = 5000,
): Promise<T> {
  const timer = setInterval(() => log(label()), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Runs one variant on a stack that is already up; the caller owns starting and stopping. */
async function measureVariant(
  variant: Variant,
  ctx: Context,
  options: ExperimentOptions,
  progress: (phase: string) => string,
): Promise<VariantResult> {
  const { log } = options;
  const endpoint = endpointsOf(ctx);
  const group = new ComponentGroup();
  const servicePid = (name: ServiceName) => () => runningPid(ctx, name);
  const meters: Partial<Record<Role, ProcessMeter>> = {};
  const token = `x${Date.now().toString(36)}${variant.name.replace(/\W/g, '')}`;
  let sampler: NodeJS.Timeout | undefined;
  let probing: Prober | undefined;
  try {
    if (variant.shipper.kind === 'consumer') {
      const consumer = await group.start('consumer', endpoint, {
        env: {
          CONSUMER_GROUP: `experiment-${token}`,
          ...resolveEnv(variant.shipper.env, endpoint),
        },
      });
      meters.consumer = new ProcessMeter(() => consumer.child.pid);
    }
    const api = await group.start('api', endpoint, {
      env: {
        OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=experiment`,
        ...resolveEnv(variant.api.env, endpoint),
      },
    });
    meters.api = new ProcessMeter(() => api.child.pid);
    if (variant.collector.run) meters.collector = new ProcessMeter(servicePid('collector'));
    if (variant.kafka) meters.kafka = new ProcessMeter(servicePid('kafka'));
    meters.store = new ProcessMeter(servicePid('victorialogs'));
    const sampleAll = () => {
      for (const meter of Object.values(meters)) meter.sample();
    };
    sampleAll();
    sampler = setInterval(sampleAll, 1000);

    // Fixed rate, with probes for latency and, a quarter into the phase, the fault.
    const prober = new Prober();
    probing = prober;
    const drainMs = options.drainSeconds * 1000;
    prober.start(api.url, endpoint, `${token}p`, drainMs);
    const loadStarted = performance.now();
    const faultName = options.fault;
    const faultApplied = faultName !== undefined && faultApplies(faultName, variant);
    const fault =
      faultName && faultApplied
        ? sleep((options.seconds * 1000) / 4).then(() => applyFault(faultName, ctx, log))
        : undefined;
    // Awaited after the load; a failure before then must not count as unhandled.
    fault?.catch(() => undefined);
    const elapsed = () => ((performance.now() - loadStarted) / 1000).toFixed(0);
    const load = await withProgress(
      log,
      () => progress(`load ${elapsed()}/${options.seconds} s at ${options.rate}/s`),
      driveTaggedLoad(api.url, `${token}-`, options.seconds, options.rate),
    );
    await prober.stop();
    const faultWindow = fault ? await fault : undefined;

    const drainStarted = performance.now();
    let found = 0;
    await withProgress(
      log,
      () => progress(`drain: ${found} of ${load.answered.size} records queryable`),
      poll(
        async () => {
          found = await distinctRequestIds(endpoint, `${token}-`);
          const probesDone = prober.probes.every((probe) => probe.landedAt !== undefined);
          return found >= load.answered.size && probesDone ? true : undefined;
        },
        { timeoutMs: drainMs, intervalMs: 1000 },
      ).catch(() => undefined),
    );
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const { landed, lost } = await landedOf(endpoint, `${token}-`, load.answered);
    sampleAll();
    const processes: Partial<Record<Role, ProcessUsage>> = {};
    for (const role of ROLES) {
      const meter = meters[role];
      if (meter) processes[role] = meter.usage();
    }

    let saturation: { perSecond: number; answered: number; lost: number } | undefined;
    if (options.saturationSeconds > 0) {
      const started = performance.now();
      const phase = await withProgress(
        log,
        () =>
          progress(
            `saturation ${((performance.now() - started) / 1000).toFixed(0)}/${options.saturationSeconds} s`,
          ),
        driveTaggedLoad(api.url, `${token}s-`, options.saturationSeconds, undefined),
      );
      let queryable = 0;
      await withProgress(
        log,
        () =>
          progress(`saturation drain: ${queryable} of ${phase.answered.size} records queryable`),
        poll(
          async () => {
            queryable = await distinctRequestIds(endpoint, `${token}s-`);
            return queryable >= phase.answered.size ? true : undefined;
          },
          { timeoutMs: drainMs, intervalMs: 1000 },
        ).catch(() => undefined),
      );
      saturation = {
        perSecond: phase.answered.size / options.saturationSeconds,
        answered: phase.answered.size,
        lost: (await landedOf(endpoint, `${token}s-`, phase.answered)).lost,
      };
    }

    const latencies = prober.latencies();
    const probesLanded = latencies.length;
    const recordsLanded = landed + probesLanded;
    const cpuSecondsPer1000: VariantResult['cpuSecondsPer1000'] = { total: 0 };
    for (const [role, usage] of Object.entries(processes) as [Role, ProcessUsage][]) {
      const per1000 = recordsLanded > 0 ? (usage.cpuSeconds / recordsLanded) * 1000 : NaN;
      cpuSecondsPer1000[role] = per1000;
      cpuSecondsPer1000.total += per1000;
    }
    let faultResult: FaultResult | undefined;
    if (options.fault) {
      const during = faultWindow
        ? prober.probes.filter(
            (probe) => probe.sentAt >= faultWindow.start && probe.sentAt <= faultWindow.end,
          )
        : [];
      const landedAt = during.flatMap((probe) => (probe.landedAt ? [probe.landedAt] : []));
      faultResult = {
        fault: options.fault,
        applied: faultApplied,
        startedAtSeconds: faultWindow ? (faultWindow.start - loadStarted) / 1000 : 0,
        durationSeconds: faultWindow ? (faultWindow.end - faultWindow.start) / 1000 : 0,
        probesDuringFault: during.length,
        probesLostDuringFault: during.length - landedAt.length,
        recoverySeconds:
          faultWindow && landedAt.length > 0
            ? Math.max(0, (Math.max(...landedAt) - faultWindow.end) / 1000)
            : null,
      };
    }
    return {
      variant: variant.name,
      description: variant.description,
      rate: options.rate,
      seconds: options.seconds,
      answered: load.answered.size,
      answeredPerSecond: load.answered.size / options.seconds,
      errors: load.errors,
      landed,
      lost,
      drainSeconds,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      probes: prober.probes.length,
      probesLost: prober.probes.length - probesLanded,
      saturationPerSecond: saturation?.perSecond ?? null,
      saturationAnswered: saturation?.answered ?? null,
      saturationLost: saturation?.lost ?? null,
      processes,
      cpuSecondsPer1000,
      ...(faultResult ? { fault: faultResult } : {}),
      // Zero samples is a failed measurement, never a clean row.
      complete: load.answered.size > 0 && lost === 0 && probesLanded > 0,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    probing?.close();
    await group.stopAll();
  }
}

/**
 * Runs every variant and returns their results; `onResult` sees each as soon as it is
 * measured. `signal` aborting (Ctrl-C) stops the run between steps; whatever was started is
 * stopped in every case.
 */
export async function runExperiments(
  options: ExperimentOptions,
  onResult: (result: VariantResult) => void = () => undefined,
): Promise<ExperimentReport> {
  const env = options.env ?? process.env;
  const { log } = options;
  const baseCtx = createContext(log, env);
  const variants = await prepareVariants(options.variants, baseCtx, env, options.variantsDir);
  const reuse = (await serviceStatus(baseCtx)).every((service) => service.healthy);
  log(
    reuse
      ? 'services already running: reusing them, restarting only the Collector per variant'
      : 'each variant gets a fresh stack (started, measured, stopped)',
  );
  const report: ExperimentReport = {
    date: new Date().toISOString(),
    options: {
      variants: options.variants,
      rate: options.rate,
      seconds: options.seconds,
      saturationSeconds: options.saturationSeconds,
      drainSeconds: options.drainSeconds,
      ...(options.fault ? { fault: options.fault } : {}),
    },
    machine: {
      cores: (await import('node:os')).availableParallelism(),
      loadAverage: (await import('node:os')).loadavg(),
      node: process.version,
    },
    results: [],
  };
  const runStarted = performance.now();
  const durations: number[] = [];
  // Before the first variant has run: its load phases plus a typical start and drain.
  const guess =
    options.seconds + options.saturationSeconds + 60 + (options.fault === 'store-down' ? 30 : 0);
  let current: Context | undefined;
  try {
    for (const [index, variant] of variants.entries()) {
      const variantStarted = performance.now();
      const perVariant =
        durations.length > 0 ? durations.reduce((a, b) => a + b) / durations.length : guess;
      const remaining = Math.round((perVariant * (variants.length - index)) / 60);
      const progress = (phase: string) =>
        `[${index + 1}/${variants.length} ${variant.name}] ${phase} ` +
        `(${((performance.now() - runStarted) / 60_000).toFixed(1)} min in; ` +
        `this and the remaining variants: about ${Math.max(1, remaining)} min)`;
      log(progress('starting'));
      const ctx = variantContext(variant, log, env);
      current = ctx;
      if (reuse) {
        await stopService('collector', {}, ctx);
        if (variant.collector.run) await startService('collector', ctx);
      } else {
        await startServices(ctx, { install: false });
        // What the variant leaves out does not run, so it costs nothing in the table.
        if (!variant.collector.run) await stopService('collector', {}, ctx);
        if (!variant.kafka) await stopService('kafka', {}, ctx);
      }
      try {
        const result = await measureVariant(variant, ctx, options, progress);
        report.results.push(result);
        onResult(result);
      } finally {
        if (!reuse) {
          await stopServices(ctx, { keepData: false });
          current = undefined;
        }
      }
      durations.push((performance.now() - variantStarted) / 1000);
    }
  } finally {
    if (reuse) {
      // Leave the Collector as it was found: the project's configuration only.
      await stopService('collector', {}, current ?? baseCtx);
      await startService('collector', baseCtx);
    } else if (current) {
      await stopServices(current, { keepData: false });
    }
  }
  return report;
}
