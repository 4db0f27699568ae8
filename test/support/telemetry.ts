/**
 * Loaded with `--import` before any test file: starts the real SDK (instrumentations and the
 * Prometheus exporter) with log records captured in memory instead of exported.
 */
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { readTelemetryConfig } from '../../src/telemetry/config.ts';
import { registerEsmHook } from '../../src/telemetry/esm-hook.ts';
import { startTelemetry } from '../../src/telemetry/sdk.ts';
import { SERVICE } from '../../src/telemetry/service.ts';

const hookReady = registerEsmHook();

export const capturedLogs = new InMemoryLogRecordExporter();

await startTelemetry(readTelemetryConfig({}, SERVICE), {
  logRecordProcessors: [new SimpleLogRecordProcessor({ exporter: capturedLogs })],
});
await hookReady();
