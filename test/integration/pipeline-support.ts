/**
 * Runs the project's own processes (API, log consumer) against the native services, and reads
 * back what reached the log store. Used by the end-to-end pipeline tests.
 */
import { ComponentGroup, scrapeMetric, startComponent } from '../../stack/index.ts';
import type { ComponentEnv, ComponentProcess } from '../../stack/index.ts';
import { endpoint, poll } from './support.ts';
import { queryLogs } from '../../stack/request-ids.ts';

export type RunningProcess = ComponentProcess;

/** The API, exporting its logs over OTLP to the Collector, or straight to Kafka. */
export function startApi(path: 'collector' | 'kafka', env: ComponentEnv<'api'> = {}) {
  return startComponent('api', endpoint, {
    env: {
      FAULT_ROUTES: 'true',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      OTEL_LOGS_EXPORTER: path === 'collector' ? 'otlp' : 'kafka',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
      ...env,
    },
  });
}

/**
 * The processes a test started, stopped gracefully after it: a graceful stop leaves the consumer
 * group at once, whereas a killed member holds its partitions until its session times out and
 * stalls the next test's consumer.
 */
export { ComponentGroup as TrackedProcesses };

export const CONSUMER_BATCH_MAX_ENTRIES = 100;

/**
 * The log consumer; resolves once it has joined the consumer group and the store answers (its
 * /health is 200), or, with `waitForHealth: false`, once it serves /metrics (for a store that is
 * down or misconfigured on purpose).
 */
export async function startConsumer(
  env: ComponentEnv<'consumer'> = {},
  { waitForHealth = true } = {},
): Promise<RunningProcess> {
  const consumer = await startComponent('consumer', endpoint, {
    env: {
      TOPIC_REFRESH_MS: '1000',
      BATCH_MAX_WAIT_MS: '200',
      BATCH_MAX_ENTRIES: String(CONSUMER_BATCH_MAX_ENTRIES),
      RETRY_INITIAL_DELAY_MS: '100',
      RETRY_MAX_DELAY_MS: '1000',
      ...env,
    },
  });
  const path = waitForHealth ? '/health' : '/metrics';
  await poll(async () => ((await fetch(`${consumer.url}${path}`)).ok ? true : undefined), {
    timeoutMs: 90_000,
  });
  return consumer;
}

export type Row = Record<string, string>;

export async function logsql(query: string, limit = 10_000): Promise<Row[]> {
  return (await queryLogs(endpoint, query, { limit })) as Row[];
}

export interface Counts {
  total: number;
  distinct: number;
}

/** How many records of a log type carry a request id starting with `token`. */
export async function countRecords(logType: string, token: string): Promise<Counts> {
  const [row] = await logsql(
    `{log_type="${logType}"} request_id:~"^${token}-" | stats count() total, count_uniq(request_id) distinct`,
  );
  return { total: Number(row?.['total'] ?? 0), distinct: Number(row?.['distinct'] ?? 0) };
}

/** Polls until `distinct` records of the type arrived; returns the final counts. */
export async function waitForRecords(
  logType: string,
  token: string,
  expected: number,
  timeoutMs = 90_000,
): Promise<Counts> {
  let last: Counts = { total: 0, distinct: 0 };
  try {
    return await poll(
      async () => {
        last = await countRecords(logType, token);
        return last.distinct >= expected ? last : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  } catch {
    throw new Error(
      `only ${last.distinct} of ${expected} ${logType} records arrived (${last.total} rows)`,
    );
  }
}

export interface TrafficResult {
  requests: number;
  byStatus: Map<number, number>;
}

/**
 * Sends `count` requests across every endpoint, each tagged with X-Request-Id `<token>-<n>`.
 * Roughly one in ten is a 4xx and one in twenty a 5xx.
 */
export async function sendTraffic(
  apiUrl: string,
  token: string,
  count: number,
  { start = 0, pauseMs = 0 } = {},
): Promise<TrafficResult> {
  const byStatus = new Map<number, number>();
  const json = { 'content-type': 'application/json' };
  for (let index = start; index < start + count; index += 1) {
    const headers = { 'x-request-id': `${token}-${index}` };
    const unique = `${token}_${index}`
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(-32);
    const plans: [string, RequestInit][] = [
      [
        '/users',
        {
          method: 'POST',
          headers: { ...headers, ...json },
          body: JSON.stringify({ username: unique, email: 'e2e@example.com' }),
        },
      ],
      [
        '/products',
        {
          method: 'POST',
          headers: { ...headers, ...json },
          body: JSON.stringify({ name: 'E2E', price: 3.5, stock: 100000 }),
        },
      ],
      [
        '/orders',
        {
          method: 'POST',
          headers: { ...headers, ...json },
          body: JSON.stringify({ userId: 1, items: [{ productId: 1, quantity: 1 }] }),
        },
      ],
      ['/users?limit=5', { headers }],
      ['/products/1', { headers }],
      ['/orders?limit=5', { headers }],
      ['/health', { headers }],
      ['/analytics', { headers }],
      ['/users/999999', { headers }],
      ['/users', { method: 'POST', headers: { ...headers, ...json }, body: '{"username": "x"' }],
      ['/faults/error', { headers }],
      ['/no/such/route', { headers }],
    ];
    const [path, init] = plans[index % plans.length] ?? ['/health', { headers }];
    const response = await fetch(`${apiUrl}${path}`, init);
    await response.body?.cancel();
    byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return { requests: count, byStatus };
}

export function countServerErrors(result: TrafficResult): number {
  let errors = 0;
  for (const [status, count] of result.byStatus) if (status >= 500) errors += count;
  return errors;
}

/** Reads one metric's summed value from a Prometheus text exposition. */
export const metricValue = scrapeMetric;
