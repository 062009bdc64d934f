import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/availability.js';
import { AppError, InsufficientScopeError, TooManyRequestsError, UnauthorizedError, ValidationError, type BearerChallenge, type ErrorKind } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * RFC 9457 problem details, with the `errors` extension the RFC shows for per-field problems.
 * The schema documents every error response in the OpenAPI document (src/api/openapi.ts).
 */
export const problemSchema = z.object({
  type: z.string().describe('A URN naming the kind of problem: match on it, not on the title.'),
  title: z.string().describe('A short summary of the kind of problem.'),
  status: z.int().describe('The HTTP status code of the response.'),
  detail: z.string().describe('What went wrong with this request, for a developer to read.'),
  instance: z.string().describe('The path of the request.'),
  request_id: z.string().optional().describe('The X-Request-Id of the request, to quote when reporting a problem.'),
  errors: z
    .array(
      z.object({
        pointer: z.string().regex(/^#(\/.*)?$/).describe('A JSON Pointer (RFC 6901), in URI fragment form, to the member of the request body at fault; "#" for the body as a whole.'),
        detail: z.string(),
      }),
    )
    .optional()
    .describe('One entry per invalid field.'),
});

export type Problem = z.output<typeof problemSchema>;

/** Every kind of problem the API answers with: the errors of src/errors.ts, and the unexpected. */
export type ProblemKind = ErrorKind | 'internal';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types are stable URNs so clients can match on them whatever the deployment's host. */
export const PROBLEM_TYPES: Record<ProblemKind, { type: string; title: string; status: number }> = {
  invalid_input: { type: 'urn:latch:problem:invalid-request', title: 'The request is not valid', status: 400 },
  unsupported_media_type: { type: 'urn:latch:problem:unsupported-media-type', title: 'Unsupported media type', status: 415 },
  unauthorized: { type: 'urn:latch:problem:unauthorized', title: 'Authentication is required', status: 401 },
  forbidden: { type: 'urn:latch:problem:forbidden', title: 'Not allowed', status: 403 },
  not_found: { type: 'urn:latch:problem:not-found', title: 'Not found', status: 404 },
  method_not_allowed: { type: 'urn:latch:problem:method-not-allowed', title: 'Method not allowed', status: 405 },
  conflict: { type: 'urn:latch:problem:conflict', title: 'Conflict with the current state', status: 409 },
  too_many_requests: { type: 'urn:latch:problem:too-many-requests', title: 'Too many requests', status: 429 },
  unavailable: { type: 'urn:latch:problem:unavailable', title: 'Service temporarily unavailable', status: 503 },
  internal: { type: 'urn:latch:problem:internal', title: 'Internal server error', status: 500 },
};

/** A JSON Pointer (RFC 6901) in URI fragment form for a dotted field path. */
function pointerTo(field: string): string {
  if (field === '') return '#';
  return `#/${field
    .split('.')
    .map((segment) => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1')))
    .join('/')}`;
}

/** The protection space of every bearer-protected resource of Latch's API. */
const BEARER_REALM = 'latch';

/** RFC 6750 §3: the WWW-Authenticate value for a refused bearer request. */
function bearerChallenge({ error, description, scope }: BearerChallenge): string {
  // auth-param values are quoted-strings; RFC 6750 forbids `"` and `\` in them outright.
  const quoted = (value: string) => `"${value.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
  const params: [string, string | undefined][] = [
    ['realm', BEARER_REALM],
    ['error', error],
    ['error_description', description],
    ['scope', scope],
  ];
  return `Bearer ${params
    .filter((param): param is [string, string] => param[1] !== undefined)
    .map(([name, value]) => `${name}=${quoted(value)}`)
    .join(', ')}`;
}

function challengeOf(error: unknown): BearerChallenge | undefined {
  return error instanceof UnauthorizedError || error instanceof InsufficientScopeError ? error.challenge : undefined;
}

/** Seconds a client should wait before retrying while the database is away. */
export const RETRY_AFTER_SECONDS = 5;

export function toProblem(error: unknown, ctx: Context): Problem {
  const kind = error instanceof AppError ? error.kind : isDatabaseUnavailable(error) ? 'unavailable' : 'internal';
  const base = PROBLEM_TYPES[kind];
  const problem: Problem = {
    ...base,
    // Other errors keep their message to the log: it may name tables, hosts or worse.
    detail: error instanceof AppError ? error.message : kind === 'unavailable' ? 'Latch cannot reach its database. Try again shortly.' : 'Something went wrong on our side. Try again later.',
    instance: ctx.path,
    request_id: ctx.state.requestId,
  };
  if (error instanceof ValidationError) {
    problem.errors = error.issues.map((issue) => ({ pointer: pointerTo(issue.field), detail: issue.message }));
  }
  return problem;
}

/**
 * The REST API's one error boundary: every error below it leaves as problem+json, unexpected
 * ones as a bare 500 whose cause only reaches the log.
 */
export function problemResponses(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // Nothing below answered: an unknown path, or a known one with another method.
      if (ctx.body === undefined && ctx.status === 404) throw new NoSuchRoute(ctx.path);
      if (ctx.body === undefined && ctx.status === 405) throw new MethodNotAllowed(ctx.method, ctx.path);
    } catch (error) {
      const problem = toProblem(error, ctx);
      if (problem.status === 503) logger.warn({ reason: 'database unavailable' }, 'request refused');
      else if (problem.status >= 500) logger.error({ err: error }, 'request failed');
      const challenge = challengeOf(error);
      if (challenge) ctx.set('WWW-Authenticate', bearerChallenge(challenge));
      ctx.status = problem.status;
      ctx.type = PROBLEM_CONTENT_TYPE;
      ctx.body = problem;
      if (problem.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      if (error instanceof TooManyRequestsError) ctx.set('Retry-After', String(error.retryAfterSeconds));
    }
  };
}

class NoSuchRoute extends AppError {
  readonly kind = 'not_found';

  constructor(path: string) {
    super(`There is no resource at ${path}.`);
  }
}

class MethodNotAllowed extends AppError {
  readonly kind = 'method_not_allowed';

  constructor(method: string, path: string) {
    super(`${method} is not supported on ${path}.`);
  }
}
