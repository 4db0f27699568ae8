/**
 * Entry point for `node --import`: starts telemetry before the application's modules load, so
 * that instrumented modules (http, koa, kafkajs) are patched when they are first imported.
 */
import { register } from 'node:module';
import { exitOnConfigError } from '../shared/env.ts';
import { readTelemetryConfig } from './config.ts';
import { installDiagLogger } from './diagnostics.ts';
import { startTelemetry } from './sdk.ts';
import { SERVICE } from './service.ts';

// ESM imports are only visible to instrumentations through this loader hook; without it Koa is
// never patched and `http.route` silently disappears from the request histogram.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

installDiagLogger(process.env);
try {
  await startTelemetry(readTelemetryConfig(process.env, SERVICE));
} catch (error) {
  exitOnConfigError(error);
}
