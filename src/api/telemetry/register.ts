/**
 * Entry point for `node --import`: starts telemetry before the application's modules load, so
 * that instrumented modules (http, koa, kafkajs) are patched when they are first imported.
 */
import { exitOnConfigError } from '../../shared/env.ts';
import { readTelemetryConfig } from './config.ts';
import { installDiagLogger } from './diagnostics.ts';
import { registerEsmHook } from './esm-hook.ts';
import { startTelemetry } from './sdk.ts';
import { SERVICE } from './service.ts';

const hookReady = registerEsmHook();

installDiagLogger(process.env);
try {
  await startTelemetry(readTelemetryConfig(process.env, SERVICE));
  await hookReady();
} catch (error) {
  exitOnConfigError(error);
}
