// Every third-party version the native services use is pinned here and nowhere else:
// the installer passes them to Maven and Go, and records them in stamp files so that
// changing a version here is enough to trigger a rebuild on the next `install`.

// Apache Kafka (KRaft, no ZooKeeper), resolved from Maven Central via stack/kafka/pom.xml.
// 4.x removed the old protocol versions (KIP-896); kafkajs 2.2.4 negotiates versions the
// broker still serves, and the integration suite proves produce, group consume, offset commit
// and rebalance against this exact release.
export const KAFKA_VERSION = '4.4.0';
// The broker depends on slf4j-api 1.7.x only; this is the matching binding so it logs at all.
export const SLF4J_VERSION = '1.7.36';

// OpenTelemetry Collector builder; must equal the release pinned in
// otel-collector/builder-config.yaml (checked at install time).
export const OTELCOL_VERSION = '0.160.0';

// VictoriaLogs (Apache-2.0) speaks Loki's push API. The Go proxy lists no tagged release of
// this module path, so a pseudo-version of the main branch is pinned.
export const VICTORIALOGS_MODULE = 'github.com/VictoriaMetrics/VictoriaLogs';
export const VICTORIALOGS_VERSION = 'v1.51.1-0.20260624061259-dc94972a8708';
// That VictoriaLogs commit requires a VictoriaMetrics pseudo-version (v1.145.1-0.20260616...)
// whose source the Go proxy refuses (403), so the generated build module replaces it with the
// nearest later release the proxy does serve; the lib/ packages it uses are API-compatible.
export const VICTORIAMETRICS_LIB_VERSION = 'v1.148.8';

// Jaeger v2 (Apache-2.0), the trace store. The module's v1.x tags carry the v2 binary:
// v1.76.0 is Jaeger v2.13.0, the image tag compose.yaml runs.
export const JAEGER_MODULE = 'github.com/jaegertracing/jaeger';
export const JAEGER_VERSION = 'v1.76.0';
export const JAEGER_IMAGE_VERSION = '2.13.0';

// Prometheus comes from the distribution's package; the version is whatever apt provides.
export const PROMETHEUS_APT_PACKAGE = 'prometheus';
