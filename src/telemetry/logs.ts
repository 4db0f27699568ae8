/**
 * Structured log records through the OpenTelemetry Logs API. Every record carries `log.type`,
 * which the Collector uses to route it to the Kafka topic `api-logs-<log.type>`.
 *
 * User-controlled text (paths, user agents, body fields) only ever travels as attribute values
 * or as the body string. Attributes are typed key/value pairs all the way to the log store, so
 * such text cannot forge another attribute or a second record, whatever characters it holds.
 */
import { logs, SeverityNumber, type Attributes, type Logger } from '@opentelemetry/api';

let logger: Logger | undefined;

function apiLogger(): Logger {
  // Resolved on first use so that records go to the provider the SDK registered at start-up.
  logger ??= logs.getLogger('shop-api');
  return logger;
}

export interface AccessRecord {
  method: string;
  route: string | undefined;
  path: string;
  status: number;
  durationSeconds: number;
  clientAddress: string;
  userAgent: string | undefined;
  requestId: string;
}

function severityOf(status: number): { severityNumber: SeverityNumber; severityText: string } {
  if (status >= 500) return { severityNumber: SeverityNumber.ERROR, severityText: 'ERROR' };
  if (status >= 400) return { severityNumber: SeverityNumber.WARN, severityText: 'WARN' };
  return { severityNumber: SeverityNumber.INFO, severityText: 'INFO' };
}

export function emitAccessLog(record: AccessRecord): void {
  const attributes: Attributes = {
    'log.type': 'access',
    'http.request.method': record.method,
    'url.path': record.path,
    'http.response.status_code': record.status,
    'http.server.request.duration': record.durationSeconds,
    'client.address': record.clientAddress,
    'request.id': record.requestId,
  };
  if (record.route !== undefined) attributes['http.route'] = record.route;
  if (record.userAgent !== undefined) attributes['user_agent.original'] = record.userAgent;
  apiLogger().emit({
    ...severityOf(record.status),
    eventName: 'http.request',
    body: `${record.method} ${record.route ?? record.path} ${record.status}`,
    attributes,
  });
}

export function emitAppLog(eventName: string, message: string, attributes: Attributes = {}): void {
  apiLogger().emit({
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    eventName,
    body: message,
    attributes: { ...attributes, 'log.type': 'app' },
  });
}

export function emitErrorLog(error: unknown, attributes: Attributes = {}): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  apiLogger().emit({
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    eventName: 'exception',
    body: exception.message,
    attributes: {
      ...attributes,
      'log.type': 'error',
      'exception.type': exception.name,
      'exception.message': exception.message,
      'exception.stacktrace': exception.stack ?? '',
    },
  });
}
