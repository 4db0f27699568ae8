import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { encodeLokiJson, LOKI_JSON_CONTENT_TYPE, nowNs } from '../../src/shared/loki-push.ts';
import { metricValue, startConsumer, type RunningProcess } from './pipeline-support.ts';
import { endpoint, poll } from './support.ts';
import { startComponent } from '../../stack/index.ts';

async function startCanary(): Promise<RunningProcess & { run: string }> {
  const canary = await startComponent('canary', endpoint, {
    env: { CANARY_INTERVAL_MS: '200', CANARY_DEADLINE_MS: '8000' },
  });
  const health = (await (await fetch(`${canary.url}/health`)).json()) as { run: string };
  return { ...canary, run: health.run };
}

describe('pipeline canary', function () {
  this.timeout(300_000);

  it('sees its records arrive, reports them missing while the consumer is down, and counts duplicates', async () => {
    let consumer = await startConsumer();
    const canary = await startCanary();
    const value = (name: string) => metricValue(canary.url, name);
    try {
      await poll(async () => ((await value('canary_e2e_latency_count')) >= 5 ? true : undefined), {
        timeoutMs: 60_000,
      });
      expect(await value('canary_records_missing')).to.equal(0);
      expect(await value('canary_records_duplicated_total')).to.equal(0);
      expect(await value('canary_store_up')).to.equal(1);

      await consumer.stop();
      await poll(async () => ((await value('canary_records_missing')) > 0 ? true : undefined), {
        timeoutMs: 60_000,
      });

      consumer = await startConsumer();
      await poll(async () => ((await value('canary_records_missing')) === 0 ? true : undefined), {
        timeoutMs: 120_000,
      });

      // A second copy of a recent record in the store is a duplicate. (Recent: the canary
      // forgets records twice its deadline old, and on a slow machine record 0 may be that old
      // by now.)
      const latest = (await value('canary_records_sent_total')) - 1;
      const copy = encodeLokiJson([
        {
          labels: {
            service_name: 'pipeline-canary',
            log_type: 'canary',
            level: 'info',
            deployment_environment: 'test',
          },
          entries: [
            {
              timestampNs: nowNs(),
              line: JSON.stringify({
                msg: `canary ${latest}`,
                request_id: `canary-${canary.run}-${latest}`,
              }),
              structuredMetadata: { request_id: `canary-${canary.run}-${latest}` },
            },
          ],
        },
      ]);
      const pushed = await fetch(endpoint.lokiPush, {
        method: 'POST',
        headers: { 'content-type': LOKI_JSON_CONTENT_TYPE },
        body: copy,
      });
      expect(pushed.status).to.equal(204);
      await poll(
        async () => ((await value('canary_records_duplicated_total')) === 1 ? true : undefined),
        {
          timeoutMs: 60_000,
        },
      );
    } finally {
      await canary.stop();
      await consumer.stop();
    }
  });

  it('alert rules pass their promtool unit tests and are loaded by Prometheus', async () => {
    execFileSync('promtool', ['test', 'rules', 'prometheus/alerts.test.yml'], { stdio: 'pipe' });
    const rules = await (await fetch(`${endpoint.prometheus}/api/v1/rules`)).json();
    const names = rules.data.groups.flatMap((group: { rules: { name: string }[] }) =>
      group.rules.map((rule) => rule.name),
    );
    expect(names).to.include.members([
      'CanaryRecordsMissing',
      'LogConsumerLagGrowing',
      'LogsDeadLettered',
    ]);
  });
});
