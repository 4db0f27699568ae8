/**
 * Headless Chromium from Debian's package, driven by playwright-core; installed on first use so
 * a fresh machine needs no manual step.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createContext } from '../../stack/index.ts';

const EXECUTABLE = '/usr/bin/chromium';

/** Installs Debian's chromium once, with apt's output in a log file rather than the test report. */
function ensureChromium(): void {
  if (existsSync(EXECUTABLE)) return;
  const logFile = path.join(createContext().config.cacheDir, 'chromium', 'apt.log');
  mkdirSync(path.dirname(logFile), { recursive: true });
  console.log(
    `  installing Debian's chromium for the browser tests (once; apt's output: ${logFile})`,
  );
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const log = openSync(logFile, 'a');
  try {
    const run = (args: string[]) => {
      const [command = 'apt-get', ...rest] = [...sudo, ...args];
      execFileSync(command, rest, {
        stdio: ['ignore', log, log],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    };
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', 'chromium']);
  } catch (error) {
    throw new Error(`installing chromium failed; see ${logFile}`, { cause: error });
  } finally {
    closeSync(log);
  }
}

export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: EXECUTABLE,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
