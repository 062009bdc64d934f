import type { Middleware } from 'koa';

/** Paths whose answers are the same for everyone and change rarely: discovery and the JWKS. */
const PUBLIC_METADATA = new Set(['/.well-known/openid-configuration', '/jwks']);

/**
 * Five minutes: long enough to spare Latch the polling of every relying party, short enough
 * that an emergency key rotation (--publish-for 0) reaches caches quickly. A normal rotation
 * publishes keys a day before they sign, so no cache ever misses a key that signs.
 */
export const PUBLIC_METADATA_MAX_AGE = 300;

export function publicMetadataCaching(): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.method === 'GET' && ctx.status === 200 && PUBLIC_METADATA.has(ctx.path)) {
      ctx.set('Cache-Control', `public, max-age=${PUBLIC_METADATA_MAX_AGE}`);
    }
  };
}
