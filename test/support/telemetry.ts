/**
 * Loaded with `--import` before any test file: starts the real SDK (instrumentations and the
 * Prometheus exporter) with log records captured in memory instead of exported.
 */
import { register } from 'node:module';
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { readTelemetryConfig } from '../../src/telemetry/config.ts';
import { startTelemetry } from '../../src/telemetry/sdk.ts';
import { SERVICE } from '../../src/telemetry/service.ts';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

export const capturedLogs = new InMemoryLogRecordExporter();

await startTelemetry(readTelemetryConfig({}, SERVICE), {
  logRecordProcessors: [new SimpleLogRecordProcessor({ exporter: capturedLogs })],
});
