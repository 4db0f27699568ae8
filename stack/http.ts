import { setTimeout as sleep } from 'node:timers/promises';

/** True when the URL answers 2xx within a short timeout; never throws. */
export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between attempts; polling stops early when it returns a reason. */
  abort?: () => string | undefined;
}

/**
 * Retries `attempt` until it returns a value other than undefined, or the time is up.
 * Used for health checks and by tests instead of fixed sleeps.
 */
export async function poll<T>(
  attempt: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
    } catch (error) {
      lastError = error;
    }
    const reason = options.abort?.();
    if (reason) throw new Error(reason);
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms${detail}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
