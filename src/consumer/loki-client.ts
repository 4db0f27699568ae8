/**
 * Pushes batches to Loki's push API. Transient failures (network errors, timeouts, 429, 5xx)
 * are retried with exponential backoff and full jitter for as long as it takes: the caller is
 * blocked meanwhile, which is what pauses consumption (backpressure) instead of dropping.
 * Other 4xx answers are permanent rejections of the content and are returned to the caller.
 */
import { setTimeout } from 'node:timers/promises';
import {
  encodeLokiJson,
  encodeLokiProtobuf,
  LOKI_JSON_CONTENT_TYPE,
  LOKI_PROTOBUF_CONTENT_TYPE,
  type LokiStream,
} from '../shared/loki-push.ts';

export type PushResult =
  { ok: true; attempts: number } | { ok: false; status: number; reason: string };

export interface LokiClientOptions {
  pushUrl: string;
  tenant: string | undefined;
  format: 'protobuf' | 'json';
  timeoutMs: number;
  retry: { initialDelayMs: number; maxDelayMs: number };
  /** Called before each retry, e.g. to count it and to heartbeat the consumer group. */
  onRetry?: (attempt: number, cause: string) => Promise<void> | void;
  /** Aborted when the process stops: retrying ends and the push throws PushAborted. */
  stopSignal?: AbortSignal;
}

export class PushAborted extends Error {
  override name = 'PushAborted';
}

export class LokiClient {
  readonly #options: LokiClientOptions;

  constructor(options: LokiClientOptions) {
    this.#options = options;
  }

  async push(streams: LokiStream[]): Promise<PushResult> {
    const { format, tenant, timeoutMs, retry, pushUrl } = this.#options;
    const body = format === 'protobuf' ? encodeLokiProtobuf(streams) : encodeLokiJson(streams);
    const headers: Record<string, string> = {
      'content-type': format === 'protobuf' ? LOKI_PROTOBUF_CONTENT_TYPE : LOKI_JSON_CONTENT_TYPE,
    };
    if (tenant) headers['x-scope-orgid'] = tenant;

    for (let attempt = 1; ; attempt += 1) {
      let cause: string;
      try {
        const response = await fetch(pushUrl, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        if (response.ok) return { ok: true, attempts: attempt };
        if (response.status !== 429 && response.status < 500) {
          return {
            ok: false,
            status: response.status,
            reason: text.slice(0, 500) || response.statusText,
          };
        }
        cause = `HTTP ${response.status}`;
      } catch (error) {
        cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      const { stopSignal } = this.#options;
      if (stopSignal?.aborted) throw new PushAborted(`push abandoned while stopping (${cause})`);
      await this.#options.onRetry?.(attempt, cause);
      const ceiling = Math.min(
        retry.maxDelayMs,
        retry.initialDelayMs * 2 ** Math.min(attempt - 1, 20),
      );
      try {
        await setTimeout(Math.random() * ceiling, undefined, { signal: stopSignal });
      } catch {
        throw new PushAborted(`push abandoned while stopping (${cause})`);
      }
    }
  }
}
