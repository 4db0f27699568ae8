/**
 * Copies the committed benchmark and fault results into the README between their markers, so
 * the README quotes exactly what the scripts wrote (`npm run readme:results`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultResult } from '../test/faults/support.ts';

const ROOT = join(import.meta.dirname, '..');
const README = join(ROOT, 'README.md');

function faultsTable(): string | undefined {
  const file = join(ROOT, 'bench/results/faults.json');
  if (!existsSync(file)) return undefined;
  const results = JSON.parse(readFileSync(file, 'utf8')) as FaultResult[];
  return [
    '| fault | fault s | requests (rate/s) | stored | lost | duplicated | recovery s | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map(
      (r) =>
        `| ${r.fault} | ${r.faultSeconds} | ${r.requests} (${r.ratePerSecond}) | ${r.stored} | ${r.lost} | ` +
        `${r.duplicated} | ${r.recoverySeconds} | ${r.note ?? ''} |`,
    ),
  ].join('\n');
}

const sections: Record<string, () => string | undefined> = {
  'bench:api': () => read('bench/results/api.md'),
  'bench:pipeline': () => read('bench/results/pipeline.md'),
  'bench:pipeline-scaling': () => read('bench/results/pipeline-scaling.md'),
  'bench:soak': () => read('bench/results/soak.md'),
  faults: faultsTable,
};

function read(path: string): string | undefined {
  const file = join(ROOT, path);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

let readme = readFileSync(README, 'utf8');
for (const [marker, render] of Object.entries(sections)) {
  const content = render();
  if (content === undefined) continue;
  const pattern = new RegExp(`(<!-- ${marker} -->\\n)[\\s\\S]*?(\\n<!-- /${marker} -->)`);
  readme = readme.replace(
    pattern,
    (_, open: string, close: string) => `${open}\n${content}\n${close}`,
  );
}
writeFileSync(README, readme);
console.log('README results updated');
