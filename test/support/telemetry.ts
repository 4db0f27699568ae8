/**
 * Loaded with `--import` before any test file: starts the real SDK (instrumentations and the
 * Prometheus exporter) with log records captured in memory instead of exported.
 */
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { readTelemetryConfig } from '../../src/api/telemetry/config.ts';
import { registerEsmHook } from '../../src/api/telemetry/esm-hook.ts';
import { startTelemetry } from '../../src/api/telemetry/sdk.ts';
import { SERVICE } from '../../src/api/telemetry/service.ts';

const hookReady = registerEsmHook();

export const capturedLogs = new InMemoryLogRecordExporter();

await startTelemetry(readTelemetryConfig({}, SERVICE), {
  logRecordProcessors: [new SimpleLogRecordProcessor({ exporter: capturedLogs })],
});
await hookReady();
