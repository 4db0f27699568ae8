/**
 * Load tagged with request ids, and those ids looked up in the log store: how the experiments
 * and the benchmarks count what landed and what was lost, by id rather than by record count (so
 * that records of requests still in flight, or duplicates, cannot hide a loss).
 *
 * The API echoes the `X-Request-Id` it was given; its access record carries it as `request.id`,
 * which reaches the store as the structured metadata `request_id` through the consumer, or under
 * its own name through the store's OTLP endpoint. Queries use VictoriaLogs' LogsQL
 * (`/select/logsql/query`, one JSON object per line).
 */
import autocannon from 'autocannon';
import type { Endpoints } from './config.ts';

/** One row of a LogsQL answer: a log's fields, or a stats row. */
export type LogRow = Record<string, string | undefined>;

/**
 * Runs one LogsQL query.
 *
 * @param limit rows at most (the store's default is all of them)
 * @throws Error naming the status and the store's answer when it is not 2xx, or on timeout
 */
export async function queryLogs(
  endpoints: Pick<Endpoints, 'logsQuery'>,
  query: string,
  { limit, timeoutMs = 30_000 }: { limit?: number; timeoutMs?: number } = {},
): Promise<LogRow[]> {
  const response = await fetch(endpoints.logsQuery, {
    method: 'POST',
    body: new URLSearchParams({ query, ...(limit !== undefined && { limit: String(limit) }) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`LogsQL ${response.status}: ${text.slice(0, 500)}`);
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as LogRow);
}

/** LogsQL selecting the logs whose request id starts with `prefix`, under either name. */
export const requestIdPrefix = (prefix: string): string =>
  `(request_id:~"^${prefix}" OR "request.id":~"^${prefix}")`;

/** How many distinct request ids starting with `prefix` the store holds (cheap, for polling). */
export async function distinctRequestIds(endpoints: Endpoints, prefix: string): Promise<number> {
  const [row] = await queryLogs(
    endpoints,
    `${requestIdPrefix(prefix)} | stats count_uniq(request_id, "request.id") n`,
  );
  return Number(row?.['n'] ?? 0);
}

/** The request ids starting with `prefix` in the store, and how many logs carry them. */
export async function requestIdsInStore(
  endpoints: Endpoints,
  prefix: string,
): Promise<{ ids: Set<string>; logs: number }> {
  const rows = await queryLogs(
    endpoints,
    `${requestIdPrefix(prefix)} | fields request_id, "request.id"`,
  );
  const ids = new Set<string>();
  for (const row of rows) {
    const id = row['request_id'] || row['request.id'];
    if (id) ids.add(id);
  }
  return { ids, logs: rows.length };
}

/**
 * Of the answered ids: how many are in the store and how many are not; with the distinct ids
 * under `prefix` found (answered or not: a request in flight when the load stopped may land
 * too) and the logs beyond one per id.
 */
export async function landedOf(
  endpoints: Endpoints,
  prefix: string,
  answered: Set<string>,
): Promise<{ landed: number; lost: number; found: number; duplicates: number }> {
  const stored = await requestIdsInStore(endpoints, prefix);
  let landed = 0;
  for (const id of answered) if (stored.ids.has(id)) landed += 1;
  return {
    landed,
    lost: answered.size - landed,
    found: stored.ids.size,
    duplicates: stored.logs - stored.ids.size,
  };
}

export interface TaggedLoad {
  /** Request ids the API answered with 2xx (read from its X-Request-Id response header). */
  answered: Set<string>;
  errors: number;
}

/**
 * Sends `GET /health` to the API at `url` for `seconds`, at `rate` requests/s (unthrottled when
 * undefined), with the request id `${prefix}${n}` on the n-th request.
 */
export async function driveTaggedLoad(
  url: string,
  prefix: string,
  seconds: number,
  rate: number | undefined,
): Promise<TaggedLoad> {
  let sequence = 0;
  const answered = new Set<string>();
  const result = await autocannon({
    url,
    // Enough connections that a slow answer does not hold the offered rate back.
    connections: rate === undefined ? 32 : Math.min(100, Math.max(10, Math.ceil(rate / 20))),
    ...(rate === undefined ? {} : { overallRate: rate }),
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: '/health',
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'x-request-id': `${prefix}${sequence++}` },
        }),
        onResponse: (status, _body, _context, headers) => {
          // Raw header names, as the API wrote them.
          const name = Object.keys(headers ?? {}).find(
            (key) => key.toLowerCase() === 'x-request-id',
          );
          const id = name === undefined ? undefined : headers?.[name];
          if (status >= 200 && status < 300 && typeof id === 'string') answered.add(id);
        },
      },
    ],
  });
  return { answered, errors: result.errors + result.non2xx + result.timeouts };
}
