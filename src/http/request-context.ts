import { randomUUID } from 'node:crypto';
import type { RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import { withLogContext, type Logger } from '../logger.js';

/** A caller's request id is kept only when it is short and plain, so it is safe to log and echo. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'koa' {
  interface DefaultState {
    requestId: string;
  }
}

/**
 * Gives every request an id (echoed in `X-Request-Id`, and on every line logged while it is
 * handled), then logs one line when the response is done. Only the path is logged, never the
 * query string or headers: both can carry codes, tokens and email addresses.
 */
export function requestContext(logger: Logger): Middleware {
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
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        // @koa/router records the matched pattern on the context without declaring it on Koa's type.
        const route = (ctx as unknown as Partial<RouterContext>)._matchedRoute;
        const line = {
          method: ctx.method,
          path: ctx.path,
          route: typeof route === 'string' ? route : undefined,
          status: ctx.status,
          durationMs: Math.round(durationMs * 10) / 10,
        };
        if (ctx.status >= 500) logger.error(line, 'request');
        else logger.info(line, 'request');
      }
    });
  };
}
