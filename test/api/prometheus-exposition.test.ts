import { once } from 'node:events';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import fc from 'fast-check';
import { ConfigError } from '../../src/shared/env.ts';
import {
  checkResourceLabels,
  parseResourceAttributesEnv,
} from '../../src/api/telemetry/prometheus-labels.ts';
import { startApi, type RunningApi } from '../support/api-server.ts';
import { createContext, endpoints, startComponent } from '../../stack/index.ts';
import { checkMetrics } from '../support/promtool.ts';

/** The page the SDK's Prometheus exporter serves for a process with this resource. */
async function pageFor(attributes: Record<string, string>): Promise<string> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes(attributes),
    readers: [exporter],
  });
  const meter = provider.getMeter('exposition-test');
  meter.createHistogram('http.server.request.duration', { unit: 's' }).record(0.01, {
    'http.request.method': 'GET',
    'http.response.status_code': 200,
  });
  meter.createCounter('shop.orders.created').add(1);
  const { resourceMetrics } = await exporter.collect();
  await provider.shutdown();
  return new PrometheusSerializer().serialize(resourceMetrics);
}

function accepted(attributes: Record<string, string>): boolean {
  try {
    checkResourceLabels(attributes);
    return true;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

/** Runs the API entry point with `env` until it exits; its exit code and stderr. */
async function runApi(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const { child } = await startComponent('api', endpoints(createContext()), {
    output: 'pipe',
    waitUntilListening: false,
    env: { OTEL_LOGS_EXPORTER: 'none', ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let listening = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    // Started after all: stop it, so the test reports the wrong outcome instead of hanging.
    if (!listening && chunk.toString().includes('"listening"')) {
      listening = true;
      child.kill('SIGTERM');
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('the /metrics page and resource attributes', () => {
  it('refuses OTEL_RESOURCE_ATTRIBUTES=team.name=a,team_name=b at start: exit 78 naming both keys', async function () {
    this.timeout(30_000);
    const { code, stderr } = await runApi({
      OTEL_RESOURCE_ATTRIBUTES: 'team.name=a,team_name=b',
    });
    expect(code).to.equal(78);
    expect(stderr).to.include('OTEL_RESOURCE_ATTRIBUTES');
    expect(stderr).to.include('"team.name"').and.include('"team_name"');
  });

  it('would otherwise serve a page that promtool refuses', async () => {
    const problems = checkMetrics(await pageFor({ 'team.name': 'a', team_name: 'b' }));
    expect(problems).to.include('duplicate label names');
  });

  it('refuses a resource attribute that collides with a detected one', () => {
    // host.name comes from the host detector; host_name from the environment.
    expect(() => checkResourceLabels({ 'host.name': 'box', host_name: 'other' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('"host.name", "host_name"');
  });

  it('refuses a malformed OTEL_RESOURCE_ATTRIBUTES, which the SDK would ignore whole', () => {
    for (const raw of ['a=b=c', 'no-value', '=x', 'k=%zz']) {
      expect(() => parseResourceAttributesEnv(raw), raw)
        .to.throw(ConfigError)
        .with.property('message')
        .that.includes('OTEL_RESOURCE_ATTRIBUTES');
    }
    expect(parseResourceAttributesEnv(' team.name = a%2Cb ,, x=%3D ')).to.deep.equal({
      'team.name': 'a,b',
      x: '=',
    });
  });

  it('accepts exactly the resources whose page promtool accepts (fuzzed attributes)', async function () {
    this.timeout(120_000);
    // Keys from an alphabet where collisions and invalid label names are common.
    const key = fc.string({
      unit: fc.constantFrom('a', 'b', 'Z', '_', '.', '-', '/', '1', 'é', ' ', ':'),
      minLength: 1,
      maxLength: 6,
    });
    const value = fc.string({ unit: 'binary', maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(key, value, { maxKeys: 5 }), async (attributes) => {
        const resource = { 'service.name': 'shop-api', ...attributes };
        const problems = checkMetrics(await pageFor(resource));
        expect(accepted(resource), problems || 'promtool accepted the page').to.equal(
          problems === '',
        );
      }),
      { numRuns: 100 },
    );
  });

  describe('the API page', () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi();
    });
    after(() => api.close());

    it('passes promtool check metrics after ordinary and hostile requests', async () => {
      await fetch(`${api.baseUrl}/health`);
      await fetch(`${api.baseUrl}/users/12`);
      await fetch(`${api.baseUrl}/%22quoted%5C/"}{\n`);
      await fetch(`${api.baseUrl}/users`, { method: 'PATCH' });
      const page = await (await fetch(`${api.baseUrl}/metrics`)).text();
      expect(page).to.include('target_info');
      expect(checkMetrics(page)).to.equal('');
    });
  });
});
