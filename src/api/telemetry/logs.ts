/**
 * Structured log records through the OpenTelemetry Logs API. Every record carries `log.type`,
 * which the Collector uses to route it to the Kafka topic `api-logs-<log.type>`.
 *
 * User-controlled text (paths, user agents, body fields) only ever travels as attribute values
 * or as the body string. Attributes are typed key/value pairs all the way to the log store, so
 * such text cannot forge another attribute or a second record, whatever characters it holds.
 */
import {
  logs,
  SeverityNumber,
  type Attributes,
  type Context,
  type Logger,
  type LogRecord,
} from '@opentelemetry/api';

let logger: Logger | undefined;

/** The attribute listing, by key, the values cut to the length limit (`body` for the body). */
export const TRUNCATED_ATTRIBUTES = 'log.truncated_attributes';

let valueLengthLimit = Number.POSITIVE_INFINITY;

/**
 * Sets the bound applied to every record emitted here: string attribute values and the body are
 * cut to `attributeValueLengthLimit` characters, as the SDK's OpenTelemetry log record limits
 * would cut attribute values, but here the record also says what was cut. Called once by
 * startTelemetry with the configured OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT.
 */
export function configureRecordLimits(limits: { attributeValueLengthLimit: number }): void {
  valueLengthLimit = limits.attributeValueLengthLimit;
}

/** `text` cut to the limit, without leaving half of a surrogate pair at the end. */
function cut(text: string): string {
  const kept = text.slice(0, valueLengthLimit);
  const last = kept.charCodeAt(kept.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? kept.slice(0, -1) : kept;
}

/**
 * Emits `record` with its string values (and string array items) and body within the length
 * limit, adding TRUNCATED_ATTRIBUTES when anything was cut.
 */
function emitBounded(record: LogRecord & { attributes: Attributes }): void {
  // Nearly every record is within bounds and already starts with its routing key: it goes out
  // as it is, without the two copies of its attributes that bounding it takes (this runs once
  // per request).
  if (isWithinBounds(record)) {
    apiLogger().emit(record);
    return;
  }
  const truncated: string[] = [];
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(record.attributes)) {
    if (typeof value === 'string' && value.length > valueLengthLimit) {
      attributes[key] = cut(value);
      truncated.push(key);
    } else if (
      Array.isArray(value) &&
      value.some((item) => typeof item === 'string' && item.length > valueLengthLimit)
    ) {
      attributes[key] = (value as unknown[]).map((item) =>
        typeof item === 'string' ? cut(item) : item,
      ) as string[];
      truncated.push(key);
    } else {
      attributes[key] = value;
    }
  }
  let body = record.body;
  if (typeof body === 'string' && body.length > valueLengthLimit) {
    body = cut(body);
    truncated.push('body');
  }
  // The SDK keeps the first OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT attributes in insertion order:
  // the routing key and the truncation mark go first, so that a record over the count limit
  // still reaches its topic and still says what it lost.
  const ordered: Attributes = { 'log.type': attributes['log.type'] };
  if (truncated.length > 0) ordered[TRUNCATED_ATTRIBUTES] = truncated;
  apiLogger().emit({ ...record, body, attributes: Object.assign(ordered, attributes) });
}

/** Nothing to cut, and `log.type` is the first attribute (see the order kept below). */
function isWithinBounds({ attributes, body }: LogRecord & { attributes: Attributes }): boolean {
  if (typeof body === 'string' && body.length > valueLengthLimit) return false;
  let first = true;
  for (const key in attributes) {
    if (first && key !== 'log.type') return false;
    first = false;
    const value = attributes[key];
    if (typeof value === 'string') {
      if (value.length > valueLengthLimit) return false;
    } else if (
      Array.isArray(value) &&
      value.some((item) => typeof item === 'string' && item.length > valueLengthLimit)
    ) {
      return false;
    }
  }
  return !first;
}

function apiLogger(): Logger {
  // Resolved on first use so that records go to the provider the SDK registered at start-up.
  logger ??= logs.getLogger('shop-api');
  return logger;
}

export interface AccessRecord {
  /** `http.request.method`: a known method or `_OTHER` (semantic conventions). */
  method: string;
  /** The method as received, when it differs from `method`. */
  originalMethod?: string | undefined;
  route: string | undefined;
  /** Absent for requests refused before their request line was read. */
  path: string | undefined;
  /** The status the client received; absent when none reached it. */
  status?: number | undefined;
  /** Why the request ended without a complete response (or the 5xx status). */
  errorType?: string | undefined;
  durationSeconds: number;
  clientAddress: string | undefined;
  userAgent: string | undefined;
  requestId: string;
  /** The request span's context, for the record's trace and span ids. */
  context?: Context | undefined;
}

function severityOf(record: AccessRecord): {
  severityNumber: SeverityNumber;
  severityText: string;
} {
  const status = record.status ?? 0;
  if (status >= 500) return { severityNumber: SeverityNumber.ERROR, severityText: 'ERROR' };
  if (status >= 400 || record.status === undefined) {
    return { severityNumber: SeverityNumber.WARN, severityText: 'WARN' };
  }
  return { severityNumber: SeverityNumber.INFO, severityText: 'INFO' };
}

/**
 * Emits the one access record of a request (`log.type=access`, event `http.request`), with the
 * semantic conventions' HTTP attribute names; see server-requests.ts for how its outcome is
 * decided. Severity: ERROR for 5xx, WARN for 4xx and for requests that got no status, else INFO.
 */
export function emitAccessLog(record: AccessRecord): void {
  const attributes: Attributes = {
    'log.type': 'access',
    'http.request.method': record.method,
    'http.server.request.duration': record.durationSeconds,
    'request.id': record.requestId,
  };
  if (record.originalMethod !== undefined && record.originalMethod !== record.method) {
    attributes['http.request.method_original'] = record.originalMethod;
  }
  if (record.path !== undefined) attributes['url.path'] = record.path;
  if (record.route !== undefined) attributes['http.route'] = record.route;
  if (record.status !== undefined) attributes['http.response.status_code'] = record.status;
  if (record.errorType !== undefined) attributes['error.type'] = record.errorType;
  if (record.clientAddress !== undefined) attributes['client.address'] = record.clientAddress;
  if (record.userAgent !== undefined) attributes['user_agent.original'] = record.userAgent;
  const target = record.route ?? record.path ?? '-';
  emitBounded({
    ...severityOf(record),
    eventName: 'http.request',
    body: `${record.originalMethod ?? record.method} ${target} ${record.status ?? record.errorType ?? ''}`,
    attributes,
    ...(record.context ? { context: record.context } : {}),
  });
}

export function emitAppLog(eventName: string, message: string, attributes: Attributes = {}): void {
  emitBounded({
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    eventName,
    body: message,
    attributes: { ...attributes, 'log.type': 'app' },
  });
}

export function emitErrorLog(error: unknown, attributes: Attributes = {}): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  emitBounded({
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
