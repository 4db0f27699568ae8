/**
 * One push attempt to Loki's push API (`POST /loki/api/v1/push`, or anything speaking it, e.g.
 * VictoriaLogs' `/insert/loki/api/v1/push`), classified for the delivery engine: acknowledged,
 * rejected for a record's content (a documented Loki kind, see rejections.ts), or an outage.
 * Retrying, backoff and heartbeats belong to the engine (delivery.ts), not here.
 */
import {
  encodeLokiJson,
  encodeLokiProtobuf,
  LOKI_JSON_CONTENT_TYPE,
  LOKI_PROTOBUF_CONTENT_TYPE,
  type LokiStream,
} from '../shared/loki-push.ts';
import type { PushAnswer } from './delivery.ts';
import { classifyAnswer } from './rejections.ts';

export interface LokiClientOptions {
  pushUrl: string;
  tenant: string | undefined;
  format: 'protobuf' | 'json';
  /** Longest one attempt may take, in ms; then it is an outage (`TimeoutError`). */
  timeoutMs: number;
}

/** What the store's answer to a connection check says. */
export type ProbeResult = { ok: true } | { ok: false; cause: string };

export class LokiClient {
  readonly #options: LokiClientOptions;

  constructor(options: LokiClientOptions) {
    this.#options = options;
  }

  /**
   * Pushes the streams once.
   *
   * @param signal aborts the attempt (the process is stopping); the fetch then throws
   * @returns `ok` on 2xx; `rejected` for a 400 naming record content; `outage` for anything
   *   else, including network errors and timeouts (never throws for those)
   */
  async attempt(streams: LokiStream[], signal?: AbortSignal): Promise<PushAnswer> {
    const { format } = this.#options;
    const body = format === 'protobuf' ? encodeLokiProtobuf(streams) : encodeLokiJson(streams);
    return this.#post(body, signal);
  }

  /**
   * Checks the push URL, tenant and credentials with an empty push, which Loki and VictoriaLogs
   * acknowledge without storing anything. A wrong path, method or tenant answers 4xx.
   */
  async probe(signal?: AbortSignal): Promise<ProbeResult> {
    const answer = await this.#post(
      this.#options.format === 'protobuf' ? encodeLokiProtobuf([]) : encodeLokiJson([]),
      signal,
    );
    if (answer.kind === 'ok') return { ok: true };
    return { ok: false, cause: answer.kind === 'outage' ? answer.cause : answer.detail };
  }

  async #post(body: string | Uint8Array, signal?: AbortSignal): Promise<PushAnswer> {
    const { format, tenant, timeoutMs, pushUrl } = this.#options;
    const headers: Record<string, string> = {
      'content-type': format === 'protobuf' ? LOKI_PROTOBUF_CONTENT_TYPE : LOKI_JSON_CONTENT_TYPE,
    };
    if (tenant) headers['x-scope-orgid'] = tenant;
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(pushUrl, {
        method: 'POST',
        headers,
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const text = await response.text();
      if (response.ok) return { kind: 'ok' };
      return classifyAnswer(response.status, text || response.statusText);
    } catch (error) {
      if (signal?.aborted) throw error;
      const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { kind: 'outage', cause: timeout.aborted ? 'TimeoutError: push timed out' : cause };
    }
  }
}
