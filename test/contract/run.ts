/**
 * `npm run contract -- <base URL> [st run options]`: the contract tests against any running
 * instance, with a fresh random seed unless `--seed` is given, e.g.
 *   npm run contract -- http://127.0.0.1:8000 --max-examples 500 --max-time 900
 * Exits with Schemathesis' exit code (0: no failure, no warning).
 */
import { runSchemathesis } from './schemathesis.ts';

const [baseUrl, ...extraArgs] = process.argv.slice(2);
if (!baseUrl || !/^https?:\/\//.test(baseUrl)) {
  console.error('usage: npm run contract -- http://HOST:PORT [st run options]');
  process.exit(64);
}
const result = await runSchemathesis({
  baseUrl,
  extraArgs,
  onOutput: (chunk) => process.stdout.write(chunk),
});
process.exitCode = result.exitCode;
