/**
 * Load generator: drives the API at a steady rate with a weighted mix of operations and a share
 * of deliberately bad requests, printing a live progress line and a summary.
 *
 *   npm run loadgen -- --rate 20 --duration 60 --bad-share 0.1
 */
import { exitOnConfigError } from '../shared/env.ts';
import { readLoadgenConfig, type LoadgenConfig } from './config.ts';
import { KnownIds, OPERATIONS, plan, planBadRequest, type OperationName } from './operations.ts';
import { RunStats } from './stats.ts';

let config: LoadgenConfig;
try {
  config = readLoadgenConfig(process.argv.slice(2), process.env);
} catch (error) {
  exitOnConfigError(error);
}

const known = new KnownIds();
const stats = new RunStats();
const weights = OPERATIONS.map((name) => [name, config.mix[name]] as const);
const totalWeight = weights.reduce((sum, [, weight]) => sum + weight, 0);

function chooseOperation(): OperationName {
  let roll = Math.random() * totalWeight;
  for (const [name, weight] of weights) {
    roll -= weight;
    if (roll < 0) return name;
  }
  return 'health';
}

let inFlight = 0;
let sequence = 0;

async function fire(): Promise<void> {
  if (inFlight >= config.concurrency) {
    stats.skipped += 1;
    return;
  }
  sequence += 1;
  const request =
    Math.random() < config.badShare ? planBadRequest() : plan(chooseOperation(), known, sequence);
  inFlight += 1;
  const started = performance.now();
  try {
    const response = await fetch(`${config.target}${request.path}`, {
      ...request.init,
      signal: AbortSignal.timeout(10_000),
    });
    const body: unknown = response.headers.get('content-type')?.includes('json')
      ? await response.json()
      : await response.text();
    stats.record(response.status, performance.now() - started);
    if (response.status === 201 && typeof body === 'object' && body !== null && 'id' in body) {
      const id = Number(body.id);
      if (request.operation === 'create_user') known.remember('users', id);
      if (request.operation === 'create_product') known.remember('products', id);
      if (request.operation === 'create_order') known.remember('orders', id);
    }
  } catch {
    stats.record(undefined, performance.now() - started);
  } finally {
    inFlight -= 1;
  }
}

function progressLine(elapsedSeconds: number): string {
  const rate = stats.requests / Math.max(elapsedSeconds, 0.001);
  const failures = stats.failures();
  const percent = stats.requests ? ((100 * failures) / stats.requests).toFixed(1) : '0.0';
  const duration = config.durationSeconds ? `/${config.durationSeconds}` : '';
  return (
    `[${elapsedSeconds.toFixed(0)}${duration}s] ${stats.requests} requests, ${rate.toFixed(1)}/s, ` +
    `non-2xx ${failures} (${percent}%), p50 ${stats.percentile(50).toFixed(1)} ms, ` +
    `p99 ${stats.percentile(99).toFixed(1)} ms, in flight ${inFlight}`
  );
}

async function run(): Promise<void> {
  console.log(
    `load: ${config.rate}/s against ${config.target}, ` +
      `${config.durationSeconds ? `${config.durationSeconds}s` : 'until Ctrl-C'}, ` +
      `concurrency ${config.concurrency}, bad requests ${(config.badShare * 100).toFixed(0)}%`,
  );
  const startedAt = performance.now();
  const elapsed = () => (performance.now() - startedAt) / 1000;
  const interactive = process.stdout.isTTY;
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const progress = setInterval(
    () => {
      if (interactive) process.stdout.write(`\r${progressLine(elapsed())}\x1b[K`);
      else console.log(progressLine(elapsed()));
    },
    interactive ? 1000 : 5000,
  );
  // Requests are started on a fixed schedule, not after the previous one finished: a slow API
  // gets the same offered load (up to `concurrency` in flight) instead of a politely lower one.
  let fired = 0;
  while (!stop && (config.durationSeconds === 0 || elapsed() < config.durationSeconds)) {
    const due = Math.floor(elapsed() * config.rate);
    while (fired < due) {
      fired += 1;
      void fire();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, 1000 / config.rate / 2)));
  }
  clearInterval(progress);
  while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  if (interactive) process.stdout.write('\n');

  const seconds = elapsed();
  const classes = [...stats.byStatusClass].map(([name, count]) => `${name} ${count}`).join(', ');
  console.log(
    [
      `summary: ${stats.requests} requests in ${seconds.toFixed(1)} s (${(stats.requests / seconds).toFixed(1)}/s)`,
      `  responses: ${classes || 'none'}; network errors ${stats.errors}; skipped (at concurrency) ${stats.skipped}`,
      `  latency ms: p50 ${stats.percentile(50).toFixed(1)}, p95 ${stats.percentile(95).toFixed(1)}, p99 ${stats.percentile(99).toFixed(1)}`,
    ].join('\n'),
  );
}

await run();
