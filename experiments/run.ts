/**
 * `npm run experiment -- --variants a,b,... [--rate R] [--seconds S] [--fault F]`: runs each
 * variant (a folder under experiments/) on the native stack under the same load and writes the
 * measured table to bench/results/experiments.{json,md}, with the command that produced it.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { invokedCommand } from '../bench/report.ts';
import { REPO_ROOT } from '../stack/config.ts';
import {
  createContext,
  guardOutput,
  quietKafkajsTimerWarning,
  serviceStatus,
  stopServices,
} from '../stack/index.ts';
import { writeReport } from './report.ts';
import { FAULTS, runExperiments, type FaultName } from './runner.ts';
import { VariantError, variantNames } from './variants.ts';

quietKafkajsTimerWarning();

const USAGE = `usage: npm run experiment -- --variants a,b,... [options]

  --variants a,b,...        variants to run, in order (folders under experiments/): ${variantNames().join(', ')}
  --rate R                  offered requests/s of the fixed-rate phase (default 200)
  --seconds S               length of the fixed-rate phase (default 30)
  --saturation-seconds S    unthrottled phase after it, 0 to skip (default 10)
  --drain-seconds S         longest wait for records to become queryable (default 120)
  --fault F                 one fault during the fixed-rate phase: ${FAULTS.join(', ')}
  --out BASE                results go to BASE.json and BASE.md (default bench/results/experiments)`;

function positive(name: string, raw: string, allowZero = false): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new VariantError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variants: { type: 'string' },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '30' },
      'saturation-seconds': { type: 'string', default: '10' },
      'drain-seconds': { type: 'string', default: '120' },
      fault: { type: 'string' },
      out: { type: 'string', default: path.join('bench', 'results', 'experiments') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.variants) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 64;
    return;
  }
  if (values.fault !== undefined && !(FAULTS as readonly string[]).includes(values.fault)) {
    throw new VariantError(`--fault must be one of ${FAULTS.join(', ')}, got "${values.fault}"`);
  }
  const ctx = createContext(log);
  const servicesWereUp = (await serviceStatus(ctx)).every((service) => service.healthy);
  let stopping = false;
  const onSignal = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping what the experiment started`);
    // The API and consumer get SIGTERM when this process exits (stack/components.ts).
    void (servicesWereUp ? Promise.resolve() : stopServices(ctx)).finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  guardOutput(() => onSignal('SIGPIPE'));

  const command = invokedCommand('experiment');
  const report = await runExperiments(
    {
      variants: values.variants
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
      rate: positive('rate', values.rate),
      seconds: positive('seconds', values.seconds),
      saturationSeconds: positive('saturation-seconds', values['saturation-seconds'], true),
      drainSeconds: positive('drain-seconds', values['drain-seconds']),
      ...(values.fault ? { fault: values.fault as FaultName } : {}),
      log,
    },
    (result) =>
      log(
        `${result.variant}: answered ${result.answered} (${result.answeredPerSecond.toFixed(0)}/s), ` +
          `landed ${result.landed}, lost ${result.lost}, p50 ${result.latencyP50Ms?.toFixed(0) ?? '-'} ms, ` +
          `p99 ${result.latencyP99Ms?.toFixed(0) ?? '-'} ms, ` +
          `CPU ${result.cpuSecondsPer1000.total.toFixed(2)} s per 1 000 records` +
          (result.complete ? '' : ' (INCOMPLETE)'),
      ),
  );
  const files = await writeReport(report, command, path.resolve(REPO_ROOT, values.out));
  log(
    `results: ${path.relative(process.cwd(), files.markdown)}, ${path.relative(process.cwd(), files.json)}`,
  );
  if (report.results.some((result) => !result.complete)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  // Bad input (a variant file, an overlay, an option) is reported without a stack trace.
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = error instanceof VariantError ? 78 : 1;
}
