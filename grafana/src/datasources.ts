/**
 * The datasources provisioning file (grafana/provisioning/datasources/datasources.yaml) as code:
 * Prometheus, Loki and Jaeger, with every pivot between them built from the queries of
 * queries.ts, so the tests that parse and run those queries cover the links too.
 *
 * Pivots (Grafana 11.6):
 * - log line -> its trace: a Loki derived field on the `trace_id` structured metadata, an
 *   internal link to the Jaeger datasource (the query is the trace id).
 * - log line -> logs of the same trace or request: derived fields whose URL opens Explore on
 *   Loki with the LogQL in the URL itself (internal derived-field links serve only tracing
 *   datasources, and lose a Loki query).
 * - log line -> its route's metrics: correlations from the line's JSON to PromQL.
 * - span -> logs of its trace (tracesToLogsV2, custom LogQL) and -> its route's metrics
 *   (tracesToMetrics, `http.route` mapped to the `http_route` label).
 *
 * Grafana expands environment variables in provisioning files, so every literal `$` is written
 * `$$` when the file is rendered.
 */
import YAML from 'yaml';
import { exploreLogsUrl } from './panels.ts';
import {
  CORRELATIONS,
  DATASOURCES,
  DERIVED_FIELD_LOGQL,
  TRACE_TO_LOGS,
  TRACE_TO_METRICS,
} from './queries.ts';
import type { NamedQuery } from './queries.ts';

export const DATASOURCES_FILE = new URL(
  '../provisioning/datasources/datasources.yaml',
  import.meta.url,
);

/** Regex transformations lifting fields out of an access log line (JSON) into variables. */
const FROM_LINE = {
  http_route: '"http_route":"([^"]+)"',
  http_response_status_code: '"http_response_status_code":(\\d+)',
} as const;

function correlation(
  label: string,
  description: string,
  query: NamedQuery,
  variables: (keyof typeof FROM_LINE)[],
) {
  return {
    targetUID: DATASOURCES.prometheus.uid,
    label,
    description,
    config: {
      type: 'query',
      field: 'Line',
      target: { expr: query.expr, legendFormat: query.legend },
      transformations: variables.map((name) => ({
        type: 'regex',
        field: 'Line',
        expression: FROM_LINE[name],
        mapValue: name,
      })),
    },
  };
}

/** A derived field opening Explore on Loki with `query`, over the last day. */
function logsDerivedField(name: string, label: string, query: NamedQuery, display: string) {
  return {
    name,
    matcherType: 'label',
    matcherRegex: label,
    url: exploreLogsUrl(query, { from: 'now-24h', to: 'now' }),
    urlDisplayLabel: display,
    targetBlank: false,
  };
}

/** The provisioning document, before `$` escaping. */
export function datasourcesProvisioning() {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        uid: DATASOURCES.prometheus.uid,
        type: DATASOURCES.prometheus.type,
        access: 'proxy',
        url: 'http://prometheus:9090',
        isDefault: true,
        editable: false,
        jsonData: {
          timeInterval: '15s',
          httpMethod: 'POST',
          prometheusType: 'Prometheus',
        },
      },
      {
        name: 'Loki',
        uid: DATASOURCES.loki.uid,
        type: DATASOURCES.loki.type,
        access: 'proxy',
        url: 'http://loki:3100',
        editable: false,
        jsonData: {
          maxLines: 1000,
          derivedFields: [
            {
              name: 'Trace',
              matcherType: 'label',
              matcherRegex: 'trace_id',
              datasourceUid: DATASOURCES.jaeger.uid,
              url: '${__value.raw}',
              urlDisplayLabel: 'Open this trace in Jaeger',
            },
            logsDerivedField(
              'Trace logs',
              'trace_id',
              DERIVED_FIELD_LOGQL.traceLogs,
              'All logs of this trace',
            ),
            logsDerivedField(
              'Request logs',
              'request_id',
              DERIVED_FIELD_LOGQL.requestLogs,
              'All logs of this request',
            ),
          ],
        },
        correlations: [
          correlation(
            'Request rate of this route',
            "Requests per second of the line's route, by status code.",
            CORRELATIONS.routeRequestRate,
            ['http_route'],
          ),
          correlation(
            'Latency p95 of this route',
            "95th percentile duration of the line's route, from the request histogram.",
            CORRELATIONS.routeLatency,
            ['http_route'],
          ),
          correlation(
            'Rate of this route and status',
            'Requests per second with the same route and status code as the line.',
            CORRELATIONS.routeStatusRate,
            ['http_route', 'http_response_status_code'],
          ),
        ],
      },
      {
        name: 'Jaeger',
        uid: DATASOURCES.jaeger.uid,
        type: DATASOURCES.jaeger.type,
        access: 'proxy',
        url: 'http://jaeger:16686',
        editable: false,
        jsonData: {
          nodeGraph: { enabled: true },
          tracesToLogsV2: {
            datasourceUid: DATASOURCES.loki.uid,
            // Log records are written while the span is open; a minute either side covers
            // clock differences and the access record written when the response closes.
            spanStartTimeShift: '-1m',
            spanEndTimeShift: '1m',
            filterByTraceID: false,
            filterBySpanID: false,
            customQuery: true,
            query: TRACE_TO_LOGS.expr,
          },
          tracesToMetrics: {
            datasourceUid: DATASOURCES.prometheus.uid,
            spanStartTimeShift: '-15m',
            spanEndTimeShift: '15m',
            tags: [{ key: 'http.route', value: 'http_route' }],
            queries: [
              { name: 'Request rate of this route', query: TRACE_TO_METRICS.routeRequestRate.expr },
              { name: 'Latency p95 of this route', query: TRACE_TO_METRICS.routeLatency.expr },
              {
                name: '5xx share of this route',
                query: TRACE_TO_METRICS.routeServerErrorShare.expr,
              },
            ],
          },
        },
      },
    ],
  };
}

const HEADER = ` Generated by \`npm run dashboards\` from grafana/src/datasources.ts; do not edit.
 Grafana datasources for the compose demo, provisioned at start-up (read-only in the UI).
 Grafana expands environment variables in this file, so every literal $ is written $$.
 The uids are fixed because the dashboards (grafana/dashboards/*.json) refer to them.`;

/** Exactly the bytes committed: `$` escaped for Grafana's env expansion, a header comment. */
export function renderDatasources(): string {
  const escaped = JSON.parse(JSON.stringify(datasourcesProvisioning()), (_key, value: unknown) =>
    typeof value === 'string' ? value.replaceAll('$', '$$$$') : value,
  ) as unknown;
  const document = new YAML.Document(escaped);
  document.commentBefore = HEADER;
  return document.toString({ lineWidth: 0, singleQuote: true });
}
