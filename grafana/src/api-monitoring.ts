/** "API monitoring": traffic, errors and latency of the shop API, next to its access logs. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  CustomVariableBuilder,
  DashboardBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboardLink,
  logMetrics,
  logs,
  logsLink,
  lokiVariable,
  promVariable,
  stat,
  timeseries,
  traceSearch,
} from './panels.ts';
import {
  API,
  DATA_LINK_LOGQL,
  DATASOURCES,
  K6,
  TRACE_SEARCHES,
  VARIABLE_QUERIES,
} from './queries.ts';

export const API_MONITORING_UID = 'api-monitoring';

// Metric panels link to the access logs of the clicked series: the route (and status) label
// of the series fills the LogQL filter. There are no exemplars (the JS Prometheus exporter
// emits none), so this label-based pivot is how a spike leads to the requests behind it.
const routeLogs = logsLink('Access logs for this route', DATA_LINK_LOGQL.accessLogsForRoute);
const routeStatusLogs = logsLink(
  'Access logs for this route and status',
  DATA_LINK_LOGQL.accessLogsForRouteAndStatus,
);
const methodLogs = logsLink('Access logs for this method', DATA_LINK_LOGQL.accessLogsForMethod);

// The last row puts k6's own results (remote write, one `testid` per run) beside the API's
// histogram over the same time range: what the load generator measured next to what the server
// measured.

// Jaeger matches a tag exactly, so the trace searches take one route rather than the regex of
// `route`, one 5xx status, and "slow" as a duration in Jaeger's syntax.
function traceRouteVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder('trace_route')
    .label('Route (traces)')
    .datasource(DATASOURCES.prometheus)
    .query(VARIABLE_QUERIES.traceRoute)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

function traceStatusVariable(): CustomVariableBuilder {
  return new CustomVariableBuilder('trace_status')
    .label('Status (traces)')
    .values('500,502,503,504')
    .current({ text: '500', value: '500' });
}

function slowDurationVariable(): CustomVariableBuilder {
  return new CustomVariableBuilder('slow_duration')
    .label('Slow above')
    .values('250ms,500ms,1s,2s')
    .current({ text: '500ms', value: '500ms' });
}

export function apiMonitoringDashboard(): Dashboard {
  return new DashboardBuilder('API monitoring')
    .uid(API_MONITORING_UID)
    .description('Request rate, errors and latency of the shop API, with its access logs.')
    .tags(['shop-api', 'opentelemetry'])
    .time({ from: 'now-30m', to: 'now' })
    .refresh('30s')
    .readonly()
    .link(dashboardLink('Log pipeline', 'log-pipeline'))
    .withVariable(promVariable('job', 'Job', VARIABLE_QUERIES.job))
    .withVariable(
      promVariable('route', 'Route', VARIABLE_QUERIES.route, { multi: true, allValue: '.*' }),
    )
    .withVariable(lokiVariable('service', 'Service (logs)', VARIABLE_QUERIES.service, 'shop-api'))
    .withVariable(promVariable('testid', 'k6 test id', VARIABLE_QUERIES.testid))
    .withVariable(traceRouteVariable())
    .withVariable(traceStatusVariable())
    .withVariable(slowDurationVariable())
    .withRow(new RowBuilder('Overview'))
    .withPanel(
      stat('Requests per second', API.requestRateByMethod, {
        unit: 'reqps',
        description: 'All requests, every method, over the selected routes.',
        thresholds: [],
      }),
    )
    .withPanel(
      stat('Non-2xx responses', API.errorPercentage, {
        unit: 'percent',
        description: 'Share of responses that are not 2xx (client and server errors).',
        thresholds: [
          [5, 'orange'],
          [20, 'red'],
        ],
      }),
    )
    .withPanel(
      stat('5xx responses', API.serverErrorPercentage, {
        unit: 'percent',
        description: 'Share of responses that are server errors.',
        thresholds: [
          [1, 'orange'],
          [5, 'red'],
        ],
      }),
    )
    .withPanel(
      stat('Orders created', API.ordersCreated, {
        unit: 'ops',
        description: 'Business throughput: orders accepted per second.',
        thresholds: [],
      }),
    )
    .withRow(new RowBuilder('Traffic'))
    .withPanel(
      timeseries('Request rate by HTTP method', [API.requestRateByMethod], {
        unit: 'reqps',
        stacked: true,
        links: [methodLogs],
        description: 'From the http.server.request.duration histogram count.',
      }),
    )
    .withPanel(
      timeseries('Requests per endpoint', [API.requestRateByRoute], {
        unit: 'reqps',
        links: [routeLogs],
        description:
          'By route template (e.g. /users/:id). Unknown paths have no route and show as one series.',
      }),
    )
    .withRow(new RowBuilder('Errors'))
    .withPanel(
      timeseries('Non-2xx responses by route and status', [API.errorRateByRouteAndStatus], {
        unit: 'reqps',
        links: [routeStatusLogs, routeLogs],
        description: 'Click a series to open the matching access logs in Explore.',
      }),
    )
    .withPanel(
      timeseries('Error percentage', [API.errorPercentage, API.serverErrorPercentage], {
        unit: 'percent',
        description: 'Non-2xx and 5xx responses as a share of all requests.',
      }),
    )
    .withRow(new RowBuilder('Latency'))
    .withPanel(
      timeseries(
        'Latency p50 / p95 / p99 by route',
        [API.latencyP50, API.latencyP95, API.latencyP99],
        {
          unit: 's',
          width: 24,
          links: [routeLogs],
          description:
            'Quantiles estimated from the histogram buckets; precision is bounded by the bucket edges.',
        },
      ),
    )
    .withRow(new RowBuilder('Traces'))
    .withPanel(
      traceSearch(
        'Failed requests of the route (traces)',
        TRACE_SEARCHES.failed,
        'Traces of the route answered with the selected 5xx status. The Collector keeps every such trace. Click a trace id for the trace, then a span for its logs and its route metrics.',
      ),
    )
    .withPanel(
      traceSearch(
        'Slow requests of the route (traces)',
        TRACE_SEARCHES.slow,
        'Traces of the route slower than the selected duration. The Collector keeps every trace above its slow threshold (TRACES_SLOW_THRESHOLD_MS) and a share of the rest (TRACES_KEPT_PERCENT), so faster ones appear only sampled.',
      ),
    )
    .withRow(new RowBuilder('Logs'))
    .withPanel(
      logMetrics(
        'Log volume by type',
        [API.logVolumeByType],
        'Log lines per interval in Loki, by log type.',
      ),
    )
    .withPanel(
      logs(
        'Error logs',
        API.errorLogs,
        'Unexpected failures with exception type, message and stack trace.',
      )
        .span(12)
        .height(8),
    )
    .withPanel(
      logs(
        'API access logs',
        API.accessLogs,
        'One line per request. Open a line for its trace id and request id, and for links to the route metrics.',
      ),
    )
    .withRow(new RowBuilder('Load test (k6)'))
    .withPanel(
      timeseries('Requests per second: k6 sent, API served', [K6.requestRate, K6.apiRequestRate], {
        unit: 'reqps',
        width: 8,
        description:
          'k6 counts the requests of its visits (test id above); the API counts every request it served, other traffic included.',
      }),
    )
    .withPanel(
      timeseries(
        'Latency: k6 (client) and API (server)',
        [K6.latencyMean, K6.apiLatencyMean, K6.apiLatencyP95, K6.latencyP95],
        {
          unit: 's',
          width: 8,
          description:
            'Means over each interval from both sides; the API p95 from its histogram; k6 sends its p95 per route over the run so far, shown for the slowest route.',
        },
      ),
    )
    .withPanel(
      timeseries('Failed requests: k6 and API', [K6.failurePercentage, K6.apiFailurePercentage], {
        unit: 'percent',
        width: 8,
        description:
          'k6: responses outside 200-399 and requests without a response. API: 4xx and 5xx responses.',
      }),
    )
    .build();
}
