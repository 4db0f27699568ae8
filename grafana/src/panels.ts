/** Small wrappers over the foundation SDK builders, so dashboards read as a list of panels. */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardLinkBuilder,
  DashboardLinkType,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as LogsPanelBuilder } from '@grafana/grafana-foundation-sdk/logs';
import { DataqueryBuilder as LokiQueryBuilder } from '@grafana/grafana-foundation-sdk/loki';
import { DataqueryBuilder as PromQueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { DATASOURCES } from './queries.ts';
import type { NamedQuery, TRACE_SEARCHES } from './queries.ts';

const REF_IDS = 'ABCDEFGHIJ';

function promTarget(query: NamedQuery, index: number): PromQueryBuilder {
  if (query.language !== 'promql') throw new Error(`${query.id} is not PromQL`);
  return new PromQueryBuilder()
    .refId(REF_IDS[index] ?? `Q${index}`)
    .datasource(DATASOURCES.prometheus)
    .expr(query.expr)
    .legendFormat(query.legend ?? '__auto')
    .range();
}

function lokiTarget(query: NamedQuery, index: number): LokiQueryBuilder {
  if (query.language !== 'logql') throw new Error(`${query.id} is not LogQL`);
  const target = new LokiQueryBuilder()
    .refId(REF_IDS[index] ?? `Q${index}`)
    .datasource(DATASOURCES.loki)
    .expr(query.expr);
  return query.legend === undefined ? target : target.legendFormat(query.legend);
}

export interface TimeseriesOptions {
  unit?: string;
  description?: string;
  links?: DashboardLinkBuilder[];
  width?: number;
  stacked?: boolean;
}

export function timeseries(
  title: string,
  queries: readonly NamedQuery[],
  options: TimeseriesOptions = {},
): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder()
    .title(title)
    .datasource(DATASOURCES.prometheus)
    .unit(options.unit ?? 'short')
    .span(options.width ?? 12)
    .height(8)
    .fillOpacity(10)
    .lineWidth(1)
    .targets(queries.map(promTarget));
  if (options.description) panel.description(options.description);
  if (options.links) panel.dataLinks(options.links);
  if (options.stacked) {
    panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  }
  return panel;
}

/** A time series panel over LogQL metric queries (Loki computes the series). */
export function logMetrics(
  title: string,
  queries: readonly NamedQuery[],
  description: string,
): TimeseriesPanelBuilder {
  return new TimeseriesPanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCES.loki)
    .unit('short')
    .span(12)
    .height(8)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(60)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .targets(queries.map(lokiTarget));
}

export function stat(
  title: string,
  query: NamedQuery,
  options: { unit: string; description: string; thresholds: [number, string][] },
): StatPanelBuilder {
  return new StatPanelBuilder()
    .title(title)
    .description(options.description)
    .datasource(DATASOURCES.prometheus)
    .unit(options.unit)
    .span(6)
    .height(4)
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .thresholds(
      new ThresholdsConfigBuilder()
        .mode(ThresholdsMode.Absolute)
        .steps([
          { value: null, color: 'green' },
          ...options.thresholds.map(([value, color]) => ({ value, color })),
        ]),
    )
    .noValue('0')
    .withTarget(promTarget(query, 0));
}

/**
 * A Jaeger datasource search target. The foundation SDK has no Jaeger query type; this is the
 * query model of Grafana's Jaeger datasource (`queryType: 'search'`), which it turns into
 * Jaeger's GET /api/traces?service=&tags=&minDuration=.
 */
class JaegerSearchTarget implements cog.Builder<cog.Dataquery> {
  readonly #search: (typeof TRACE_SEARCHES)[keyof typeof TRACE_SEARCHES];
  constructor(search: (typeof TRACE_SEARCHES)[keyof typeof TRACE_SEARCHES]) {
    this.#search = search;
  }
  build(): cog.Dataquery {
    const { service, tags, minDuration } = this.#search;
    const query = {
      refId: 'A',
      datasource: DATASOURCES.jaeger,
      queryType: 'search',
      service,
      tags,
      limit: 20,
      ...(minDuration ? { minDuration } : {}),
    };
    return query as unknown as cog.Dataquery;
  }
}

/** A table of the traces a Jaeger search finds; each trace id links to the trace view. */
export function traceSearch(
  title: string,
  search: (typeof TRACE_SEARCHES)[keyof typeof TRACE_SEARCHES],
  description: string,
): TablePanelBuilder {
  return new TablePanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCES.jaeger)
    .span(12)
    .height(8)
    .withTarget(new JaegerSearchTarget(search));
}

export function logs(title: string, query: NamedQuery, description: string): LogsPanelBuilder {
  return new LogsPanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCES.loki)
    .span(24)
    .height(12)
    .showTime(true)
    .wrapLogMessage(true)
    .prettifyLogMessage(false)
    .enableLogDetails(true)
    .sortOrder(common.LogsSortOrder.Descending)
    .withTarget(lokiTarget(query, 0));
}

export function promVariable(
  name: string,
  label: string,
  query: string,
  options: { multi?: boolean; allValue?: string } = {},
): QueryVariableBuilder {
  const variable = new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCES.prometheus)
    .query(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .includeAll(true)
    .allValue(options.allValue ?? '.+')
    .current({ text: 'All', value: '$__all' });
  return options.multi ? variable.multi(true) : variable;
}

export function lokiVariable(
  name: string,
  label: string,
  query: string,
  fallback: string,
): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCES.loki)
    .query(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .current({ text: fallback, value: fallback });
}

/** Grafana variables in a data link URL: `${name}`, `$name`. */
const LINK_VARIABLE = /\$\{([\w.]+)\}|\$(\w+)/g;

/**
 * An Explore URL running `query` on Loki over `range` (by default the panel's time range).
 * Literal text is percent-encoded here; variables are left for Grafana to fill in when the link
 * is clicked, percent-encoded too (`:percentencode`) so a value can never break out of the URL.
 */
export function exploreLogsUrl(
  query: NamedQuery,
  range: { from: string; to: string } = { from: '${__from}', to: '${__to}' },
): string {
  const panes = {
    logs: {
      datasource: DATASOURCES.loki.uid,
      queries: [{ refId: 'A', datasource: DATASOURCES.loki, expr: query.expr, editorMode: 'code' }],
      range,
    },
  };
  const json = JSON.stringify(panes);
  let url = '';
  let last = 0;
  for (const match of json.matchAll(LINK_VARIABLE)) {
    const name = match[1] ?? match[2] ?? '';
    url += encodeURIComponent(json.slice(last, match.index));
    url +=
      name.startsWith('__from') || name.startsWith('__to')
        ? `\${${name}}`
        : `\${${name}:percentencode}`;
    last = match.index + match[0].length;
  }
  url += encodeURIComponent(json.slice(last));
  return `/explore?schemaVersion=1&orgId=1&panes=${url}`;
}

export function logsLink(title: string, query: NamedQuery): DashboardLinkBuilder {
  return new DashboardLinkBuilder(title).url(exploreLogsUrl(query)).targetBlank(false);
}

export function dashboardLink(title: string, tag: string): DashboardLinkBuilder {
  return new DashboardLinkBuilder(title)
    .type(DashboardLinkType.Dashboards)
    .tags([tag])
    .asDropdown(false)
    .includeVars(false)
    .keepTime(true);
}
