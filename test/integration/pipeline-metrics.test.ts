/**
 * The metric names the README documents are the ones the processes really expose: the API, the
 * consumer and the canary, scraped live. The consumer's counters are checked on its very first
 * scrape, before it has consumed anything, since alert rules need their series from the start.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { startComponent } from '../../stack/index.ts';
import { sendTraffic, startApi, startConsumer, TrackedProcesses } from './pipeline-support.ts';
import { endpoint, kafka, poll, uniqueToken } from './support.ts';
import { nowNs } from '../../src/shared/loki-push.ts';
import { encodeExportLogsServiceRequest } from '../../src/shared/otlp-logs.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Backticked names in the README with one of these prefixes. */
function documented(prefix: RegExp): Set<string> {
  const names = new Set<string>();
  for (const [, name] of README.matchAll(/`([a-z][a-z0-9_]*)`/g)) {
    if (name && prefix.test(name)) names.add(name);
  }
  return names;
}

/** Metric family names (`# TYPE` lines), plus the sample names histograms are read by. */
function exposed(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    names.add(name);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('documented metric names against the real exposition', function () {
  this.timeout(180_000);
  const processes = new TrackedProcesses();
  const { track } = processes;
  after(() => processes.stopAll());

  it('the consumer exposes every log_consumer_* name the README lists, and only those; its counters from the first scrape', async () => {
    const consumer = await track(startConsumer({}, { waitForHealth: false }));
    const readme = documented(/^log_consumer_/);
    expect(readme.size, 'names found in the README').to.be.greaterThan(8);
    // Counters and gauges that rules and panels read exist before anything was consumed.
    const first = exposed(await scrape(consumer.url));
    const fromStart = [...readme].filter((name) => /_total$|_up$|_time$/.test(name));
    expect(fromStart.length).to.be.greaterThan(5);
    for (const name of fromStart) expect(first, `${name} on the first scrape`).to.include(name);
    const text = await scrape(consumer.url);
    expect(text).to.match(
      /^log_consumer_records_dead_lettered_total\{[^}]*error_type="undecodable"[^}]*\} 0$/m,
    );
    expect(text).to.match(/^log_consumer_push_retries_total\{[^}]*error_type="5xx"[^}]*\} 0$/m);

    // Histograms and the lag gauge have samples once a record went through and lag was measured.
    const producer = kafka('names').producer();
    await producer.connect();
    await producer.send({
      topic: 'api-logs-other',
      acks: -1,
      messages: [
        {
          value: Buffer.from(
            encodeExportLogsServiceRequest({ 'service.name': 'names' }, [
              {
                timeUnixNano: nowNs(),
                severityNumber: 9,
                severityText: 'INFO',
                body: 'x',
                attributes: {},
              },
            ]),
          ),
        },
      ],
    });
    await producer.disconnect();
    const names = await poll(
      async () => {
        const all = exposed(await scrape(consumer.url));
        return [...readme].every((name) => all.has(name)) ? all : undefined;
      },
      { timeoutMs: 60_000 },
    ).catch(async () => exposed(await scrape(consumer.url)));
    for (const name of readme) expect(names, name).to.include(name);
    const families = [...names].filter(
      (name) => name.startsWith('log_consumer_') && !/_(bucket|sum|count)$/.test(name),
    );
    for (const name of families) expect(readme, `${name} undocumented`).to.include(name);
  });

  it('the API and the canary expose every name the README lists for them', async () => {
    // Runs after the consumer test: the canary's records need the consumer still running.
    const api = await track(startApi('collector'));
    await sendTraffic(api.url, uniqueToken('names'), 12);
    const canary = await track(startComponent('canary', endpoint));
    const apiNames = exposed(await scrape(api.url));
    const apiReadme = documented(/^(shop_|otel_sdk_|http_server_)/);
    expect(apiReadme.size, 'API names found in the README').to.be.greaterThan(5);
    for (const name of apiReadme) expect(apiNames, `API: ${name}`).to.include(name);
    const canaryReadme = documented(/^canary_/);
    expect(canaryReadme.size, 'canary names found in the README').to.be.greaterThan(3);
    // Every name appears once the canary's records come back; its duplicate counter is there
    // at 0 before the first duplicate.
    const expected = [...canaryReadme];
    const canaryNames = await poll(
      async () => {
        const all = exposed(await scrape(canary.url));
        return expected.every((name) => all.has(name)) ? all : undefined;
      },
      { timeoutMs: 90_000 },
    ).catch(async () => exposed(await scrape(canary.url)));
    for (const name of expected) expect(canaryNames, `canary: ${name}`).to.include(name);
    for (const name of ['process_memory_usage', 'nodejs_memory_usage']) {
      expect(apiNames, `API: ${name}`).to.include(name);
      expect(canaryNames, `canary: ${name}`).to.include(name);
    }
  });
});
