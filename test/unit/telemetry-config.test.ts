// The OTLP logs protocol choices the API accepts, including gRPC for the otlp-grpc experiment.
import { expect } from 'chai';
import { readTelemetryConfig } from '../../src/api/telemetry/config.ts';
import { ConfigError } from '../../src/shared/env.ts';

const service = { name: 'shop-api', version: '0.0.0' };

describe('telemetry config: OTLP logs protocol', () => {
  it('defaults to http/protobuf and accepts http/json and grpc', () => {
    expect(readTelemetryConfig({}, service).otlpLogsProtocol).to.equal('http/protobuf');
    for (const protocol of ['http/json', 'grpc'] as const) {
      const env = { OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol };
      expect(readTelemetryConfig(env, service).otlpLogsProtocol).to.equal(protocol);
    }
    // The signal-specific variable wins over the general one, as the specification says.
    const both = {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
    };
    expect(readTelemetryConfig(both, service).otlpLogsProtocol).to.equal('http/json');
  });

  it('refuses an unknown protocol, naming the variable', () => {
    expect(() =>
      readTelemetryConfig({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc/json' }, service),
    ).to.throw(ConfigError, /OTEL_EXPORTER_OTLP_LOGS_PROTOCOL/);
  });
});
