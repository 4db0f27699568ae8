import { expect } from 'chai';
import { readApiConfig } from '../../src/api/config.ts';
import { readConsumerConfig } from '../../src/consumer/config.ts';
import { ConfigError } from '../../src/shared/env.ts';
import { readTelemetryConfig } from '../../src/api/telemetry/config.ts';
import { RateLimitedDiagLogger } from '../../src/api/telemetry/diagnostics.ts';

describe('configuration', () => {
  it('uses the documented defaults', () => {
    expect(readApiConfig({})).to.include({
      port: 8000,
      bodyLimitBytes: 65536,
      storeCapacity: 100000,
    });
  });

  it('refuses bad values with a message naming the variable', () => {
    expect(() => readApiConfig({ PORT: 'eighty' })).to.throw(
      ConfigError,
      /PORT must be an integer/,
    );
    expect(() => readApiConfig({ PORT: '70000' })).to.throw(ConfigError, /PORT must be between/);
    expect(() =>
      readTelemetryConfig({ OTEL_LOGS_EXPORTER: 'carrier-pigeon' }, { name: 's', version: '1' }),
    ).to.throw(ConfigError, /OTEL_LOGS_EXPORTER must be one of otlp, kafka, console, none/);
  });

  it('switches the whole telemetry on unless the benchmark switch TELEMETRY_BENCH_STEP says otherwise', () => {
    const service = { name: 's', version: '1' };
    expect(readTelemetryConfig({}, service).benchStep).to.equal('export');
    expect(readTelemetryConfig({ TELEMETRY_BENCH_STEP: 'koa' }, service).benchStep).to.equal('koa');
    expect(() => readTelemetryConfig({ TELEMETRY_BENCH_STEP: 'spans' }, service)).to.throw(
      ConfigError,
      /TELEMETRY_BENCH_STEP must be one of context, http, koa, histogram, records, export/,
    );
  });

  it('ships one partition at a time unless PARTITIONS_IN_PARALLEL says otherwise', () => {
    expect(readConsumerConfig({}).partitionsInParallel).to.equal(1);
    expect(readConsumerConfig({ PARTITIONS_IN_PARALLEL: '3' }).partitionsInParallel).to.equal(3);
    expect(() => readConsumerConfig({ PARTITIONS_IN_PARALLEL: '0' })).to.throw(
      ConfigError,
      /PARTITIONS_IN_PARALLEL must be between 1 and 64/,
    );
  });
});

describe('RateLimitedDiagLogger', () => {
  it('writes at most one line per interval and counts the rest', () => {
    const lines: string[] = [];
    const logger = new RateLimitedDiagLogger(60_000, (line) => lines.push(line));
    for (let index = 0; index < 5; index += 1)
      logger.error('export failed', new Error('ECONNREFUSED'));
    expect(lines).to.deep.equal(['otel error: export failed ECONNREFUSED']);
  });
});
