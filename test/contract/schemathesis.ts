/**
 * Runs Schemathesis (the locked version from stack/tools/requirements.txt, installed under
 * the cache by the stack) against a running API's /openapi.json with every check
 * and every phase, using this directory's schemathesis.toml.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, installPythonTools, pythonToolPath } from '../../stack/index.ts';

export const CONFIG_FILE = join(import.meta.dirname, 'schemathesis.toml');

/** Working directory of the run: Hypothesis keeps files in it (git-ignored, like all of .cache). */
const WORK_DIR = join(import.meta.dirname, '..', '..', '.cache', 'schemathesis');

export const PHASES = ['examples', 'coverage', 'fuzzing', 'stateful'] as const;

export interface ContractRunOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8000`; the document is read from /openapi.json. */
  baseUrl: string;
  /** Hypothesis seed; omitted, every run draws different cases. */
  seed?: number;
  /** Cases per operation in the fuzzing and stateful phases (coverage generates all it knows). */
  maxExamples?: number;
  /** Further `st run` options, passed as given (e.g. `--max-time 600`). */
  extraArgs?: string[];
  /** Where Schemathesis' output goes as it runs; it is returned in full as well. */
  onOutput?: (chunk: string) => void;
}

export interface ContractRunResult {
  exitCode: number;
  output: string;
  /** From the summary line `N generated, ...`; undefined if the run stopped before it. */
  casesGenerated: number | undefined;
  /** Unique failures from the summary; 0 when it reports none. */
  failures: number;
}

/** Installs Schemathesis if needed and returns the path of its `st` executable. */
export async function schemathesisPath(): Promise<string> {
  const ctx = createContext();
  await installPythonTools(ctx);
  return pythonToolPath(ctx.config, 'st');
}

/**
 * One `st run` with all checks and phases. Resolves when it exits (exit code 0: no failure and
 * no warning); rejects only if it cannot be started.
 */
export async function runSchemathesis(options: ContractRunOptions): Promise<ContractRunResult> {
  const st = await schemathesisPath();
  const args = [
    '--config-file',
    CONFIG_FILE,
    'run',
    new URL('/openapi.json', options.baseUrl).href,
    '--checks',
    'all',
    '--phases',
    PHASES.join(','),
    '--no-color',
    ...(options.seed === undefined ? [] : ['--seed', String(options.seed)]),
    ...(options.maxExamples === undefined ? [] : ['--max-examples', String(options.maxExamples)]),
    ...(options.extraArgs ?? []),
  ];
  mkdirSync(WORK_DIR, { recursive: true });
  const child = spawn(st, args, { cwd: WORK_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    options.onOutput?.(text);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const generated = /(\d+) generated/.exec(output)?.[1];
  const failures = /(\d+) unique failures?/.exec(output)?.[1];
  return {
    exitCode,
    output,
    casesGenerated: generated === undefined ? undefined : Number(generated),
    failures: failures === undefined ? 0 : Number(failures),
  };
}
