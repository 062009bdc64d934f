import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { AccountService } from '../account/account-service.js';
import type { ConnectedApps } from '../account/connected-apps.js';
import type { PasswordChange } from '../account/password-change.js';
import type { SignInSessions } from '../account/sign-in-sessions.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Authorization } from '../authorization/authorization.js';
import { refuseUnstorableUrl } from '../http/input-guard.js';
import { problemResponses } from '../http/problem.js';
import type { Logger } from '../logger.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { SelfService } from '../self-service/self-service.js';
import type { Throttles } from '../throttle/throttles.js';
import { mountAccountRoutes } from './account.js';
import { mountAdminRoutes } from './admin/router.js';
import type { BearerAuth } from './bearer-auth.js';
import { mountConnectedAppsRoutes } from './connected-apps.js';
import { mountOpenApi } from './openapi.js';
import { mountSelfServiceRoutes } from './self-service.js';
import { apiRoutes } from './operation.js';
import { mountUserRoutes } from './users.js';

export interface ApiDependencies {
  accounts: AccountService;
  /** The flows that go through mailed links: verification, password reset, email change. */
  selfService: SelfService;
  bearer: BearerAuth;
  /** Sessions, grants and tokens, ended on the user's behalf. */
  tokens: Pick<OidcStore, 'revokeByAccountId'>;
  changePassword: PasswordChange;
  connectedApps: ConnectedApps;
  sessions: SignInSessions;
  /** The same counters as the sign-in and registration pages. */
  throttles: Throttles;
  audit: AuditLog;
  /** Roles, resource servers and assignments: the admin API's. */
  authorization: Authorization;
  logger: Logger;
}

/** The REST API (/api/v1): its own router, body parsing and problem+json errors, apart from the OIDC endpoints. */
export function createApiRouter({ accounts, selfService, bearer, tokens, changePassword, connectedApps, sessions, throttles, audit, authorization, logger }: ApiDependencies): Middleware[] {
  const router = new Router({ prefix: '/api/v1' });
  const routes = apiRoutes(router, bearer);
  mountUserRoutes(routes, { accounts, selfService, registrationThrottle: throttles.registration });
  mountAccountRoutes(routes, { accounts, selfService, tokens, changePassword, signInThrottle: throttles.signIn, audit });
  mountConnectedAppsRoutes(routes, { connectedApps, sessions });
  mountSelfServiceRoutes(routes, { selfService });
  mountAdminRoutes(routes, { authorization });
  // Last: it documents every operation mounted before it.
  mountOpenApi(routes);
  const noStore: Middleware = (ctx, next) => {
    // Responses carry personal data: no shared cache may keep them. (The OpenAPI document, which carries none, says otherwise.)
    ctx.set('Cache-Control', 'no-store');
    return next();
  };
  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  // The end of the line: a path under /api/v1 that no route serves is the API's own 404, never another surface's page.
  const endOfApi: Middleware = async () => {};
  return [problemResponses(logger), noStore, refuseUnstorableUrl(), router.routes() as Middleware, router.allowedMethods() as Middleware, endOfApi];
}
