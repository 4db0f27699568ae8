/** The dashboards as code, and the file each one is written to under grafana/dashboards/. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { apiMonitoringDashboard } from './api-monitoring.ts';
import { pipelineHealthDashboard } from './pipeline-health.ts';

export const DASHBOARDS_DIR = new URL('../dashboards/', import.meta.url);

export const DASHBOARDS: readonly { file: string; build: () => Dashboard }[] = [
  { file: 'api-monitoring.json', build: apiMonitoringDashboard },
  { file: 'log-pipeline-health.json', build: pipelineHealthDashboard },
];

/** Exactly the bytes committed for a dashboard: stable key order, trailing newline. */
export function render(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
