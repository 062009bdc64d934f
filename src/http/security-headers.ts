import type { Middleware } from 'koa';
import type { Config } from '../config.js';

const ONE_YEAR = 31_536_000;

/**
 * Headers every Latch response carries. Pages add their own Content-Security-Policy; the
 * framing ban here also covers responses that are not pages.
 */
export function securityHeaders(config: Pick<Config, 'env'>): Middleware {
  return (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    // Only over TLS (directly or through a trusted proxy): browsers ignore HSTS on plain http anyway.
    if (config.env === 'production' && ctx.secure) ctx.set('Strict-Transport-Security', `max-age=${ONE_YEAR}; includeSubDomains`);
    return next();
  };
}
