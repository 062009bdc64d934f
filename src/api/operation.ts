import type { Router, RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';
import { refuseUnstorableBody } from '../http/input-guard.js';
import { PROBLEM_TYPES, type ProblemKind } from '../http/problem.js';
import { ADMIN_SCOPE } from '../authorization/seed.js';
import type { BearerAuth } from './bearer-auth.js';
import { jsonBody, parseBody } from './guard.js';

export type SuccessStatus = 200 | 201 | 202 | 204 | 304;

/** One successful answer of an operation. */
export interface Reply {
  description: string;
  /** The JSON body; none for an empty one. */
  body?: z.ZodType;
  /** Headers this answer always carries: name → what it holds. */
  headers?: Record<string, string>;
}

export type Replies = Partial<Record<SuccessStatus, Reply>>;

/**
 * One route of the REST API, declared once: the router mounts it (authentication, body parsing and
 * validation follow from `scope` and `body`) and the OpenAPI document describes it from the same
 * declaration, so the two cannot drift apart.
 */
export interface Operation<Body extends z.ZodType | undefined = z.ZodType | undefined, Answers extends Replies = Replies> {
  /** Unique; what generated clients name the call. */
  id: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Below /api/v1, in @koa/router syntax ("/users/:id"). */
  path: string;
  summary: string;
  description?: string;
  /**
   * Bearer authentication with an access token for Latch's API that was granted this scope.
   * `admin` is the admin API's: the administrator's roles must still grant it (BearerAuth.requireAdmin).
   */
  scope?: string;
  /** The JSON request body: it validates the body and documents it. */
  body?: Body;
  replies: Answers;
  /** Problems of the route's own work; those of authentication and of the body follow from `scope` and `body`. */
  problems: readonly ProblemKind[];
}

/** What a handler answers: one of its operation's replies, with a body of that reply's schema. */
export type Answer<Answers extends Replies> = {
  [Status in keyof Answers & SuccessStatus]: Answers[Status] extends { body: infer Body extends z.ZodType } ? { status: Status; body: z.input<Body> } : { status: Status };
}[keyof Answers & SuccessStatus];

export type Handler<Body extends z.ZodType | undefined, Answers extends Replies> = (
  ctx: RouterContext,
  body: Body extends z.ZodType ? z.output<Body> : undefined,
) => Answer<Answers> | Promise<Answer<Answers>>;

export interface ApiRoutes {
  add<Body extends z.ZodType | undefined, Answers extends Replies>(operation: Operation<Body, Answers>, handler: Handler<Body, Answers>): void;
  /** Every operation added so far, in order: what the OpenAPI document describes. */
  readonly operations: readonly Operation[];
}

export function apiRoutes(router: Router, bearer: BearerAuth): ApiRoutes {
  const operations: Operation[] = [];
  return {
    operations,
    add(operation, handler) {
      const { scope, body } = operation;
      const authentication = scope === undefined ? [] : [scope === ADMIN_SCOPE ? bearer.requireAdmin() : bearer.require(scope)];
      const before: Middleware[] = [...authentication, ...(body === undefined ? [] : [jsonBody(), refuseUnstorableBody()])];
      router[operation.method](operation.path, ...before, async (ctx) => {
        const input = (body === undefined ? undefined : parseBody(ctx, body)) as Parameters<typeof handler>[1];
        const answer: { status: SuccessStatus; body?: unknown } = await handler(ctx, input);
        ctx.status = answer.status;
        if (answer.body !== undefined) ctx.body = answer.body;
      });
      operations.push(operation as Operation);
    },
  };
}

/** Every problem an operation may answer with, by status: its own, and those its authentication and body imply. */
export function problemsOf(operation: Operation): ProblemKind[] {
  const implied: ProblemKind[] = [
    ...(operation.scope === undefined ? [] : (['unauthorized', 'forbidden'] as const)),
    ...(operation.body === undefined ? [] : (['invalid_input', 'unsupported_media_type'] as const)),
  ];
  return [...new Set([...implied, ...operation.problems])].sort((a, b) => PROBLEM_TYPES[a].status - PROBLEM_TYPES[b].status);
}
