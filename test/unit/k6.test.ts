// The k6 scripts cannot run here (no k6 binary); type-checking them against @types/k6 is what
// catches a misspelt option, a wrong executor field or a bad import before a load test does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
const LOADTEST = path.join(ROOT, 'loadtest');

function tsc(project: string): { status: number | null; output: string } {
  const result = spawnSync(TSC, ['--noEmit', '--pretty', 'false', '-p', project], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('k6 load test scripts', function () {
  this.timeout(60_000);

  it('has the four scenarios and the shared library', () => {
    const scripts = readdirSync(LOADTEST).filter((file) => file.endsWith('.ts'));
    expect(scripts).to.include.members([
      'lib.ts',
      'smoke.ts',
      'average-load.ts',
      'spike.ts',
      'soak.ts',
    ]);
  });

  it('type-check against @types/k6 without a single error', () => {
    const { status, output } = tsc(path.join(LOADTEST, 'tsconfig.json'));
    expect(output).to.equal('');
    expect(status).to.equal(0);
  });

  it('the same check rejects a script that misuses the k6 API', () => {
    // Proves the check above would catch a mistake: same compiler options, one bad script.
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-typecheck-'));
    try {
      writeFileSync(
        path.join(dir, 'bad.ts'),
        "import http from 'k6/http';\n" +
          "import type { Options } from 'k6/options';\n" +
          "export const options: Options = { vus: 'ten' };\n" +
          'export default function (): void { http.get(42); }\n',
      );
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: path.join(LOADTEST, 'tsconfig.json'),
          compilerOptions: { typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
          include: [path.join(dir, '*.ts')],
        }),
      );
      const { status, output } = tsc(path.join(dir, 'tsconfig.json'));
      expect(status).to.not.equal(0);
      expect(output).to.match(/bad\.ts\(3,.*TS2322/);
      expect(output).to.match(/bad\.ts\(4,.*TS2345/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
