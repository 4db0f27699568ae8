/**
 * One request, one status: the access record, the `http.server.request.duration` histogram and
 * the client agree on how every request ended, because all three are derived from one outcome,
 * decided once, when the response closes:
 *
 * - answered: the response was handed whole to the connection; its status.
 * - answered partly: the status line went out, then the connection was lost; that status, and
 *   `error.type=aborted`.
 * - aborted: the connection was lost before any status went out (the client hung up or reset
 *   the connection); no status, `error.type=aborted`.
 * - ended by the server: Node's request or header timeout, or its HTTP parser refusing the
 *   bytes (a malformed request, headers over the size limit, a body cut short by the client's
 *   FIN): Node's status (408, 431, 413 or 400) with `error.type` `timeout` or the parser's code
 *   (`HPE_*`), written to the client by `handleClientError` below.
 *
 * Requests that Node refuses before any response object exists (a header timeout, a request
 * line or headers it cannot parse, headers over the size limit) never reach Koa; they are
 * recorded from the server's 'clientError' event, with method `_OTHER`, no path, and a duration
 * measured from when the connection was ready for them. Not recorded, because no request can be
 * told apart: a connection that sends nothing, and a connection reset (RST) while a request's
 * headers are still arriving.
 *
 * Attribute names and values follow the OpenTelemetry HTTP semantic conventions (stable, v1.23+):
 * `http.request.method` is one of the known methods or `_OTHER` (the original in
 * `http.request.method_original` on the access record), `http.response.status_code` only when a
 * status was sent, `error.type` for 5xx statuses (the status) and for requests that ended
 * without a complete response.
 */
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  context,
  metrics,
  ValueType,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
  SpanStatusCode,
} from '@opentelemetry/api';
import { emitAccessLog } from './logs.ts';

/** How one request ended, as its client saw it. */
export interface RequestOutcome {
  /** The status the client received, if any status line reached it. */
  status?: number;
  /** Why the request ended without a complete response, or the status of a 5xx. */
  errorType?: string;
}

/** What the application (Koa) adds to a request's record once it reaches it. */
export interface RequestAnnotations {
  requestId?: string;
  /** The matched route template, read when the request ends (the router matches later). */
  route?: () => string | undefined;
  /** The path as the application parsed it. */
  path?: string;
  /** The context of the request's span, so the record carries its trace and span ids. */
  context?: Context;
}

interface ObservedRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startedAt: bigint;
  readonly annotations: RequestAnnotations;
  /** Set when the server itself ended the request (timeout, parser error). */
  endedBy?: RequestOutcome;
  /** The outcome recorded, once the response has closed. */
  outcome?: RequestOutcome;
}

interface ConnectionState {
  /** Requests on this connection whose response has not closed yet, oldest first. */
  inFlight: ObservedRequest[];
  /** When the connection became ready for its next request (accepted, or last response sent). */
  readySince: bigint;
  /** The latest request on this connection, which may still be arriving after its response. */
  latest?: ObservedRequest;
}

/** Semantic conventions' known HTTP methods; anything else is reported as `_OTHER`. */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'QUERY',
]);

/** Buckets of the semantic conventions' advice for http.server.request.duration (seconds). */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The Prometheus scrape itself is not a request the histogram should count. */
const NOT_IN_HISTOGRAM = new Set(['/metrics']);

const observed = new WeakMap<IncomingMessage, ObservedRequest>();
/** Requests observed and not recorded yet, and who waits for there to be none. */
let unrecorded = 0;
let whenAllRecorded: (() => void)[] = [];
const connections = new WeakMap<Socket, ConnectionState>();

let histogram: Histogram | undefined;

function durationHistogram(): Histogram {
  // Created on first use, from the provider the SDK registered at start-up.
  histogram ??= metrics.getMeter('shop-api').createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  return histogram;
}

/** `method` as the semantic conventions report it: a known method, or `_OTHER`. */
export function normalizedMethod(method: string | undefined): string {
  const upper = (method ?? 'GET').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

function connectionOf(socket: Socket): ConnectionState {
  let state = connections.get(socket);
  if (!state) {
    state = { inFlight: [], readySince: process.hrtime.bigint() };
    connections.set(socket, state);
  }
  return state;
}

/**
 * Starts observing one request; idempotent. Called for every request Node parses on an observed
 * server, and by the access-log middleware for a server that is not observed (where timeouts and
 * parser refusals then go unrecorded).
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse): RequestAnnotations {
  const existing = observed.get(req);
  if (existing) return existing.annotations;
  const request: ObservedRequest = {
    req,
    res,
    startedAt: process.hrtime.bigint(),
    annotations: {},
  };
  observed.set(req, request);
  const connection = connectionOf(req.socket);
  connection.inFlight.push(request);
  connection.latest = request;
  unrecorded += 1;
  res.once('close', () => {
    connection.inFlight = connection.inFlight.filter((other) => other !== request);
    connection.readySince = process.hrtime.bigint();
    try {
      request.outcome = outcomeOf(request);
      record(request, request.outcome);
    } finally {
      unrecorded -= 1;
      if (unrecorded === 0) {
        const waiting = whenAllRecorded;
        whenAllRecorded = [];
        for (const resolve of waiting) resolve();
      }
    }
  });
  return request.annotations;
}

/** The outcome of a request whose response has just closed. */
function outcomeOf({ res, endedBy }: ObservedRequest): RequestOutcome {
  if (endedBy) return endedBy;
  if (res.writableFinished) {
    const status = res.statusCode;
    return status >= 500 ? { status, errorType: String(status) } : { status };
  }
  if (res.headersSent) return { status: res.statusCode, errorType: 'aborted' };
  return { errorType: 'aborted' };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function record(request: ObservedRequest, outcome: RequestOutcome): void {
  const { req, annotations } = request;
  const durationSeconds = Number(process.hrtime.bigint() - request.startedAt) / 1e9;
  const route = annotations.route?.();
  const path = annotations.path ?? pathOf(req);
  const method = normalizedMethod(req.method);
  if (!NOT_IN_HISTOGRAM.has(path)) {
    const attributes: Attributes = {
      'http.request.method': method,
      'url.scheme': 'http',
      'network.protocol.version': req.httpVersion,
    };
    if (route !== undefined) attributes['http.route'] = route;
    addOutcome(attributes, outcome);
    durationHistogram().record(durationSeconds, attributes);
  }
  emitAccessLog({
    method,
    originalMethod: req.method,
    route,
    path,
    ...outcome,
    durationSeconds,
    clientAddress: req.socket.remoteAddress,
    userAgent: req.headers['user-agent'],
    requestId: annotations.requestId ?? randomUUID(),
    context: annotations.context,
  });
}

function addOutcome(attributes: Attributes, { status, errorType }: RequestOutcome): void {
  if (status !== undefined) attributes['http.response.status_code'] = status;
  if (errorType !== undefined) attributes['error.type'] = errorType;
}

/** What Node answers for each error it raises while reading a request (see its socketOnError). */
function refusalOf(
  error: NodeJS.ErrnoException,
): { status: number; errorType: string } | undefined {
  const code = error.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, errorType: 'timeout' };
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, errorType: code };
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return { status: 413, errorType: code };
  if (code.startsWith('HPE_')) return { status: 400, errorType: code };
  return undefined; // a socket error (ECONNRESET, EPIPE…): the connection itself is gone
}

const ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  408: 'request_timeout',
  413: 'payload_too_large',
  431: 'request_header_fields_too_large',
  501: 'not_implemented',
};

/** The response Node would write, in the API's error shape, with the request's id. */
function refusalResponse(status: number, requestId: string): string {
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({
    error: { code: ERROR_CODES[status] ?? 'client_error', message: reason.toLowerCase() },
  });
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'X-Content-Type-Options: nosniff\r\n' +
    `X-Request-Id: ${requestId}\r\n\r\n${body}`
  );
}

/**
 * The server's 'clientError' handler: does what Node does by default (answer 408, 431, 413 or
 * 400 if nothing of a response has been sent yet, then close the connection), and makes the
 * request's record say so.
 */
function handleClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const connection = connectionOf(socket);
  const refusal = refusalOf(error);
  // The response on the wire, if one is in flight; pipelined ones behind it are aborted.
  const current = connection.inFlight.find((request) => !request.res.writableFinished);
  const canAnswer =
    refusal !== undefined && socket.writable && (current === undefined || !current.res.headersSent);
  if (current) {
    if (refusal) {
      current.endedBy = canAnswer
        ? refusal
        : {
            status: current.res.headersSent ? current.res.statusCode : undefined,
            errorType: refusal.errorType,
          };
    }
    if (canAnswer && refusal) {
      socket.write(refusalResponse(refusal.status, current.annotations.requestId ?? randomUUID()));
    }
  } else if (refusal && connection.latest && !connection.latest.req.complete) {
    // The latest request was answered early (413, 415…) while its body was still arriving, and
    // that body then timed out or was cut short: it already has its status and its record.
  } else if (refusal) {
    // Bytes of a request arrived, but Node refused them before there was a request object.
    const requestId = randomUUID();
    if (canAnswer) socket.write(refusalResponse(refusal.status, requestId));
    recordRefused(socket, canAnswer ? refusal : { errorType: refusal.errorType }, {
      requestId,
      startedAt: connection.readySince,
    });
  }
  socket.destroy(error);
}

/** Records a request that never got a response object: refused by Node, or a CONNECT. */
function recordRefused(
  socket: Socket,
  outcome: RequestOutcome,
  { requestId, startedAt, req }: { requestId: string; startedAt: bigint; req?: IncomingMessage },
): void {
  const durationSeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const method = normalizedMethod(req?.method ?? '_OTHER');
  const attributes: Attributes = { 'http.request.method': method, 'url.scheme': 'http' };
  if (req) attributes['network.protocol.version'] = req.httpVersion;
  addOutcome(attributes, outcome);
  durationHistogram().record(durationSeconds, attributes);
  emitAccessLog({
    method,
    originalMethod: req?.method,
    route: undefined,
    path: req?.url,
    ...outcome,
    durationSeconds,
    clientAddress: socket.remoteAddress,
    userAgent: req?.headers['user-agent'],
    requestId,
    context: undefined,
  });
}

/**
 * CONNECT asks for a tunnel, which Node hands to a 'connect' listener instead of the
 * application, and without one closes the connection unanswered. The API tunnels nothing: it
 * answers 501 Not Implemented, as its router does for methods it does not implement.
 */
function refuseConnect(req: IncomingMessage, socket: Duplex): void {
  const startedAt = process.hrtime.bigint();
  const requestId = randomUUID();
  const net = socket as Socket;
  const answered = net.writable;
  if (answered) net.end(refusalResponse(501, requestId));
  else net.destroy();
  recordRefused(net, answered ? { status: 501, errorType: '501' } : { errorType: 'aborted' }, {
    requestId,
    startedAt,
    req,
  });
}

/** The request-start diagnostics channel Node publishes for every request it parses. */
const REQUEST_START = 'http.server.request.start';

/**
 * Observes every request `server` receives, including those Node answers itself (a missing
 * Host header, an unmet Expect) and those it refuses before any request object exists; handles
 * the server's 'clientError' event. Call once per server, before it listens.
 */
export function observeServer(server: Server): void {
  const onRequestStart = (message: unknown) => {
    const {
      request,
      response,
      server: from,
    } = message as {
      request: IncomingMessage;
      response: ServerResponse;
      server: Server;
    };
    if (from === server) observeRequest(request, response);
  };
  subscribe(REQUEST_START, onRequestStart);
  server.once('close', () => unsubscribe(REQUEST_START, onRequestStart));
  server.on('connection', (socket: Socket) => connectionOf(socket));
  server.on('clientError', handleClientError);
  server.on('connect', refuseConnect);
}

/**
 * Makes the request's span (when spans are recorded, OTEL_TRACES_EXPORTER) say what its access
 * record says. The http instrumentation ends the span from the response object's status when
 * the response closes, after this module's own 'close' listener has decided the outcome; it
 * calls this (its `applyCustomAttributesOnSpan` hook) just before ending the span. A span
 * cannot lose an attribute, so an aborted request's span keeps the instrumentation's status
 * code next to `error.type=aborted`.
 */
export function alignSpanWithRecord(span: Span, req: IncomingMessage): void {
  const outcome = observed.get(req)?.outcome;
  if (!outcome) return;
  if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
  if (outcome.errorType !== undefined) span.setAttribute('error.type', outcome.errorType);
  if (outcome.status === undefined || outcome.status >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorType });
  }
}

/**
 * Resolves once every observed request has been recorded. A server's 'close' event comes before
 * its last connections' (and responses') 'close' events, so a shutdown that flushed telemetry
 * right after it would lose the records of the requests it cut off.
 */
export function allRequestsRecorded(): Promise<void> {
  if (unrecorded === 0) return Promise.resolve();
  return new Promise((resolve) => whenAllRecorded.push(resolve));
}

/** The annotations of a request observed by this module, for the application to fill in. */
export function annotateRequest(req: IncomingMessage, res: ServerResponse): RequestAnnotations {
  const annotations = observeRequest(req, res);
  annotations.context ??= context.active();
  return annotations;
}
