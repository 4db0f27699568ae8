import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// A stamp records what an artifact was built from. `install` compares it with the current
// pins, so a second run is a no-op and a version bump forces a rebuild.

export function stampMatches(file: string, expected: Record<string, string>): boolean {
  if (!existsSync(file)) return false;
  try {
    const actual = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return Object.entries(expected).every(([key, value]) => actual[key] === value);
  } catch {
    return false;
  }
}

export function writeStamp(file: string, values: Record<string, string>): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ ...values, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
}
