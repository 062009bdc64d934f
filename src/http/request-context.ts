import { createHash, randomUUID } from 'node:crypto';
import type { RouterContext } from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { unredacted, withLogContext, type Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';

/** A caller's request id is kept only when it is short and plain, so it is safe to log and echo. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'koa' {
  interface DefaultState {
    requestId: string;
  }
}

/**
 * A bounded label for metrics and logs: the pattern a router matched (Latch's routers and
 * oidc-provider's both record it), the health paths, or "other". Never the raw path, which holds
 * ids and would make every request its own series.
 */
function routeOf(ctx: Context): string {
  // @koa/router records the matched pattern on the context without declaring it on Koa's type.
  const pattern = (ctx as unknown as Partial<RouterContext>)._matchedRoute;
  if (typeof pattern === 'string') return pattern;
  return ctx.path === '/healthz' || ctx.path === '/readyz' ? ctx.path : 'other';
}

/** Lets log lines of one user be correlated without the log holding the id itself. */
function pseudonym(accountId: string | undefined): string | undefined {
  return accountId && createHash('sha256').update(`latch-log:${accountId}`).digest('base64url').slice(0, 16);
}

/**
 * Gives every request an id (echoed in `X-Request-Id`, and on every line logged while it is
 * handled), times it for the route histogram, then logs one line when the response is done.
 * Only the path is logged, never the query string or headers: both can carry codes, tokens and
 * email addresses.
 */
export function requestContext(logger: Logger, metrics: Metrics): Middleware {
  // The line below holds method, path, route, status, timing, client id and a pseudonym: nothing to redact.
  const requestLog = unredacted(logger);
  return (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);

    return withLogContext({ requestId }, async () => {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = routeOf(ctx);
        const { oidc } = ctx as Partial<KoaContextWithOIDC>;
        metrics.httpRequestDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
        const line = {
          method: ctx.method,
          path: ctx.path,
          route,
          status: ctx.status,
          durationMs: Math.round(seconds * 10_000) / 10,
          clientId: oidc?.client?.clientId,
          user: pseudonym(ctx.state.caller?.user.id ?? oidc?.session?.accountId ?? oidc?.entities?.Account?.accountId),
        };
        if (ctx.status >= 500) requestLog.error(line, 'request');
        else requestLog.info(line, 'request');
      }
    });
  };
}
