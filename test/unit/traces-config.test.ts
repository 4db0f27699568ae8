// When the API records and exports spans: OTEL_TRACES_EXPORTER as the specification reads it
// (a comma-separated list of exporters; `none` means no traces at all).
import { expect } from 'chai';
import { tracesExported } from '../../src/api/telemetry/sdk.ts';

describe('OTEL_TRACES_EXPORTER', () => {
  it('records and exports spans when an exporter is named', () => {
    expect(tracesExported({ OTEL_TRACES_EXPORTER: 'otlp' })).to.equal(true);
    expect(tracesExported({ OTEL_TRACES_EXPORTER: ' otlp , console ' })).to.equal(true);
  });

  it('keeps the AlwaysOff sampler when unset, empty or none', () => {
    expect(tracesExported({})).to.equal(false);
    expect(tracesExported({ OTEL_TRACES_EXPORTER: '' })).to.equal(false);
    expect(tracesExported({ OTEL_TRACES_EXPORTER: 'none' })).to.equal(false);
    expect(tracesExported({ OTEL_TRACES_EXPORTER: 'otlp,none' })).to.equal(false);
  });
});
