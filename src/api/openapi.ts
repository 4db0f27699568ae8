/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the
 * bounds, patterns and formats the API enforces are the ones the document declares. Rules JSON
 * Schema cannot express (uniqueness, references to other records, stock, the body size limit)
 * are stated in words and answered with the statuses and error codes listed per operation.
 */
import { z } from 'zod';
// Importing the schemas registers every schema that carries an `id` in zod's global registry.
import { Limit, Offset } from './domain/schemas.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const json = (schema: object) => ({ 'application/json': { schema } });

/**
 * Drops `$schema` and `$id`: schemas inside the document share the dialect its root declares,
 * and a fragment-only `$id` is not a valid draft 2020-12 identifier anyway.
 */
function embedded(schema: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...schema };
  delete copy['$schema'];
  delete copy['$id'];
  return copy;
}

/** A zod schema as an inline JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). */
function inline(schema: z.ZodType): Record<string, unknown> {
  return embedded(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }));
}

const REQUEST_ID_HEADER = {
  'X-Request-Id': {
    description:
      "The caller's X-Request-Id when it is 1-128 characters of `[A-Za-z0-9._-]`, else a new UUID",
    required: true,
    schema: { type: 'string', minLength: 1, maxLength: 128 },
  },
};

/**
 * An error response whose `error.code` is one of `codes`: every code an operation can answer
 * with for this status is listed, so a client can switch on it and a contract test can check it.
 */
function errorResponse(description: string, codes: readonly string[], headers: object = {}) {
  return {
    description: `${description} (\`error.code\`: ${codes.map((code) => `\`${code}\``).join(', ')})`,
    headers: { ...REQUEST_ID_HEADER, ...headers },
    content: json({
      allOf: [
        ref('Error'),
        { properties: { error: { properties: { code: { enum: [...codes] } } } } },
      ],
    }),
  };
}

const ok = (description: string, content: object, headers: object = {}) => ({
  description,
  headers: { ...REQUEST_ID_HEADER, ...headers },
  content,
});

/** Statuses every operation can answer with, whatever its input. */
const COMMON_RESPONSES = {
  429: errorResponse(
    'More requests from this client address in one second than RATE_LIMIT_PER_SECOND allows (off unless set)',
    ['rate_limited'],
    {
      'Retry-After': {
        description: 'Seconds until the current window ends (RFC 9110 §10.2.3)',
        required: true,
        schema: { type: 'integer', minimum: 1 },
      },
    },
  ),
  500: errorResponse('An unexpected failure; the message reveals nothing', ['internal_error']),
};

/** Statuses of every operation that reads a JSON body. */
const BODY_RESPONSES = {
  413: errorResponse('Body larger than BODY_LIMIT_BYTES (64 KiB by default)', [
    'payload_too_large',
  ]),
  415: errorResponse('Content-Type is not application/json', ['unsupported_media_type']),
};

const listOf = (name: string) =>
  json({
    type: 'object',
    required: ['items', 'total', 'limit', 'offset'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: ref(name) },
      total: { type: 'integer', minimum: 0 },
      limit: inline(Limit),
      offset: inline(Offset),
    },
  });

const pageParameters = [
  {
    name: 'limit',
    in: 'query',
    description: 'Page size. Written in plain decimal.',
    schema: inline(Limit),
  },
  {
    name: 'offset',
    in: 'query',
    description: 'Records skipped before the page. Written in plain decimal.',
    schema: inline(Offset),
  },
];

interface CollectionSpec {
  path: string;
  tag: string;
  item: string;
  input: string;
  /** Statuses POST adds to the common ones, e.g. 409 and 422. */
  createResponses?: object;
  /** OpenAPI links from the 201 response, besides the one to the created record. */
  createLinks?: object;
}

function collectionPaths({
  path,
  tag,
  item,
  input,
  createResponses = {},
  createLinks = {},
}: CollectionSpec) {
  const noun = tag.toLowerCase().replace(/s$/, '');
  return {
    [path]: {
      get: {
        tags: [tag],
        operationId: `list${tag}`,
        summary: `List ${tag.toLowerCase()}`,
        description:
          'Any query parameter other than `limit` and `offset`, or either one given twice, is refused with 400.',
        parameters: pageParameters,
        responses: {
          200: ok(`A page of ${tag.toLowerCase()}, oldest first`, listOf(item)),
          400: errorResponse('Invalid or unknown query parameters', ['validation_failed']),
          ...COMMON_RESPONSES,
        },
      },
      post: {
        tags: [tag],
        operationId: `create${item}`,
        summary: `Create a ${noun}`,
        requestBody: { required: true, content: json(ref(input)) },
        responses: {
          201: {
            ...ok(`The created ${noun}`, json(ref(item)), {
              Location: {
                description: `Path of the created ${noun}, \`${path}/{id}\``,
                required: true,
                schema: { type: 'string', pattern: `^${path}/[1-9][0-9]*$` },
              },
            }),
            links: {
              [`Get${item}`]: {
                operationId: `get${item}`,
                parameters: { id: '$response.body#/id' },
                description: `The ${noun} just created`,
              },
              ...createLinks,
            },
          },
          400: errorResponse('Invalid JSON or failed validation', [
            'invalid_json',
            'body_read_failed',
            'validation_failed',
          ]),
          ...BODY_RESPONSES,
          ...createResponses,
          ...COMMON_RESPONSES,
        },
      },
    },
    [`${path}/{id}`]: {
      get: {
        tags: [tag],
        operationId: `get${item}`,
        summary: `Get one ${noun}`,
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'Written in plain decimal.',
            schema: ref('Id'),
          },
        ],
        responses: {
          200: ok(`The ${noun}`, json(ref(item))),
          400: errorResponse('The id is not a positive integer up to 2^53 - 1', ['invalid_id']),
          404: errorResponse(`No such ${noun} (never created, or evicted)`, ['not_found']),
          ...COMMON_RESPONSES,
        },
      },
    },
  };
}

const DESCRIPTION = `Users, products and orders, instrumented with OpenTelemetry.

Every error has the shape \`{"error": {"code", "message", "details"?}}\`; each operation lists its
statuses and their codes. For every path, following RFC 9110:

- \`OPTIONS\` answers 204 with an \`Allow\` header;
- a method the resource does not support (\`PUT\`, \`PATCH\`, \`DELETE\`, \`TRACE\`, \`QUERY\`, or
  \`POST\` where only \`GET\` exists) answers 405 \`method_not_allowed\` with \`Allow\`;
- a method this server does not implement at all (\`PURGE\`, \`PROPFIND\`, \`LINK\`, \`MKCOL\`, ...)
  answers 501 \`not_implemented\`;
- a path no operation serves answers 404 \`not_found\`.

Integers in paths and query strings are written in plain decimal (no sign \`+\`, no leading zeros,
no exponent). Request bodies are JSON (\`Content-Type: application/json\`, 415 otherwise) of at
most BODY_LIMIT_BYTES (64 KiB by default, 413 beyond). Rules no schema can express: usernames are
unique (409 \`conflict\`); an order refers to an existing user and existing products (422
\`unknown_reference\`) and takes stock for all its lines or none (409 \`insufficient_stock\`).`;

/**
 * Builds the document served at GET /openapi.json. `version` becomes `info.version`. The
 * result is plain JSON (OpenAPI 3.1.0, JSON Schema draft 2020-12 components).
 */
export function buildOpenApiDocument(version: string): object {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const components = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [name, embedded(schema)]),
  );
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Shop API',
      version,
      description: DESCRIPTION,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This server' }],
    // No operation requires authentication (OpenAPI 3.1 §4.8.1: an empty list means none).
    security: [],
    tags: [
      { name: 'Users', description: 'Shop users' },
      { name: 'Products', description: 'Products and their stock' },
      { name: 'Orders', description: 'Orders, which take stock' },
      { name: 'System', description: 'Liveness, statistics and metrics' },
    ],
    paths: {
      ...collectionPaths({
        path: '/users',
        tag: 'Users',
        item: 'User',
        input: 'NewUser',
        createResponses: { 409: errorResponse('Username already taken', ['conflict']) },
        createLinks: {
          CreateOrderForUser: {
            operationId: 'createOrder',
            requestBody: { userId: '$response.body#/id' },
            description: 'An order placed by the user just created',
          },
        },
      }),
      ...collectionPaths({
        path: '/products',
        tag: 'Products',
        item: 'Product',
        input: 'NewProduct',
        createLinks: {
          CreateOrderForProduct: {
            operationId: 'createOrder',
            requestBody: { items: [{ productId: '$response.body#/id', quantity: 1 }] },
            description: 'An order of one unit of the product just created',
          },
        },
      }),
      ...collectionPaths({
        path: '/orders',
        tag: 'Orders',
        item: 'Order',
        input: 'NewOrder',
        createResponses: {
          409: errorResponse('Not enough stock for an item; nothing was taken', [
            'insufficient_stock',
          ]),
          422: errorResponse('The user or a product does not exist', ['unknown_reference']),
        },
      }),
      '/health': {
        get: {
          tags: ['System'],
          operationId: 'health',
          summary: 'Liveness',
          responses: { 200: ok('Alive', json(ref('Health'))), ...COMMON_RESPONSES },
        },
      },
      '/analytics': {
        get: {
          tags: ['System'],
          operationId: 'analytics',
          summary: 'Shop statistics',
          responses: { 200: ok('Statistics', json(ref('Analytics'))), ...COMMON_RESPONSES },
        },
      },
      '/metrics': {
        get: {
          tags: ['System'],
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: {
            200: ok('Prometheus text exposition format', {
              'text/plain': { schema: { type: 'string' } },
            }),
            503: errorResponse('Telemetry is not running in this process', ['metrics_disabled']),
            ...COMMON_RESPONSES,
          },
        },
      },
    },
    components: { schemas: components },
  };
}
