import type { Context, Middleware } from 'koa';

/** Paths whose answers are the same for everyone and change rarely: discovery and the JWKS. */
const PUBLIC_METADATA = new Set(['/.well-known/openid-configuration', '/jwks']);

/**
 * Five minutes: long enough to spare Latch the polling of every relying party, short enough
 * that an emergency key rotation (--publish-for 0) reaches caches quickly. A normal rotation
 * publishes keys a day before they sign, so no cache ever misses a key that signs.
 */
export const PUBLIC_METADATA_MAX_AGE = 300;

/** oidc-provider's answer to one of those paths, as it was sent: what the provider set, and the body serialised once. */
interface KeptAnswer {
  headers: [string, string | string[]][];
  body: Buffer;
  route: unknown;
}

/**
 * Discovery and the JWKS, answered from memory after the provider's first answer: they change only
 * with the provider itself, which is rebuilt on every key rotation (so answers are kept per provider
 * instance). This spares every such request the middleware below, oidc-provider's router and its
 * JSON serialisation, which were most of their cost (bench/README.md). Only plain GETs are answered
 * so: a query or an Origin header (CORS answers differ by it) goes to the provider as before.
 * Every answer from the provider to these paths gets the Cache-Control header.
 */
export function publicMetadataCaching(currentProvider: () => object): Middleware {
  const kept = new WeakMap<object, Map<string, KeptAnswer>>();
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || !PUBLIC_METADATA.has(ctx.path)) return next();
    const provider = currentProvider();
    const keepable = ctx.querystring === '' && ctx.get('Origin') === '';
    const answer = keepable ? kept.get(provider)?.get(ctx.path) : undefined;
    if (answer) return serve(ctx, answer);

    const before = new Map(Object.entries(ctx.response.headers).map(([name, value]) => [name, String(value)]));
    await next();
    if (ctx.status !== 200) return;
    ctx.set('Cache-Control', `public, max-age=${PUBLIC_METADATA_MAX_AGE}`);
    if (!keepable || typeof ctx.body !== 'object' || ctx.body === null || Buffer.isBuffer(ctx.body)) return;
    const body = Buffer.from(JSON.stringify(ctx.body));
    // What the provider and this middleware set (or changed), not what the middleware above sets again on every request.
    const headers = Object.entries(ctx.response.headers).filter(([name, value]) => name !== 'content-length' && before.get(name) !== String(value)) as KeptAnswer['headers'];
    let answers = kept.get(provider);
    if (!answers) kept.set(provider, (answers = new Map()));
    answers.set(ctx.path, { headers, body, route: matchedRoute(ctx) });
    ctx.body = body;
  };
}

function serve(ctx: Context, { headers, body, route }: KeptAnswer): void {
  for (const [name, value] of headers) ctx.set(name, value);
  // The route oidc-provider's router matched, for the request log and metrics, as if it had answered.
  (ctx as unknown as { _matchedRoute: unknown })._matchedRoute = route;
  ctx.body = body;
}

function matchedRoute(ctx: Context): unknown {
  return (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
}
