import type { Middleware } from 'koa';

/** Headers every Latch response carries; pages add their own Content-Security-Policy. */
export function securityHeaders(): Middleware {
  return (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    return next();
  };
}
