import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { AccountService } from '../account/account-service.js';
import { problemResponses } from '../http/problem.js';
import type { Logger } from '../logger.js';
import { mountUserRoutes } from './users.js';

/** The REST API (/api/v1): its own router, body parsing and problem+json errors, apart from the OIDC endpoints. */
export function createApiRouter({ accounts, logger }: { accounts: AccountService; logger: Logger }): Middleware[] {
  const router = new Router({ prefix: '/api/v1' });
  mountUserRoutes(router, { accounts });
  const noStore: Middleware = (ctx, next) => {
    // Responses carry personal data: no shared cache may keep them.
    ctx.set('Cache-Control', 'no-store');
    return next();
  };
  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [problemResponses(logger), noStore, router.routes() as Middleware, router.allowedMethods() as Middleware];
}
