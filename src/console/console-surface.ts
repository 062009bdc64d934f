import { resolve } from 'node:path';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Administration } from '../admin/administration.js';
import type { Authorization } from '../authorization/authorization.js';
import { BuiltInRoleError, PermissionNotFoundError, ResourceServerNotFoundError, RoleNotFoundError } from '../authorization/errors.js';
import { KeysNotReadyError } from '../admin/key-administration.js';
import { projectRoot } from '../config.js';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.js';
import { refuseUnstorableBody, refuseUnstorableUrl } from '../http/input-guard.js';
import { createCsrf } from '../interactions/csrf.js';
import { errorPages, type ErrorPage } from '../interactions/error-pages.js';
import { CsrfError, FormBodyError } from '../interactions/errors.js';
import { formBody } from '../interactions/form.js';
import type { Views } from '../interactions/views.js';
import type { Logger } from '../logger.js';
import { ClientNotFoundError } from '../provider/client-admin.js';
import { appsPages } from './apps-pages.js';
import { auditPage } from './audit-page.js';
import { createConsoleScript } from './console-assets.js';
import { CONSOLE_CLIENT_ID, CONSOLE_PATH } from './console-client.js';
import { consoleGuard, recentSignIn } from './console-guard.js';
import { sealedCookie, type ConsoleTokens, type PendingSignIn } from './console-session.js';
import { createConsoleSignIn } from './console-sign-in.js';
import { createConsoleViews } from './console-views.js';
import { ConsoleSignedOutError, ConsoleSignInError, StaleSignInError } from './errors.js';
import { rolesPages } from './roles-pages.js';
import { keysPages } from './keys-pages.js';
import { overviewPage } from './overview-page.js';
import { usersPages } from './users-pages.js';

export interface ConsoleSurfaceDependencies {
  issuer: string;
  /** Where the console is served: the issuer, or with ADMIN_PORT the admin listener's URL. */
  consoleUrl: string;
  /** config.secrets.keyEncryptionKey: the console's cookies are sealed under a key derived from it. */
  keyEncryptionKey: Buffer;
  /** How long a console session may last: the refresh token's lifetime. */
  sessionTtlSeconds: number;
  /** Compiled templates are kept (off in development). */
  cacheViews: boolean;
  admin: Pick<Administration, 'users' | 'auditEvents' | 'clients' | 'roles' | 'keys' | 'overview'>;
  /** Roles and the APIs whose permissions they grant, as the admin API's routes manage them. */
  authorization: Pick<Authorization, 'roles' | 'resourceServers'>;
  /** Latch's own clients, which the applications pages leave alone. */
  builtInClients: ReadonlySet<string>;
  /** The admin API's own guard (an access token for Latch's API whose roles grant `admin`). */
  adminGuard: Middleware;
  /** The administrator the guard found, as the audit trail names them. */
  actorOf: (ctx: Context) => string;
  clientName: (clientId: string) => Promise<string | undefined>;
  /** The shared error page. */
  views: Views;
  logger: Logger;
  now: () => Date;
}

/** Destructive actions need a sign-in of the last five minutes. */
const RECENT_SIGN_IN_SECONDS = 300;
const PENDING_SIGN_IN_SECONDS = 3600;

const backToConsole = { href: CONSOLE_PATH, text: 'Back to the admin console' };
const backToRoles = { href: `${CONSOLE_PATH}/roles`, text: 'Back to the roles and APIs' };

/** The console's refusals, in words; anything else is the shared "something went wrong". */
function explain(error: unknown): ErrorPage | undefined {
  if (error instanceof CsrfError) {
    return { status: 403, reason: 'csrf_mismatch', locals: { heading: 'This form could not be verified', message: 'Nothing was changed: the form did not come from the admin console, or your browser did not send its cookie.', link: backToConsole } };
  }
  if (error instanceof FormBodyError) return { status: 400, reason: 'unreadable_form', locals: { heading: 'This form could not be read', message: 'Nothing was changed.', link: backToConsole } };
  if (error instanceof ConsoleSignedOutError || error instanceof UnauthorizedError) {
    return { status: 401, reason: 'console_signed_out', locals: { heading: 'You are signed out of the admin console', message: 'Nothing was changed: sign in again, then repeat what you were doing.', link: { href: CONSOLE_PATH, text: 'Sign in to the admin console' } } };
  }
  if (error instanceof ConsoleSignInError && error.reason === 'second_factor_missing') {
    return {
      status: 403,
      reason: 'console_sign_in_second_factor_missing',
      locals: { heading: 'The admin console needs a second factor', message: 'Sign in again and set up an authenticator app when asked: the console does not open with a password alone.', link: { href: CONSOLE_PATH, text: 'Sign in to the admin console' } },
    };
  }
  if (error instanceof ConsoleSignInError) {
    return { status: 400, reason: `console_sign_in_${error.reason}`, locals: { heading: 'You are not signed in', message: 'The sign-in was cancelled, refused, or started in another window.', link: { href: CONSOLE_PATH, text: 'Sign in to the admin console' } } };
  }
  if (error instanceof StaleSignInError) {
    return { status: 403, reason: 'console_sign_in_stale', locals: { heading: 'Sign in again first', message: 'Nothing was changed: this action needs a sign-in of the last few minutes. Open it again from the console to be asked to sign in.', link: backToConsole } };
  }
  if (error instanceof ForbiddenError) {
    return { status: 403, reason: 'console_not_admin', locals: { heading: 'This is for administrators', message: 'Your account does not have the admin role, so the admin console is closed to it. Ask an administrator if you need it.', link: { href: '/account', text: 'Go to your account' } } };
  }
  if (error instanceof KeysNotReadyError) {
    return { status: 409, reason: 'keys_not_ready', locals: { heading: 'The keys cannot be rotated yet', message: 'Nothing was changed: some algorithm has no key signing yet. Latch creates the first keys when it starts; once it has, rotate again.', link: { href: `${CONSOLE_PATH}/keys`, text: 'Back to the signing keys' } } };
  }
  if (error instanceof ClientNotFoundError) return { status: 404, reason: 'not_found', locals: { heading: 'No such app', message: 'There is no app with this client id: it may have been deleted.', link: { href: `${CONSOLE_PATH}/apps`, text: 'Back to the applications' } } };
  if (error instanceof RoleNotFoundError) return { status: 404, reason: 'not_found', locals: { heading: 'No such role', message: 'There is no role of this name: it may have been deleted.', link: backToRoles } };
  if (error instanceof ResourceServerNotFoundError) return { status: 404, reason: 'not_found', locals: { heading: 'No such API', message: 'There is no API with this id: it may have been deleted.', link: backToRoles } };
  if (error instanceof PermissionNotFoundError) return { status: 404, reason: 'not_found', locals: { heading: 'No such permission', message: 'Nothing was changed: this permission no longer exists. It may have been removed meanwhile.', link: backToRoles } };
  if (error instanceof BuiltInRoleError) return { status: 409, reason: 'built_in_role', locals: { heading: 'The admin role stays', message: `Nothing was changed. ${error.message}`, link: backToRoles } };
  if (error instanceof NotFoundError) return { status: 404, reason: 'not_found', locals: { heading: 'No such user', message: 'There is no user with this id: it may have been deleted.', link: { href: `${CONSOLE_PATH}/users`, text: 'Back to the users' } } };
  if (error instanceof ValidationError) return { status: 400, reason: 'invalid_input', locals: { heading: 'This request could not be read', message: error.message, link: backToConsole } };
  return undefined;
}

/**
 * The admin console at /admin: a relying party of Latch (console-sign-in.ts) whose every page is
 * authorized through the administrator's own token by the admin API's guard (console-guard.ts), and
 * whose every action calls the same administration services as the admin API and the CLI.
 */
export function createConsoleSurface({ issuer, consoleUrl, keyEncryptionKey, sessionTtlSeconds, cacheViews, admin, authorization, builtInClients, adminGuard, actorOf, clientName, views: sharedViews, logger, now }: ConsoleSurfaceDependencies): Middleware[] {
  const csrf = createCsrf({ path: CONSOLE_PATH });
  const script = createConsoleScript();
  const views = createConsoleViews({ directory: resolve(projectRoot, 'views'), cache: cacheViews, csrf, script });
  const pending = sealedCookie<PendingSignIn>({ name: 'latch.console.sign-in', keyEncryptionKey, ttlSeconds: PENDING_SIGN_IN_SECONDS, now });
  const session = sealedCookie<ConsoleTokens>({ name: 'latch.console', keyEncryptionKey, ttlSeconds: sessionTtlSeconds, now });
  const signIn = createConsoleSignIn({ issuer, consoleUrl, pending, session, logger, now });

  const guard = consoleGuard({ session, signIn, adminGuard });
  const page = [guard];
  const form = [formBody(), refuseUnstorableBody(), csrf.verify(), guard];
  const signInAgain = async (ctx: Context, returnTo: string) => {
    if (now().getTime() / 1000 - (ctx.state.consoleTokens?.authTime ?? 0) <= RECENT_SIGN_IN_SECONDS) return false;
    await signIn.start(ctx, { returnTo, maxAge: 0 });
    return true;
  };

  // A page asked for without a console session starts the sign-in and comes back to it; a form post says so instead (its body cannot be replayed).
  const signInFirst: Middleware = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof ConsoleSignedOutError) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) throw error;
      await signIn.start(ctx, { returnTo: ctx.originalUrl });
    }
  };

  const router = new Router({ prefix: CONSOLE_PATH });
  router.get('/callback', (ctx) => signIn.finish(ctx));
  // Signing out of the console ends its tokens, then the Latch session through oidc-provider's own logout page.
  router.post('/sign-out', formBody(), refuseUnstorableBody(), csrf.verify(), async (ctx) => {
    const tokens = await session.read(ctx);
    session.clear(ctx);
    if (tokens?.refreshToken) await signIn.revoke(tokens.refreshToken);
    ctx.status = 303;
    ctx.redirect(`${issuer}/session/end?${new URLSearchParams({ client_id: CONSOLE_CLIENT_ID }).toString()}`);
  });

  const recent = recentSignIn({ maxAgeSeconds: RECENT_SIGN_IN_SECONDS, now });
  const overview = overviewPage({ admin, views, page });
  const users = usersPages({ admin, authorization, views, page, form, recent, reauthenticate: signInAgain, clientName, actorOf });
  const keys = keysPages({ admin, views, page, form, recent, reauthenticate: signInAgain, actorOf, now });
  const apps = appsPages({ issuer, admin, views, page, form, builtIn: builtInClients, actorOf });
  const roles = rolesPages({ authorization, views, page, form, recent, reauthenticate: signInAgain, actorOf });
  const audit = auditPage({ admin, views, page });

  return [
    script.middleware,
    errorPages({ views: sharedViews, logger, explain }),
    refuseUnstorableUrl(),
    signInFirst,
    // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
    router.routes() as Middleware,
    router.allowedMethods() as Middleware,
    ...overview,
    ...users,
    ...apps,
    ...roles,
    ...keys,
    ...audit,
  ];
}
