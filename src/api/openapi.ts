import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, problemSchema, type ProblemKind } from '../http/problem.js';
import { problemsOf, type ApiRoutes, type Operation } from './operation.js';

type JsonObject = Record<string, unknown>;

const JSON_CONTENT_TYPE = 'application/json';
const BEARER_SCHEME = 'bearer';
/** Short enough that a deployment's new document is picked up soon; the ETag makes refetching cheap. */
const CACHE_CONTROL = 'public, max-age=300';

const schemaRef = (id: string) => `#/components/schemas/${id}`;

/** The id a request or response schema is published under, given beside it with `.meta({ id })`. */
function idOf(schema: z.ZodType): string {
  const id = schema.meta()?.id;
  if (typeof id !== 'string') throw new Error('Every request and response body schema of the API needs a name: .meta({ id })');
  return id;
}

/** Named schemas as OpenAPI components; request bodies as zod reads them (input), responses as it writes them (output). */
function componentSchemas(schemas: Iterable<z.ZodType>, io: 'input' | 'output'): Record<string, JsonObject> {
  const registry = z.registry<z.GlobalMeta>();
  for (const schema of new Set(schemas)) registry.add(schema, { ...schema.meta(), id: idOf(schema) });
  const { schemas: converted } = z.toJSONSchema(registry, { target: 'draft-2020-12', io, uri: schemaRef });
  // zod makes each a document of its own; inside the OpenAPI document it is a component, with no $schema or $id.
  return Object.fromEntries(Object.entries(converted).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]));
}

/** Component names of the problem responses: invalid_input → InvalidInput. */
const responseName = (kind: ProblemKind) => kind.replace(/(^|_)([a-z])/g, (_match, _separator, letter: string) => letter.toUpperCase());

const PROBLEM_HEADERS: Partial<Record<ProblemKind, JsonObject>> = {
  unauthorized: { 'WWW-Authenticate': { description: 'The RFC 6750 bearer challenge, with error="invalid_token" when a token was sent.', required: true, schema: { type: 'string' } } },
  forbidden: { 'WWW-Authenticate': { description: 'With error="insufficient_scope" when the token was not granted the scope the operation needs (RFC 6750).', schema: { type: 'string' } } },
  too_many_requests: { 'Retry-After': { description: 'Seconds until the throttle allows another attempt.', required: true, schema: { type: 'integer' } } },
  unavailable: { 'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer' } } },
};

/** One problem kind's response: RFC 9457 problem details whose type, title and status are those of the kind. */
function problemResponse(kind: ProblemKind): JsonObject {
  const { type, title, status } = PROBLEM_TYPES[kind];
  const ofKind = problemSchema.extend({ type: z.literal(type), title: z.literal(title), status: z.literal(status) });
  // Only an invalid request names its fields; every other problem has none to name.
  const schema = kind === 'invalid_input' ? ofKind.required({ errors: true }) : ofKind.omit({ errors: true });
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' });
  return { description: title, headers: PROBLEM_HEADERS[kind], content: { [PROBLEM_CONTENT_TYPE]: { schema: jsonSchema } } };
}

/** "/users/:id" → "/users/{id}", and the parameters it names. */
function pathOf(operation: Operation): { path: string; parameters: JsonObject[] } {
  // `\:` is a literal colon (as in `/users:import`), not a parameter.
  const names = [...operation.path.matchAll(/(?<!\\):(\w+)/g)].map((match) => match[1] as string);
  return {
    path: operation.path.replace(/(?<!\\):(\w+)/g, '{$1}').replaceAll('\\:', ':'),
    parameters: names.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
  };
}

/** The query schema's fields as OpenAPI query parameters, each with its own JSON Schema. */
function queryParameters(operation: Operation): JsonObject[] {
  if (operation.query === undefined) return [];
  return Object.entries(operation.query.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const { $schema: _dialect, description, ...schema } = z.toJSONSchema(field, { target: 'draft-2020-12', io: 'input' });
    return { name, in: 'query', required: !field.safeParse(undefined).success, description, schema };
  });
}

function operationObject(operation: Operation, parameters: JsonObject[]): JsonObject {
  const responses: JsonObject = {};
  for (const [status, reply] of Object.entries(operation.replies)) {
    responses[status] = {
      description: reply.description,
      headers: reply.headers && Object.fromEntries(Object.entries(reply.headers).map(([name, description]) => [name, { description, required: true, schema: { type: 'string' } }])),
      content: reply.body && { [JSON_CONTENT_TYPE]: { schema: { $ref: schemaRef(idOf(reply.body)) } } },
    };
  }
  for (const kind of problemsOf(operation)) responses[PROBLEM_TYPES[kind].status] = { $ref: `#/components/responses/${responseName(kind)}` };
  return {
    operationId: operation.id,
    summary: operation.summary,
    description: operation.description,
    security: operation.scope === undefined ? undefined : [{ [BEARER_SCHEME]: [operation.scope] }],
    parameters: parameters.length > 0 ? parameters : undefined,
    requestBody: operation.body
      ? { required: true, content: { [JSON_CONTENT_TYPE]: { schema: { $ref: schemaRef(idOf(operation.body)) } } } }
      : operation.stream && { required: true, description: operation.stream.description, content: Object.fromEntries(operation.stream.mediaTypes.map((type) => [type, { schema: { type: 'string' } }])) },
    responses,
  };
}

/** The OpenAPI 3.1 document of the given operations, mounted below /api/v1. */
export function openApiDocument(operations: readonly Operation[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const operation of operations) {
    const { path, parameters } = pathOf(operation);
    paths[path] = { ...paths[path], [operation.method]: operationObject(operation, [...parameters, ...queryParameters(operation)]) };
  }
  const replyBodies = operations.flatMap((operation) => Object.values(operation.replies).flatMap((reply) => (reply.body ? [reply.body] : [])));
  const problemKinds = new Set(operations.flatMap((operation) => problemsOf(operation)));
  const document = {
    openapi: '3.1.1',
    info: {
      title: 'Latch REST API',
      version: '1',
      description: 'Self-registration and the signed-in user\'s own account. Errors are RFC 9457 problem details whose `type` is a stable URN.',
    },
    // Relative to this document's own URL, so it holds behind any host or proxy.
    servers: [{ url: '/api/v1' }],
    paths,
    components: {
      schemas: {
        ...componentSchemas(operations.flatMap((operation) => (operation.body ? [operation.body] : [])), 'input'),
        ...componentSchemas(replyBodies, 'output'),
      },
      responses: Object.fromEntries([...problemKinds].map((kind) => [responseName(kind), problemResponse(kind)])),
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "An access token Latch issued for its own API (the default resource), granted the scope the operation names.",
        },
      },
    },
  };
  // Members left undefined above (no description, no parameters) are dropped, as JSON would.
  return JSON.parse(JSON.stringify(document)) as JsonObject;
}

const openApiOperation = {
  id: 'getOpenApiDocument',
  method: 'get',
  path: '/openapi.json',
  summary: 'This OpenAPI document',
  replies: {
    200: {
      description: 'The OpenAPI 3.1 document of this API.',
      body: z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument' }),
      headers: { ETag: 'The version of the document, for conditional requests.', 'Cache-Control': 'How long the document may be cached.' },
    },
    304: { description: 'The document has not changed since the ETag sent in If-None-Match.' },
  },
  problems: [],
} satisfies Operation;

/** Serves the document of every operation added so far, and of its own; built once, so mount it last. */
export function mountOpenApi(routes: ApiRoutes): void {
  const operations = [...routes.operations, openApiOperation];
  // Built at the first request for it, not at start, where it was a tenth of createLatch's time.
  let built: { document: JsonObject; etag: string } | undefined;
  const documented = () => {
    if (built) return built;
    const document = openApiDocument(operations);
    return (built = { document, etag: `"${createHash('sha256').update(JSON.stringify(document)).digest('base64url')}"` });
  };
  routes.add(openApiOperation, (ctx) => {
    const { document, etag } = documented();
    ctx.set('Cache-Control', CACHE_CONTROL);
    ctx.set('ETag', etag);
    // Koa's freshness check compares If-None-Match with the ETag only for a successful status.
    ctx.status = 200;
    return ctx.fresh ? { status: 304 } : { status: 200, body: document };
  });
}
