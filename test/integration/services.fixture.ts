// Mocha global fixture: the integration suite runs against the native services
// (Kafka, Collector, VictoriaLogs, Prometheus). They are installed if missing, started before
// the first test and stopped after the last one, whatever the outcome.
import {
  createContext,
  installServices,
  missingComponents,
  guardOutput,
  quietKafkajsTimerWarning,
  serviceStatus,
  startServices,
  stopServices,
} from '../../stack/index.ts';
import type { Context } from '../../stack/index.ts';

quietKafkajsTimerWarning();

// Prometheus must scrape test targets within the tests' polling budget.
process.env.PROMETHEUS_SCRAPE_INTERVAL ??= '1s';

const ctx: Context = createContext((line) => console.log(`  [services] ${line}`));
/** Services that were already up before the suite are left running for the developer. */
let startedBySuite = false;
let stopping: Promise<void> | undefined;

function stopOnce(): Promise<void> {
  stopping ??= stopServices(ctx);
  return stopping;
}

function onSignal(signal: NodeJS.Signals): void {
  console.error(`\n${signal}: stopping services before exit`);
  void (startedBySuite ? stopOnce() : Promise.resolve()).finally(() => process.exit(130));
}

export async function mochaGlobalSetup(): Promise<void> {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Mocha's report piped into a reader that went away must not leave the services running.
  guardOutput(() => onSignal('SIGPIPE'));
  const before = await serviceStatus(ctx);
  if (before.every((service) => service.healthy)) {
    console.log('  [services] already running; the suite will leave them up');
    return;
  }
  startedBySuite = true;
  try {
    if (missingComponents(ctx).length > 0) await installServices(ctx);
    await startServices(ctx, { install: false });
  } catch (error) {
    // Mocha skips the global teardown when the setup throws, so clean up here.
    await stopOnce();
    throw error;
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (startedBySuite) await stopOnce();
}
