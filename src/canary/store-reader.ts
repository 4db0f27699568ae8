/**
 * Reads the canary's records back from the log store, either Loki (LogQL over its HTTP API) or
 * VictoriaLogs (LogsQL). Both return the line the consumer wrote, whose JSON carries the
 * `request_id` `canary-<run>-<seq>`.
 */

export interface StoreReader {
  /** Every canary sequence number of `run` stored since `sinceMs`, repeated as often as stored. */
  sequenceNumbers(run: string, sinceMs: number): Promise<number[]>;
}

export const canaryRequestId = (run: string, seq: number) => `canary-${run}-${seq}`;

function sequenceOf(line: string, run: string): number | undefined {
  try {
    const requestId = (JSON.parse(line) as { request_id?: unknown }).request_id;
    const prefix = `canary-${run}-`;
    if (typeof requestId !== 'string' || !requestId.startsWith(prefix)) return undefined;
    const seq = Number(requestId.slice(prefix.length));
    return Number.isInteger(seq) ? seq : undefined;
  } catch {
    return undefined;
  }
}

const LIMIT = 5000;

export class LokiReader implements StoreReader {
  readonly #baseUrl: string;
  readonly #tenant: string | undefined;

  constructor(baseUrl: string, tenant?: string) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#tenant = tenant;
  }

  async sequenceNumbers(run: string, sinceMs: number): Promise<number[]> {
    const params = new URLSearchParams({
      query: `{log_type="canary"} |= "canary-${run}-"`,
      start: `${BigInt(Math.floor(sinceMs)) * 1_000_000n}`,
      end: `${BigInt(Date.now() + 60_000) * 1_000_000n}`,
      limit: String(LIMIT),
      direction: 'forward',
    });
    const response = await fetch(`${this.#baseUrl}/loki/api/v1/query_range?${params}`, {
      headers: this.#tenant ? { 'x-scope-orgid': this.#tenant } : {},
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new Error(`Loki query: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as {
      data?: { result?: { values?: [string, string][] }[] };
    };
    const found: number[] = [];
    for (const stream of body.data?.result ?? []) {
      for (const [, line] of stream.values ?? []) {
        const seq = sequenceOf(line, run);
        if (seq !== undefined) found.push(seq);
      }
    }
    return found;
  }
}

export class VictoriaLogsReader implements StoreReader {
  readonly #baseUrl: string;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async sequenceNumbers(run: string, sinceMs: number): Promise<number[]> {
    const response = await fetch(`${this.#baseUrl}/select/logsql/query`, {
      method: 'POST',
      body: new URLSearchParams({
        query: `{log_type="canary"} request_id:~"^canary-${run}-"`,
        start: new Date(sinceMs).toISOString(),
        limit: String(LIMIT),
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new Error(`LogsQL query: HTTP ${response.status} ${await response.text()}`);
    const found: number[] = [];
    for (const text of (await response.text()).split('\n')) {
      if (!text.trim()) continue;
      const seq = sequenceOf((JSON.parse(text) as { _msg?: string })._msg ?? '', run);
      if (seq !== undefined) found.push(seq);
    }
    return found;
  }
}
