import type { Context, Middleware } from 'koa';
import { AppError, ValidationError, type ErrorKind } from '../errors.js';
import type { Logger } from '../logger.js';

/** RFC 9457 problem details, with the `errors` extension the RFC shows for per-field problems. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id?: string;
  errors?: { pointer: string; detail: string }[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types are stable URNs so clients can match on them whatever the deployment's host. */
const PROBLEM_TYPES: Record<ErrorKind | 'internal', { type: string; title: string; status: number }> = {
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

export function toProblem(error: unknown, ctx: Context): Problem {
  const kind = error instanceof AppError ? error.kind : 'internal';
  const base = PROBLEM_TYPES[kind];
  const problem: Problem = {
    ...base,
    // Internal errors keep their message to the log: it may name tables, hosts or worse.
    detail: error instanceof AppError ? error.message : 'Something went wrong on our side. Try again later.',
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
      if (problem.status >= 500) {
        logger.error({ err: error }, 'request failed');
      }
      ctx.status = problem.status;
      ctx.type = PROBLEM_CONTENT_TYPE;
      ctx.body = problem;
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
