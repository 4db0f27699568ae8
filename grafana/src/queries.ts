/**
 * Every PromQL and LogQL expression the Grafana dashboards, data links and correlations use,
 * in one place so tests can parse them all and run the PromQL ones against a real Prometheus.
 *
 * Expressions keep Grafana's own variable syntax ($job, $__rate_interval, ${http_route}...):
 * they are exactly what ends up in the dashboard JSON. The provisioning file holds the
 * correlation and derived-field expressions too, with `$` doubled (Grafana expands env vars
 * there); a unit test checks both copies agree.
 */

/** Loki stream labels the consumer sets; anything else lives in the JSON line or metadata. */
export const LOKI_STREAM_LABELS = [
  'service_name',
  'log_type',
  'level',
  'deployment_environment',
] as const;

export const DATASOURCES = {
  prometheus: { type: 'prometheus', uid: 'prometheus' },
  loki: { type: 'loki', uid: 'loki' },
  jaeger: { type: 'jaeger', uid: 'jaeger' },
} as const;

export type QueryLanguage = 'promql' | 'logql';

export interface NamedQuery {
  readonly id: string;
  readonly language: QueryLanguage;
  readonly expr: string;
  /** Legend template for time series; Grafana's {{label}} syntax. */
  readonly legend?: string;
}

function promql(id: string, expr: string, legend?: string): NamedQuery {
  return legend === undefined
    ? { id, language: 'promql', expr }
    : { id, language: 'promql', expr, legend };
}

function logql(id: string, expr: string, legend?: string): NamedQuery {
  return legend === undefined
    ? { id, language: 'logql', expr }
    : { id, language: 'logql', expr, legend };
}

// --- API monitoring ------------------------------------------------------------------------

// `$route` is a multi-value variable whose "All" is `.*`; requests to unknown paths carry no
// http_route label, and `.*` matches the empty value, so they stay in the totals.
const HTTP = 'job=~"$job", http_route=~"$route"';
const NON_2XX = `${HTTP}, http_response_status_code!~"2.."`;

export const API = {
  requestRateByMethod: promql(
    'api.request_rate_by_method',
    `sum by (http_request_method) (rate(http_server_request_duration_count{${HTTP}}[$__rate_interval]))`,
    '{{http_request_method}}',
  ),
  requestRateByRoute: promql(
    'api.request_rate_by_route',
    `sum by (http_route) (rate(http_server_request_duration_count{${HTTP}}[$__rate_interval]))`,
    '{{http_route}}',
  ),
  errorRateByRouteAndStatus: promql(
    'api.error_rate_by_route_status',
    `sum by (http_route, http_response_status_code) (rate(http_server_request_duration_count{${NON_2XX}}[$__rate_interval]))`,
    '{{http_route}} {{http_response_status_code}}',
  ),
  // Non-2xx over all requests. With no error at all the numerator has no series and the
  // panel shows its "no value" text (0%) rather than an empty graph.
  errorPercentage: promql(
    'api.error_percentage',
    `100 * sum(rate(http_server_request_duration_count{${NON_2XX}}[$__rate_interval])) / sum(rate(http_server_request_duration_count{${HTTP}}[$__rate_interval]))`,
    'non-2xx %',
  ),
  serverErrorPercentage: promql(
    'api.server_error_percentage',
    `100 * sum(rate(http_server_request_duration_count{${HTTP}, http_response_status_code=~"5.."}[$__rate_interval])) / sum(rate(http_server_request_duration_count{${HTTP}}[$__rate_interval]))`,
    '5xx %',
  ),
  latencyP50: promql(
    'api.latency_p50',
    `histogram_quantile(0.5, sum by (le, http_route) (rate(http_server_request_duration_bucket{${HTTP}}[$__rate_interval])))`,
    'p50 {{http_route}}',
  ),
  latencyP95: promql(
    'api.latency_p95',
    `histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_bucket{${HTTP}}[$__rate_interval])))`,
    'p95 {{http_route}}',
  ),
  latencyP99: promql(
    'api.latency_p99',
    `histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_bucket{${HTTP}}[$__rate_interval])))`,
    'p99 {{http_route}}',
  ),
  ordersCreated: promql(
    'api.orders_created',
    'sum(rate(shop_orders_created_total{job=~"$job"}[$__rate_interval]))',
    'orders/s',
  ),
  // The access log stream of the service; `| json` exposes the line's fields for filtering.
  accessLogs: logql(
    'api.access_logs',
    '{service_name="$service", log_type="access"} | json | http_route=~"$route"',
  ),
  errorLogs: logql('api.error_logs', '{service_name="$service", log_type="error"}'),
  logVolumeByType: logql(
    'api.log_volume_by_type',
    'sum by (log_type) (count_over_time({service_name="$service"}[$__interval]))',
    '{{log_type}}',
  ),
} as const;

/**
 * Data links from metric panels to Explore. `${__field.labels.x}` is the label of the series
 * that was clicked; raw-string backticks keep a route's characters literal in LogQL.
 */
export const DATA_LINK_LOGQL = {
  accessLogsForRoute: logql(
    'link.access_logs_for_route',
    '{service_name="$service", log_type="access"} | json | http_route=`${__field.labels.http_route}`',
  ),
  accessLogsForRouteAndStatus: logql(
    'link.access_logs_for_route_status',
    '{service_name="$service", log_type="access"} | json | http_route=`${__field.labels.http_route}` | http_response_status_code=`${__field.labels.http_response_status_code}`',
  ),
  accessLogsForMethod: logql(
    'link.access_logs_for_method',
    '{service_name="$service", log_type="access"} | json | http_request_method=`${__field.labels.http_request_method}`',
  ),
} as const;

// --- k6 load tests, beside the API's own view ------------------------------------------------

// k6's Prometheus remote-write output (k6 run -o experimental-prometheus-rw; npm run loadtest)
// names its series k6_<metric>_<suffix>: counters end in _total, trends are sent as the
// statistics of K6_PROMETHEUS_RW_TREND_STATS (seconds). Every run carries a `testid` tag, and
// every request the `name` (route) and `phase` (setup or visit) tags of loadtest/lib.ts. The
// series and labels were read from a real k6 1.1 run; test/integration/k6-prometheus.test.ts
// runs these queries against one.
const K6_VISITS = 'testid=~"$testid", phase="visit"';
const API_JOB = 'job=~"$job"';

export const K6 = {
  requestRate: promql(
    'k6.request_rate',
    `sum(rate(k6_http_reqs_total{${K6_VISITS}}[$__rate_interval]))`,
    'k6 sent',
  ),
  apiRequestRate: promql(
    'k6.api_request_rate',
    `sum(rate(http_server_request_duration_count{${API_JOB}}[$__rate_interval]))`,
    'API served',
  ),
  // k6 sends trend percentiles as gauges over the run so far, one per tag set; they cannot be
  // aggregated, so the panel shows the slowest route's. The windowed mean comes from the
  // latency sum over the request counter.
  latencyP95: promql(
    'k6.latency_p95',
    `max(k6_http_req_duration_p95{${K6_VISITS}})`,
    'k6 p95, slowest route, run so far',
  ),
  latencyMean: promql(
    'k6.latency_mean',
    `sum(rate(k6_http_req_duration_sum{${K6_VISITS}}[$__rate_interval])) / sum(rate(k6_http_reqs_total{${K6_VISITS}}[$__rate_interval]))`,
    'k6 mean',
  ),
  apiLatencyP95: promql(
    'k6.api_latency_p95',
    `histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_bucket{${API_JOB}}[$__rate_interval])))`,
    'API p95',
  ),
  apiLatencyMean: promql(
    'k6.api_latency_mean',
    `sum(rate(http_server_request_duration_sum{${API_JOB}}[$__rate_interval])) / sum(rate(http_server_request_duration_count{${API_JOB}}[$__rate_interval]))`,
    'API mean',
  ),
  // k6 counts a request as failed outside 200-399 (expected_response="false"); the API side
  // counts 4xx and 5xx. With no failure the numerator has no series, hence `or vector(0)`.
  failurePercentage: promql(
    'k6.failure_percentage',
    `100 * (sum(rate(k6_http_reqs_total{${K6_VISITS}, expected_response="false"}[$__rate_interval])) or vector(0)) / sum(rate(k6_http_reqs_total{${K6_VISITS}}[$__rate_interval]))`,
    'k6 failed %',
  ),
  apiFailurePercentage: promql(
    'k6.api_failure_percentage',
    `100 * (sum(rate(http_server_request_duration_count{${API_JOB}, http_response_status_code=~"[45].."}[$__rate_interval])) or vector(0)) / sum(rate(http_server_request_duration_count{${API_JOB}}[$__rate_interval]))`,
    'API 4xx+5xx %',
  ),
} as const;

// --- Log pipeline health -------------------------------------------------------------------

const COLLECTOR = 'job=~"$collector"';
const CONSUMER = 'job=~"$consumer"';
const CANARY = 'job=~"$canary"';

/**
 * How much a counter grew over `window`, counting in full a series that appeared inside the
 * window. Loss counters (failed sends, dropped records) have no series until their first
 * event, and that first sample already holds it: increase() alone, which needs two samples,
 * would show 0 for the first burst of loss.
 */
function grownBy(selector: string, window: string): string {
  return `(${selector} unless ${selector} offset ${window}) or increase(${selector}[${window}])`;
}

const COLLECTOR_SEND_FAILED = 'otelcol_exporter_send_failed_log_records{job=~"$collector"}';
const SDK_DROPPED = 'otel_sdk_processor_log_processed_total{job=~"$api",error_type!=""}';
const SDK_EXPORT_FAILED = 'otel_sdk_exporter_log_exported_total{job=~"$api",error_type!=""}';

// The Collector (0.160.0) exposes its own counters without a `_total` suffix; the names below
// were read from a live :8888 and are checked against one by the integration test.
export const PIPELINE = {
  sdkLogsProcessed: promql(
    'pipeline.sdk_logs_processed',
    'sum by (error_type) (rate(otel_sdk_processor_log_processed_total{job=~"$api"}[$__rate_interval]))',
    'processed {{error_type}}',
  ),
  sdkLogsExported: promql(
    'pipeline.sdk_logs_exported',
    'sum by (error_type) (rate(otel_sdk_exporter_log_exported_total{job=~"$api"}[$__rate_interval]))',
    'exported {{error_type}}',
  ),
  sdkQueueSize: promql(
    'pipeline.sdk_queue_size',
    'max(otel_sdk_processor_log_queue_size{job=~"$api"})',
    'API batch queue',
  ),
  collectorAccepted: promql(
    'pipeline.collector_accepted',
    `sum by (receiver) (rate(otelcol_receiver_accepted_log_records{${COLLECTOR}}[$__rate_interval]))`,
    'accepted {{receiver}}',
  ),
  collectorRefused: promql(
    'pipeline.collector_refused',
    `sum by (receiver) (rate(otelcol_receiver_refused_log_records{${COLLECTOR}}[$__rate_interval]) + rate(otelcol_receiver_failed_log_records{${COLLECTOR}}[$__rate_interval]))`,
    'refused/failed {{receiver}}',
  ),
  collectorSent: promql(
    'pipeline.collector_sent',
    `sum by (exporter) (rate(otelcol_exporter_sent_log_records{${COLLECTOR}}[$__rate_interval]))`,
    'sent {{exporter}}',
  ),
  // send_failed only exists once an export has failed for good; until then show 0 per
  // exporter instead of "No data", which would look like a broken panel.
  collectorSendFailed: promql(
    'pipeline.collector_send_failed',
    `sum by (exporter) (rate(otelcol_exporter_send_failed_log_records{${COLLECTOR}}[$__rate_interval])) or 0 * sum by (exporter) (rate(otelcol_exporter_sent_log_records{${COLLECTOR}}[$__rate_interval]))`,
    'failed {{exporter}}',
  ),
  // Loss over the last hour, for the at-a-glance row; 0 (not "No data") while nothing was lost,
  // tied to a series that exists in a healthy pipeline so a renamed metric still shows.
  collectorDropped: promql(
    'pipeline.collector_dropped',
    `sum(${grownBy(COLLECTOR_SEND_FAILED, '1h')}) or 0 * sum(otelcol_exporter_sent_log_records{${COLLECTOR}})`,
    'dropped by the Collector',
  ),
  sdkDropped: promql(
    'pipeline.sdk_dropped',
    `sum(${grownBy(SDK_DROPPED, '1h')}) or 0 * sum(otel_sdk_processor_log_processed_total{job=~"$api"})`,
    'dropped by the SDK',
  ),
  sdkExportFailed: promql(
    'pipeline.sdk_export_failed',
    `sum(${grownBy(SDK_EXPORT_FAILED, '1h')}) or 0 * sum(otel_sdk_exporter_log_exported_total{job=~"$api"})`,
    'failed exports',
  ),
  collectorQueueSize: promql(
    'pipeline.collector_queue_size',
    `max by (exporter) (otelcol_exporter_queue_size{${COLLECTOR}})`,
    'queue {{exporter}}',
  ),
  collectorQueueCapacity: promql(
    'pipeline.collector_queue_capacity',
    `max by (exporter) (otelcol_exporter_queue_capacity{${COLLECTOR}})`,
    'capacity {{exporter}}',
  ),
  consumerConsumed: promql(
    'pipeline.consumer_consumed',
    `sum by (messaging_destination_name) (rate(log_consumer_records_consumed_total{${CONSUMER}}[$__rate_interval]))`,
    'consumed {{messaging_destination_name}}',
  ),
  consumerPushed: promql(
    'pipeline.consumer_pushed',
    `sum by (messaging_destination_name) (rate(log_consumer_records_pushed_total{${CONSUMER}}[$__rate_interval]))`,
    'pushed {{messaging_destination_name}}',
  ),
  consumerLag: promql(
    'pipeline.consumer_lag',
    `sum by (messaging_destination_name) (log_consumer_lag{${CONSUMER}})`,
    '{{messaging_destination_name}}',
  ),
  consumerAssignedPartitions: promql(
    'pipeline.consumer_assigned_partitions',
    `sum by (instance) (log_consumer_assigned_partitions{${CONSUMER}})`,
    '{{instance}}',
  ),
  consumerRetries: promql(
    'pipeline.consumer_retries',
    `sum by (error_type) (increase(log_consumer_push_retries_total{${CONSUMER}}[$__rate_interval]))`,
    'retries {{error_type}}',
  ),
  consumerDeadLettered: promql(
    'pipeline.consumer_dead_lettered',
    `sum by (messaging_destination_name, error_type) (increase(log_consumer_records_dead_lettered_total{${CONSUMER}}[$__rate_interval]))`,
    '{{messaging_destination_name}} {{error_type}}',
  ),
  consumerPushLatencyP50: promql(
    'pipeline.consumer_push_latency_p50',
    `histogram_quantile(0.5, sum by (le) (rate(log_consumer_push_duration_bucket{${CONSUMER}}[$__rate_interval])))`,
    'p50',
  ),
  consumerPushLatencyP99: promql(
    'pipeline.consumer_push_latency_p99',
    `histogram_quantile(0.99, sum by (le) (rate(log_consumer_push_duration_bucket{${CONSUMER}}[$__rate_interval])))`,
    'p99',
  ),
  consumerBatchSize: promql(
    'pipeline.consumer_batch_size_p50',
    `histogram_quantile(0.5, sum by (le) (rate(log_consumer_batch_size_bucket{${CONSUMER}}[$__rate_interval])))`,
    'median entries per push',
  ),
  canaryMissing: promql(
    'pipeline.canary_missing',
    `max(canary_records_missing{${CANARY}})`,
    'missing',
  ),
  // The duplicate counter appears only once a duplicate was seen; show 0 until then.
  canaryDuplicated: promql(
    'pipeline.canary_duplicated',
    `sum(increase(canary_records_duplicated_total{${CANARY}}[$__rate_interval])) or 0 * max(canary_records_missing{${CANARY}})`,
    'duplicated',
  ),
  canaryLatencyP50: promql(
    'pipeline.canary_latency_p50',
    `histogram_quantile(0.5, sum by (le) (rate(canary_e2e_latency_bucket{${CANARY}}[$__rate_interval])))`,
    'p50',
  ),
  canaryLatencyP99: promql(
    'pipeline.canary_latency_p99',
    `histogram_quantile(0.99, sum by (le) (rate(canary_e2e_latency_bucket{${CANARY}}[$__rate_interval])))`,
    'p99',
  ),
  consumerSinceLastPush: promql(
    'pipeline.consumer_since_last_push',
    `time() - max(log_consumer_last_push_time{${CONSUMER}} > 0)`,
    'seconds since last push',
  ),
  // Node components report their RSS as process_memory_usage (OTel semantic conventions), the
  // Collector as otelcol_process_memory_rss; one panel shows every stage side by side.
  memoryRss: promql(
    'pipeline.memory_rss',
    `sum by (job) (process_memory_usage{job=~"$api|$consumer|$canary"}) or sum by (job) (otelcol_process_memory_rss{${COLLECTOR}})`,
    '{{job}}',
  ),
  memoryHeapUsed: promql(
    'pipeline.memory_heap_used',
    'sum by (job) (nodejs_memory_usage{job=~"$api|$consumer|$canary", nodejs_memory_type="heap_used"})',
    '{{job}}',
  ),
  logVolumeByType: logql(
    'pipeline.loki_volume_by_type',
    'sum by (log_type) (count_over_time({service_name=~".+"}[$__interval]))',
    '{{log_type}}',
  ),
} as const;

// --- Loki datasource: correlations and derived fields ----------------------------------------

/**
 * Correlations provisioned on the Loki datasource: from a log line to the matching metrics.
 * `${http_route}` and `${http_response_status_code}` are filled from the line by regex
 * transformations (see grafana/provisioning/datasources/datasources.yaml).
 */
export const CORRELATIONS = {
  routeRequestRate: promql(
    'correlation.route_request_rate',
    'sum by (http_response_status_code) (rate(http_server_request_duration_count{http_route="${http_route}"}[$__rate_interval]))',
    '{{http_response_status_code}}',
  ),
  routeLatency: promql(
    'correlation.route_latency_p95',
    'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_bucket{http_route="${http_route}"}[$__rate_interval])))',
    'p95',
  ),
  routeStatusRate: promql(
    'correlation.route_status_rate',
    'sum(rate(http_server_request_duration_count{http_route="${http_route}", http_response_status_code="${http_response_status_code}"}[$__rate_interval]))',
    'requests/s',
  ),
} as const;

/**
 * Derived fields: `${__value.raw}` is the structured-metadata value of the clicked line. These
 * two open Explore on Loki through a URL that carries the query (datasources.ts): Grafana
 * 11.6's internal derived-field links target tracing datasources only, and build the query as
 * `{query: ...}` where Loki reads `expr`, so an internal Loki-to-Loki link opened an empty
 * editor.
 */
export const DERIVED_FIELD_LOGQL = {
  traceLogs: logql('derived.trace_logs', '{service_name=~".+"} | trace_id=`${__value.raw}`'),
  requestLogs: logql('derived.request_logs', '{service_name=~".+"} | request_id=`${__value.raw}`'),
} as const;

// --- Jaeger datasource: trace to logs, trace to metrics --------------------------------------

/**
 * Trace to logs (the Jaeger datasource's tracesToLogsV2 custom query): every log record of the
 * trace, by the trace id Grafana fills in. trace_id is structured metadata, hence a filter after
 * the stream selector rather than a stream label.
 */
export const TRACE_TO_LOGS = logql(
  'trace_to_logs',
  '{service_name=~".+"} | trace_id=`${__trace.traceId}`',
);

/**
 * Trace to metrics (tracesToMetrics): `$__tags` becomes the span's mapped tags as label matchers,
 * here `http_route="<the span's http.route>"`, so a server span links to its route's rate by
 * status, latency and share of 5xx. Grafana shifts the time range around the span.
 */
export const TRACE_TO_METRICS = {
  routeRequestRate: promql(
    'trace_to_metrics.route_request_rate',
    'sum by (http_response_status_code) (rate(http_server_request_duration_count{$__tags}[5m]))',
    '{{http_response_status_code}}',
  ),
  routeLatency: promql(
    'trace_to_metrics.route_latency_p95',
    'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_bucket{$__tags}[5m])))',
    'p95',
  ),
  routeServerErrorShare: promql(
    'trace_to_metrics.route_server_error_share',
    'sum(rate(http_server_request_duration_count{$__tags, http_response_status_code=~"5.."}[5m])) / sum(rate(http_server_request_duration_count{$__tags}[5m]))',
    '5xx share',
  ),
} as const;

/**
 * The dashboard's trace searches (Jaeger datasource, query type `search`), as Grafana sends them
 * to Jaeger's GET /api/traces: the service, the span tags as logfmt, and a minimum duration.
 * `${trace_route}` and `${trace_status}` are the dashboard's single-valued variables. Failed
 * requests are found by their status code, not by `error=true`: Jaeger 2.13's memory storage
 * reads the `error` tag as a boolean, the HTTP API hands it the string "true", and the search
 * then matches only spans whose status is Ok (measured against the native Jaeger).
 */
export const TRACE_SEARCHES = {
  failed: {
    id: 'traces.failed_requests',
    service: 'shop-api',
    tags: 'http.route="${trace_route}" http.response.status_code=${trace_status}',
    minDuration: '',
  },
  slow: {
    id: 'traces.slow_requests',
    service: 'shop-api',
    tags: 'http.route="${trace_route}"',
    minDuration: '${slow_duration}',
  },
} as const;

/** Dashboard variable queries (Grafana's label_values syntax, not PromQL itself). */
export const VARIABLE_QUERIES = {
  job: 'label_values(http_server_request_duration_count, job)',
  route: 'label_values(http_server_request_duration_count{job=~"$job"}, http_route)',
  traceRoute: 'label_values(http_server_request_duration_count{job=~"$job"}, http_route)',
  api: 'label_values(otel_sdk_processor_log_queue_size, job)',
  collector: 'label_values(otelcol_process_uptime, job)',
  consumer: 'label_values(log_consumer_records_consumed_total, job)',
  canary: 'label_values(canary_records_sent_total, job)',
  service: 'label_values(service_name)',
  testid: 'label_values(k6_http_reqs_total, testid)',
} as const;

export const ALL_QUERIES: readonly NamedQuery[] = [
  ...Object.values(API),
  ...Object.values(DATA_LINK_LOGQL),
  ...Object.values(K6),
  ...Object.values(PIPELINE),
  ...Object.values(CORRELATIONS),
  ...Object.values(DERIVED_FIELD_LOGQL),
  TRACE_TO_LOGS,
  ...Object.values(TRACE_TO_METRICS),
];

export const PROMQL_QUERIES = ALL_QUERIES.filter((query) => query.language === 'promql');
export const LOGQL_QUERIES = ALL_QUERIES.filter((query) => query.language === 'logql');

/** Example values for every variable the expressions use, for parsing them in tests. */
export const EXAMPLE_VARIABLES: Readonly<Record<string, string>> = {
  job: 'api',
  api: 'api',
  collector: 'otel-collector',
  consumer: 'log-consumer',
  canary: 'canary',
  route: '.*',
  service: 'shop-api',
  testid: '.+',
  __rate_interval: '1m',
  __interval: '30s',
  __from: '1700000000000',
  __to: '1700000600000',
  '__field.labels.http_route': '/users/:id',
  '__field.labels.http_request_method': 'GET',
  '__field.labels.http_response_status_code': '500',
  '__value.raw': '0af7651916cd43dd8448eb211c80319c',
  http_route: '/users/:id',
  http_response_status_code: '500',
  '__trace.traceId': '0af7651916cd43dd8448eb211c80319c',
  __tags: 'http_route="/users/:id"',
  trace_route: '/users/:id',
  trace_status: '500',
  slow_duration: '500ms',
};

/**
 * Replaces Grafana variables (`$name`, `${name}`, `${name:format}`) with values; throws on
 * a variable with no value, so a new variable cannot slip past the tests unsubstituted.
 */
export function substituteVariables(
  expr: string,
  values: Readonly<Record<string, string>>,
): string {
  return expr.replace(
    /\$\{([\w.]+)(?::\w+)?\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = values[name];
      if (value === undefined) throw new Error(`no value for variable ${whole} in ${expr}`);
      return value;
    },
  );
}
