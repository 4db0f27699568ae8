/**
 * `npm run dashboards`: writes grafana/dashboards/*.json from the TypeScript definitions.
 * The JSON is committed so Grafana (and reviewers) need no build step; a unit test fails when
 * it is stale.
 */
import { writeFileSync } from 'node:fs';
import { DASHBOARDS, DASHBOARDS_DIR, render } from './dashboards.ts';

for (const { file, build } of DASHBOARDS) {
  const target = new URL(file, DASHBOARDS_DIR);
  writeFileSync(target, render(build()));
  console.log(`wrote grafana/dashboards/${file}`);
}
