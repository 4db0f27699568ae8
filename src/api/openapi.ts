/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests.
 */
import { z } from 'zod';
// Importing the schemas registers every schema that carries an `id` in zod's global registry.
import './domain/schemas.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const json = (schema: object) => ({ 'application/json': { schema } });

const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const listOf = (name: string) =>
  json({
    type: 'object',
    required: ['items', 'total', 'limit', 'offset'],
    properties: {
      items: { type: 'array', items: ref(name) },
      total: { type: 'integer' },
      limit: { type: 'integer' },
      offset: { type: 'integer' },
    },
  });

const pageParameters = [
  {
    name: 'limit',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];

function collectionPaths(path: string, tag: string, item: string, input: string, extra = {}) {
  const noun = tag.toLowerCase().replace(/s$/, '');
  return {
    [path]: {
      get: {
        tags: [tag],
        operationId: `list${tag}`,
        summary: `List ${tag.toLowerCase()}`,
        parameters: pageParameters,
        responses: {
          200: { description: `A page of ${tag.toLowerCase()}`, content: listOf(item) },
          400: errorResponse('Invalid pagination parameters'),
        },
      },
      post: {
        tags: [tag],
        operationId: `create${item}`,
        summary: `Create a ${noun}`,
        requestBody: { required: true, content: json(ref(input)) },
        responses: {
          201: { description: `The created ${noun}`, content: json(ref(item)) },
          400: errorResponse('Invalid JSON or failed validation'),
          413: errorResponse('Body larger than the limit'),
          415: errorResponse('Body is not application/json'),
          ...extra,
        },
      },
    },
    [`${path}/{id}`]: {
      get: {
        tags: [tag],
        operationId: `get${item}`,
        summary: `Get one ${noun}`,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: {
          200: { description: `The ${noun}`, content: json(ref(item)) },
          400: errorResponse('The id is not a positive integer'),
          404: errorResponse(`No such ${noun}`),
        },
      },
    },
  };
}

export function buildOpenApiDocument(version: string): object {
  const { schemas: components } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Shop API',
      version,
      description:
        'Users, products and orders, instrumented with OpenTelemetry. Every error has the shape ' +
        '`{"error": {"code", "message", "details"?}}`.',
    },
    paths: {
      ...collectionPaths('/users', 'Users', 'User', 'NewUser', {
        409: errorResponse('Username already taken'),
      }),
      ...collectionPaths('/products', 'Products', 'Product', 'NewProduct'),
      ...collectionPaths('/orders', 'Orders', 'Order', 'NewOrder', {
        409: errorResponse('Not enough stock for an item'),
        422: errorResponse('The user or a product does not exist'),
      }),
      '/health': {
        get: {
          tags: ['System'],
          operationId: 'health',
          summary: 'Liveness',
          responses: { 200: { description: 'Alive', content: json(ref('Health')) } },
        },
      },
      '/analytics': {
        get: {
          tags: ['System'],
          operationId: 'analytics',
          summary: 'Shop statistics',
          responses: { 200: { description: 'Statistics', content: json(ref('Analytics')) } },
        },
      },
      '/metrics': {
        get: {
          tags: ['System'],
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: {
            200: { description: 'Prometheus text format', content: { 'text/plain': {} } },
          },
        },
      },
    },
    components: { schemas: components },
  };
}
