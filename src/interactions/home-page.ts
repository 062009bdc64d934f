import type { Middleware } from 'koa';
import type { Views } from './views.js';

/**
 * What someone who opens Latch's own address sees: what it is, and where to go (their account, or
 * the discovery document for developers), rather than a bare Not Found. Only exactly `/`; every
 * other path is the provider's.
 */
export function homePage({ views, issuer }: { views: Views; issuer: string }): Middleware {
  const locals = { issuer, discoveryUrl: `${issuer}/.well-known/openid-configuration`, accountUrl: `${issuer}/account` };
  return async (ctx, next) => {
    // Koa answers HEAD with the headers of the GET and no body.
    if (ctx.path !== '/' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    await views.render(ctx, 'home', locals);
  };
}
