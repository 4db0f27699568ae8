/**
 * Spans of the store and of the domain's multi-step operations. The tracer is the global one:
 * without a registered provider, or with tracing off (the AlwaysOff sampler), every span here is
 * a non-recording one and costs an object allocation.
 *
 * Store spans follow the OpenTelemetry database semantic conventions (v1.26+): name
 * `{db.operation.name} {db.collection.name}`, kind INTERNAL (the store lives in the process),
 * `db.system.name` = `memory` (no registered value fits an in-process store).
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('shop-api');

/** The `db.system.name` of the in-process store. */
export const STORE_SYSTEM = 'memory';

/**
 * Runs `work` inside a span that is the active one (so spans started within are its children)
 * and ends it whatever happens. A thrown error is recorded as an exception event with its
 * `error.type`; the status is set to Error only when `isFailure` says the error is the
 * server's fault, so that a client's mistake (a conflict, an unknown id) does not make the trace
 * an error trace that tail sampling always keeps.
 */
export function inSpan<R>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => R,
  isFailure: (error: unknown) => boolean = () => true,
): R {
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, (span) => {
    try {
      return work(span);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      span.recordException(failure);
      span.setAttribute('error.type', errorType(error));
      if (isFailure(error))
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A leaf span of one store operation; not made active, since nothing runs inside it. */
export function storeOperation<R>(
  collection: string,
  operation: 'insert' | 'get' | 'list',
  work: (span: Span) => R,
): R {
  const span = tracer.startSpan(`${operation} ${collection}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      'db.system.name': STORE_SYSTEM,
      'db.collection.name': collection,
      'db.operation.name': operation,
    },
  });
  try {
    return work(span);
  } catch (error) {
    span.recordException(error instanceof Error ? error : new Error(String(error)));
    span.setAttribute('error.type', errorType(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

function errorType(error: unknown): string {
  if (error && typeof error === 'object' && 'kind' in error && typeof error.kind === 'string') {
    return error.kind;
  }
  return error instanceof Error ? error.name : 'unknown';
}
