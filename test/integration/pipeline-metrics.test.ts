/**
 * The metric names the README documents are the ones the processes really expose: the API, the
 * consumer and the canary, scraped live. The consumer's counters are checked on its very first
 * scrape, before it has consumed anything, since alert rules need their series from the start.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { startNodeProcess } from '../support/node-process.ts';
import { sendTraffic, startApi, startConsumer, TrackedProcesses } from './pipeline-support.ts';
import { endpoint, uniqueToken } from './support.ts';

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

  it('the consumer exposes every log_consumer_* name the README lists, and only those, from its first scrape', async () => {
    const consumer = await track(startConsumer({}, { waitForHealth: false }));
    const names = exposed(await scrape(consumer.url));
    const readme = documented(/^log_consumer_/);
    expect(readme.size, 'names found in the README').to.be.greaterThan(8);
    for (const name of readme) expect(names, name).to.include(name);
    const consumerFamilies = [...names].filter(
      (name) => name.startsWith('log_consumer_') && !/_(bucket|sum|count)$/.test(name),
    );
    for (const name of consumerFamilies) expect(readme, `${name} undocumented`).to.include(name);
    // Counters the alert rules and panels read start at 0 for their known label values.
    const text = await scrape(consumer.url);
    expect(text).to.match(
      /^log_consumer_records_dead_lettered_total\{[^}]*error_type="undecodable"[^}]*\} 0$/m,
    );
    expect(text).to.match(/^log_consumer_push_retries_total\{[^}]*error_type="5xx"[^}]*\} 0$/m);
  });

  it('the API and the canary expose every name the README lists for them', async () => {
    const api = await track(startApi('collector'));
    await sendTraffic(api.url, uniqueToken('names'), 12);
    const canary = await track(
      startNodeProcess(['src/canary/main.ts'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint.otlpHttp,
        CANARY_STORE: 'victorialogs',
        CANARY_STORE_URL: endpoint.victoriaLogs,
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: '0',
      }),
    );
    const apiNames = exposed(await scrape(api.url));
    const apiReadme = documented(/^(shop_|otel_sdk_|http_server_)/);
    expect(apiReadme.size, 'API names found in the README').to.be.greaterThan(5);
    for (const name of apiReadme) expect(apiNames, `API: ${name}`).to.include(name);
    const canaryNames = exposed(await scrape(canary.url));
    const canaryReadme = documented(/^canary_/);
    expect(canaryReadme.size, 'canary names found in the README').to.be.greaterThan(3);
    for (const name of canaryReadme) expect(canaryNames, `canary: ${name}`).to.include(name);
    for (const name of ['process_memory_usage', 'nodejs_memory_usage']) {
      expect(apiNames, `API: ${name}`).to.include(name);
      expect(canaryNames, `canary: ${name}`).to.include(name);
    }
  });
});
