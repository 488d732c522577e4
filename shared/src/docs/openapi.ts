import type { z } from 'zod';
import { PATH_PARAMS, pathParamNames, type RestRouteSpec, restRouteList } from '../contracts/routes.js';
import { HTTP_STATUS_BY_CODE } from '../errors/index.js';
import { inlineJsonSchema, namedJsonSchemas, publicSchemas } from './schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Bodies are referenced by the name they have among the public schemas. */
const schemaNames = new Map<z.ZodType, string>(Object.entries(publicSchemas).map(([name, schema]) => [schema, name]));
function schemaName(schema: z.ZodType, where: string): string {
  const name = schemaNames.get(schema);
  if (!name) throw new Error(`${where}: name its schema in publicSchemas (shared/src/docs/schemas.ts)`);
  return name;
}

function parameters(route: RestRouteSpec) {
  const params: Array<Record<string, unknown>> = pathParamNames(route.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: inlineJsonSchema(PATH_PARAMS[name]),
  }));
  if (route.query) {
    for (const [name, schema] of Object.entries(route.query.shape)) {
      params.push({
        name,
        in: 'query',
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: inlineJsonSchema(schema as z.ZodType),
      });
    }
  }
  return params;
}

function responses(route: RestRouteSpec) {
  const out: Record<string, unknown> = {};
  for (const [status, body] of Object.entries(route.responses)) {
    if (body === 'empty') out[status] = { description: 'No content' };
    else if (body === 'binary')
      out[status] = {
        description: 'The file',
        content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
      };
    else {
      const name = schemaName(body, `${route.method} ${route.path} ${status}`);
      out[status] = { description: name, content: { 'application/json': { schema: ref(name) } } };
    }
  }
  for (const code of new Set(route.errors)) {
    const status = String(HTTP_STATUS_BY_CODE[code]);
    const existing = out[status] as { description: string } | undefined;
    out[status] = {
      description: existing ? `${existing.description}, ${code}` : code,
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return out;
}

/** The OpenAPI 3.1 document of the REST API, generated from the route table and the zod contracts. */
export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [, route] of restRouteList) {
    const entry = paths[route.path] ?? {};
    paths[route.path] = entry;
    entry[route.method] = {
      operationId: `${route.method}${route.path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
      summary: route.summary,
      tags: [route.tag],
      parameters: parameters(route),
      ...(route.body === 'multipart'
        ? {
            requestBody: {
              required: true,
              content: {
                'multipart/form-data': {
                  schema: {
                    type: 'object',
                    required: ['file'],
                    properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
                  },
                },
              },
            },
          }
        : route.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: ref(schemaName(route.body.schema, `${route.method} ${route.path}`)) } },
              },
            }
          : {}),
      responses: responses(route),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chat backend REST API',
      version,
      description:
        'JSON in and out; `Authorization: Bearer <jwt>` on every /v1 route. Errors are RFC 9457 problem details with a stable `code`. ' +
        'A room the caller is not a member of answers 404. Lists are `{items, next_cursor}`. The socket protocol is in asyncapi-socket.json.',
    },
    servers: [{ url: 'http://localhost:8080', description: 'GATEWAY_HTTP_PORT of a local stack' }],
    security: [{ bearer: [] }],
    tags: ['rooms', 'members', 'messages', 'moderation', 'read state', 'attachments', 'devices', 'webhooks'].map((name) => ({ name })),
    paths,
    webhooks: {
      hostEvent: {
        post: {
          operationId: 'hostEvent',
          summary: 'The event webhook (DESIGN 10.4): each event POSTed to EVENTS_WEBHOOK_URL',
          description:
            'Headers: `webhook-id` (= the payload `id`, the same on every retry: de-duplicate on it), `webhook-timestamp` (Unix seconds), ' +
            '`webhook-signature` (`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{raw body}` keyed with EVENTS_WEBHOOK_SECRET, ' +
            'base64-decoded after a `whsec_` prefix) and `X-Chat-Signature` (`sha256=` + hex HMAC-SHA256 of the raw body). At least once; a ' +
            "room's persisted events (those with `seq`) in seq order; any answer that is not 2xx, or none within EVENTS_WEBHOOK_TIMEOUT_MS, " +
            'is retried with exponential back-off up to EVENTS_WEBHOOK_MAX_ATTEMPTS times, then kept as a dead letter (docs/operations.md).',
          tags: ['webhooks'],
          security: [],
          requestBody: { required: true, content: { 'application/json': { schema: ref('HostEvent') } } },
          responses: { '2XX': { description: 'Accepted; any other answer is retried' } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: namedJsonSchemas(publicSchemas, '#/components/schemas/', 'draft-2020-12'),
    },
  };
}
