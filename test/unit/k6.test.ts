// The k6 scripts type-checked against @types/k6 (a misspelt option, a wrong executor field, a
// bad import), and the choice of k6 binary. A type check is not a run: the integration suite runs
// every script with real k6 (test/integration/k6.test.ts).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { K6_TREND_STATS, findK6OnPath, k6VersionSupported } from '../../stack/loadtest.ts';

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

describe('choosing the k6 binary', () => {
  let dir: string;

  /** A directory holding a stand-in `k6` that prints `output` for `k6 version`. */
  function fakeK6(name: string, output: string): string {
    const bin = path.join(dir, name);
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'k6'), `#!/bin/sh\necho '${output}'\n`);
    chmodSync(path.join(bin, 'k6'), 0o755);
    return bin;
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'k6-path-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts k6 1.1 and newer only', () => {
    expect(['1.1.0', '1.7.1', '2.0.0', '10.0.3'].map(k6VersionSupported)).to.deep.equal([
      true,
      true,
      true,
      true,
    ]);
    expect(['1.0.9', '0.57.0', '0.9.0'].map(k6VersionSupported)).to.deep.equal([
      false,
      false,
      false,
    ]);
  });

  it('uses a k6 on PATH whose `k6 version` reports a supported version', () => {
    const bin = fakeK6('new', 'k6 v1.7.1 (commit/abc, go1.25, linux/amd64)');
    const found = findK6OnPath(['/nonexistent', bin].join(path.delimiter), () => undefined);
    expect(found).to.deep.equal({ path: path.join(bin, 'k6'), version: '1.7.1', source: 'PATH' });
  });

  it('skips, and says so, a k6 on PATH that is too old or reports no version', () => {
    for (const output of ['k6 v0.57.0 (commit/abc)', 'not k6 at all']) {
      const bin = fakeK6(output.length.toString(), output);
      const logged: string[] = [];
      expect(findK6OnPath(bin, (line) => logged.push(line))).to.equal(undefined);
      expect(logged.join('\n')).to.match(
        /ignoring .*k6 \(version (0\.57\.0|unknown), need >= 1\.1\)/,
      );
    }
  });
});

describe('k6 in compose.yaml', () => {
  interface Service {
    image?: string;
    command?: string[];
    environment?: Record<string, string>;
    depends_on?: Record<string, { condition: string }>;
  }
  const compose = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, Service> };
  const k6 = compose.services.k6;

  it('sends k6 metrics to the compose Prometheus, which accepts remote write', () => {
    expect(compose.services.prometheus?.command).to.include('--web.enable-remote-write-receiver');
    expect(k6?.environment).to.include({
      K6_OUT: 'experimental-prometheus-rw',
      K6_PROMETHEUS_RW_SERVER_URL: 'http://prometheus:9090/api/v1/write',
      // The same statistics as natively, so the dashboard's k6 row works on both.
      K6_PROMETHEUS_RW_TREND_STATS: K6_TREND_STATS,
    });
    expect(k6?.depends_on?.prometheus).to.deep.equal({ condition: 'service_healthy' });
  });

  it('runs an official grafana/k6 image the scripts support', () => {
    const version = /^grafana\/k6:(\d+\.\d+\.\d+)$/.exec(k6?.image ?? '')?.[1];
    expect(version, k6?.image).to.be.a('string');
    expect(k6VersionSupported(version ?? '')).to.equal(true);
  });
});
