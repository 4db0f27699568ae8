// Entry point of `npm run services:install|up|down|status`.
import { exitOnConfigError } from '../src/shared/env.ts';
import { ConfigError, loadConfig } from './config.ts';
import { installServices } from './install.ts';
import { describeServices, serviceStatus, startServices, stopServices } from './lifecycle.ts';
import { defaultLogger, guardOutput } from './progress.ts';
import type { Context } from './types.ts';
import { quietKafkajsTimerWarning } from '../src/shared/kafkajs-warnings.ts';

quietKafkajsTimerWarning();

const USAGE = `usage: node stack/cli.ts <install|up|down|status> [--keep-data]

  install   download/build Kafka, the Collector, VictoriaLogs; apt-get Prometheus if missing
  up        install if needed, start every service and wait until healthy
  down      stop the services started by 'up'; deletes their data unless --keep-data
            (or SERVICES_KEEP_DATA=1)
  status    pid, liveness, health, address and log of every service
            (exit code 3 when any service is not healthy)`;

async function up(ctx: Context): Promise<void> {
  const started = Date.now();
  // Ctrl-C during a slow start must not leave half of the services running: the start is told
  // to launch nothing more, and once it has settled everything it launched is stopped.
  const stopRequested = new AbortController();
  const starting = startServices(ctx, { signal: stopRequested.signal });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested.signal.aborted) return;
    stopRequested.abort();
    ctx.log(`${signal}: stopping what was started`);
    void starting
      .catch(() => undefined)
      .then(() => stopServices(ctx, { keepData: true }))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  guardOutput(() => onSignal('SIGPIPE'));
  try {
    await starting;
  } catch (error) {
    // Interrupted: the handler above stops the services and exits.
    if (stopRequested.signal.aborted) return new Promise(() => undefined);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  ctx.log(`\nall services healthy in ${((Date.now() - started) / 1000).toFixed(1)}s:`);
  for (const line of describeServices(ctx)) ctx.log(line);
  ctx.log('stop them with: npm run services:down');
}

async function status(ctx: Context): Promise<boolean> {
  const rows = await serviceStatus(ctx);
  ctx.log(
    `${'service'.padEnd(13)} ${'pid'.padEnd(8)} ${'alive'.padEnd(6)} ${'healthy'.padEnd(8)} listens`,
  );
  for (const row of rows) {
    ctx.log(
      `${row.label.padEnd(13)} ${String(row.pid ?? '-').padEnd(8)} ${(row.alive ? 'yes' : 'no').padEnd(6)} ` +
        `${(row.healthy ? 'yes' : 'no').padEnd(8)} ${row.listens}\n${''.padEnd(37)}log: ${row.logFile}`,
    );
  }
  return rows.every((row) => row.healthy);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const ctx: Context = { config: loadConfig(), log: defaultLogger };
  if (flags.includes('--keep-data')) ctx.config.keepData = true;
  switch (command) {
    case 'install': {
      const started = Date.now();
      await installServices(ctx);
      ctx.log(`install finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      return 0;
    }
    case 'up':
      await up(ctx);
      return 0;
    case 'down':
      await stopServices(ctx);
      return 0;
    case 'status':
      return (await status(ctx)) ? 0 : 3;
    default:
      console.error(USAGE);
      return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    exitOnConfigError(error);
  } else {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
