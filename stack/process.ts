import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const START_MARKER = '=== services: starting';

export interface DetachedSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  pidFile: string;
}

/**
 * Starts a long-running service that outlives this CLI: detached into its own process group
 * (so `down` can signal the group and leave no orphans) with stdout/stderr appended to its log.
 */
export function startDetached(spec: DetachedSpec): number {
  mkdirSync(path.dirname(spec.logFile), { recursive: true });
  mkdirSync(path.dirname(spec.pidFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    // Logs are appended across restarts; the marker lets failures show only this run's lines.
    writeSync(fd, `${START_MARKER} ${new Date().toISOString()} ${spec.command}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) {
      throw new Error(`could not start ${spec.command}`);
    }
    // Without this the CLI would wait for the service to exit before returning.
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM means it exists but belongs to someone else: still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A process killed by SIGKILL is gone only once *all* its threads are: a JVM's main thread
  // shows as a zombie while the others still hold its sockets. An exited process that was not
  // reaped yet (its parent is not us) still answers signal 0, so /proc decides.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state !== 'Z') return true;
    return readdirSync(`/proc/${pid}/task`).some((tid) => tid !== String(pid));
  } catch {
    // No /proc (not Linux) or the process vanished between the two reads.
    return existsSync(`/proc/${pid}`) || process.platform !== 'linux';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // The service is its own group leader (detached), so -pid reaches its children too.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  graceMs?: number;
}

/**
 * Stops exactly the process recorded in the pid file (and its group): the given signal
 * first, SIGKILL once the grace period is over. Returns whether something was running.
 */
export async function stopByPidFile(pidFile: string, options: StopOptions = {}): Promise<boolean> {
  const pid = readPid(pidFile);
  if (pid === undefined) return false;
  const wasAlive = isAlive(pid);
  if (wasAlive) {
    signalGroup(pid, options.signal ?? 'SIGTERM');
    const deadline = Date.now() + (options.graceMs ?? 15_000);
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      signalGroup(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
  }
  rmSync(pidFile, { force: true });
  return wasAlive;
}

/** The last lines of a service log, printed when it fails to become healthy. */
export function tailFile(file: string, lines = 30): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, 'utf8');
  const lastStart = text.lastIndexOf(START_MARKER);
  const run = lastStart >= 0 ? text.slice(lastStart) : text;
  return run.trimEnd().split('\n').slice(-lines).join('\n');
}
