import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';

/** Where a request came from, as the audit trail records it. */
export interface Origin {
  ip?: string;
  userAgent?: string;
}

const origins = new AsyncLocalStorage<Origin>();

/** The origin of the request being handled, if any (the CLI has none). */
export function currentOrigin(): Origin {
  return origins.getStore() ?? {};
}

/** At most this much of a User-Agent is kept: enough to tell a device, not a place to store a novel. */
const USER_AGENT_MAX = 512;

/**
 * Remembers the client address (as Koa sees it behind TRUST_PROXY) and user agent of each request,
 * so that whichever service records an audit event on its behalf has them without a context being
 * threaded through every call.
 */
export function auditOrigin(): Middleware {
  return (ctx, next) => origins.run({ ip: ctx.ip || undefined, userAgent: ctx.get('User-Agent').slice(0, USER_AGENT_MAX) || undefined }, next);
}
