/**
 * What every fault row shares: steady traffic through the API and the Collector while a fault
 * happens, counting by distinct request ids in the log store, and the results file the README's
 * table is made from (bench/results/faults.json).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  countRecords,
  type Counts,
  sendTraffic,
  startApi,
  startConsumer,
  type RunningProcess,
  type TrackedProcesses,
  waitForRecords,
} from '../integration/pipeline-support.ts';
import { uniqueToken } from '../integration/support.ts';

const RESULTS = 'bench/results/faults.json';
export const RATE_PAUSE_MS = 40; // about 20 requests/s, one access record each

export interface FaultResult {
  fault: string;
  faultSeconds: number;
  requests: number;
  ratePerSecond: number;
  stored: number;
  lost: number;
  duplicated: number;
  recoverySeconds: number;
  note?: string;
}

/** Adds or replaces one row of bench/results/faults.json and prints it. */
export function record(result: FaultResult): void {
  let all: FaultResult[] = [];
  try {
    all = JSON.parse(readFileSync(RESULTS, 'utf8')) as FaultResult[];
  } catch {
    // first result of this run
  }
  all = all.filter((entry) => entry.fault !== result.fault);
  all.push(result);
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`      ${JSON.stringify(result)}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TrafficOptions {
  /** Milliseconds of traffic before the fault starts (default 2000). */
  leadMs?: number;
  /** Requests the fault itself sent under the same token, counted once it is over. */
  extraRequests?: () => number;
  /** Consumer instances started in the group before the traffic (default 1). */
  consumers?: number;
}

/**
 * Runs `requests` requests at the steady rate while `fault` happens (it starts `leadMs` into
 * the traffic and returns how many seconds the fault lasted), then waits up to 5 minutes for
 * every record and returns the counts; recovery is the time from the traffic's end until
 * every record was found.
 */
export async function runUnderTraffic(
  processes: TrackedProcesses,
  name: string,
  requests: number,
  fault: (api: RunningProcess, token: string) => Promise<number>,
  options: TrafficOptions = {},
): Promise<FaultResult> {
  const token = uniqueToken('fault');
  for (let instance = 0; instance < (options.consumers ?? 1); instance++) {
    await processes.track(startConsumer());
  }
  const api = await processes.track(startApi('collector'));
  const started = performance.now();
  const traffic = sendTraffic(api.url, token, requests, { pauseMs: RATE_PAUSE_MS });
  await sleep(options.leadMs ?? 2000);
  const faultSeconds = await fault(api, token);
  const steady = await traffic;
  // Requests the fault itself sent, with request ids under the same token.
  const result = { ...steady, requests: steady.requests + (options.extraRequests?.() ?? 0) };
  const trafficSeconds = (performance.now() - started) / 1000;
  const recoveryStarted = performance.now();
  let counts: Counts;
  try {
    counts = await waitForRecords('access', token, result.requests, 300_000);
  } catch {
    counts = await countRecords('access', token);
  }
  return {
    fault: name,
    faultSeconds,
    requests: result.requests,
    ratePerSecond: Math.round(result.requests / trafficSeconds),
    stored: counts.distinct,
    lost: result.requests - counts.distinct,
    duplicated: counts.total - counts.distinct,
    recoverySeconds: Math.round((performance.now() - recoveryStarted) / 100) / 10,
  };
}
