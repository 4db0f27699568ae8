/**
 * `promtool check metrics`, the check Prometheus' own text parser applies to a scraped page.
 * promtool ships in Debian's prometheus package, the one the native services install; when it
 * is missing it is installed the same way (apt, as root), or the test says how to get it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { prometheusBinary } from '../../stack/prometheus.ts';
import { PROMETHEUS_APT_PACKAGE } from '../../stack/versions.ts';

let found: string | undefined;
const onPath = () => prometheusBinary('promtool');

/** The promtool binary, installed with apt first if it is missing and the tests run as root. */
export function promtool(): string {
  found ??= onPath();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `promtool is not installed. Run: sudo apt-get install -y ${PROMETHEUS_APT_PACKAGE}`,
    );
  }
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', PROMETHEUS_APT_PACKAGE], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  // The package may start its own service; the tests need only the binary.
  spawnSync('systemctl', ['disable', '--now', 'prometheus'], { stdio: 'ignore' });
  found = onPath();
  if (!found) throw new Error(`apt installed ${PROMETHEUS_APT_PACKAGE} but no promtool was found`);
  return found;
}

/** Runs `promtool check metrics` on `page`; the problems it reports, empty when it accepts it. */
export function checkMetrics(page: string | Buffer): string {
  const result = spawnSync(promtool(), ['check', 'metrics'], { input: page, encoding: 'utf8' });
  if (result.error) throw result.error;
  return result.status === 0
    ? ''
    : `${result.stdout}${result.stderr}`.trim() || `exit ${result.status}`;
}
