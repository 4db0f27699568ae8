/**
 * `npm run dashboards`: writes grafana/dashboards/*.json and the datasources provisioning file
 * (grafana/provisioning/datasources/datasources.yaml) from the TypeScript definitions.
 * The JSON is committed so Grafana (and reviewers) need no build step; a unit test fails when
 * it is stale.
 */
import { writeFileSync } from 'node:fs';
import { DASHBOARDS, DASHBOARDS_DIR, render } from './dashboards.ts';
import { DATASOURCES_FILE, renderDatasources } from './datasources.ts';

for (const { file, build } of DASHBOARDS) {
  const target = new URL(file, DASHBOARDS_DIR);
  writeFileSync(target, render(build()));
  console.log(`wrote grafana/dashboards/${file}`);
}
writeFileSync(DATASOURCES_FILE, renderDatasources());
console.log('wrote grafana/provisioning/datasources/datasources.yaml');
