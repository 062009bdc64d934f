import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountService } from '../account/account-service.js';
import type { ConnectedApps } from '../account/connected-apps.js';
import { NotFoundError } from '../errors.js';
import type { FactorService } from '../factors/factor-service.js';
import type { PasswordChange } from '../account/password-change.js';
import type { SignInSessions } from '../account/sign-in-sessions.js';
import { createCsrf } from '../interactions/csrf.js';
import { refuseUnstorableUrl } from '../http/input-guard.js';
import { errorPages, type ErrorPage } from '../interactions/error-pages.js';
import { CsrfError, FormBodyError } from '../interactions/errors.js';
import type { Views } from '../interactions/views.js';
import type { Logger } from '../logger.js';
import type { SessionSightings } from '../provider/session-sightings.js';
import { ACCOUNT_PATH } from './account-client.js';
import { createAccountPage } from './account-page.js';
import { createAccountSignIn } from './account-sign-in.js';
import { SignedOutError, SignInNotCompletedError, StaleSignInError } from './errors.js';
import type { SelfService } from '../self-service/self-service.js';
import type { Passkeys } from '../factors/passkeys/passkeys.js';
import { createAccountPageRoutes } from './routes.js';
import { createSecurityRoutes } from './security-routes.js';

export interface AccountPageSurfaceDependencies {
  issuer: string;
  apiResource: string;
  /** The provider serving now (it is rebuilt when signing keys rotate). */
  provider: () => Provider;
  views: Views;
  accounts: Pick<AccountService, 'findActive' | 'updateProfile'>;
  emailChange: Pick<SelfService, 'requestEmailChange'>;
  changePassword: PasswordChange;
  connectedApps: ConnectedApps;
  sessions: SignInSessions;
  sightings: Pick<SessionSightings, 'note'>;
  clientName: (clientId: string) => Promise<string | undefined>;
  factors: FactorService;
  passkeys: Passkeys;
  logger: Logger;
  now: () => Date;
}

const backToAccount = { href: ACCOUNT_PATH, text: 'Back to your account' };

/** The account page's refusals, in words; anything else is the shared "something went wrong". */
function explain(error: unknown): ErrorPage | undefined {
  if (error instanceof CsrfError) {
    return {
      status: 403,
      reason: 'csrf_mismatch',
      locals: { heading: 'This form could not be verified', message: 'Nothing was changed: the form did not come from your account page, or your browser did not send its cookie.', link: backToAccount },
    };
  }
  if (error instanceof FormBodyError) return { status: 400, reason: 'unreadable_form', locals: { heading: 'This form could not be read', message: 'Nothing was changed.', link: backToAccount } };
  if (error instanceof SignedOutError) {
    return { status: 401, reason: 'signed_out', locals: { heading: 'You are signed out', message: 'Nothing was changed: this browser is no longer signed in to Latch.', link: { href: ACCOUNT_PATH, text: 'Sign in again' } } };
  }
  if (error instanceof SignInNotCompletedError) {
    return { status: 400, reason: `account_sign_in_${error.reason}`, locals: { heading: 'You are not signed in', message: 'The sign-in was cancelled, or it was started in another window.', link: { href: ACCOUNT_PATH, text: 'Sign in to your account' } } };
  }
  if (error instanceof StaleSignInError) {
    return {
      status: 403,
      reason: 'stale_sign_in',
      locals: {
        heading: 'Confirm it is you first',
        message: 'Nothing was changed: changing how you sign in, or your email address, needs a sign-in of the last few minutes.',
        link: { href: `${ACCOUNT_PATH}/sign-in-again?${new URLSearchParams({ then: error.returnTo }).toString()}`, text: 'Sign in again' },
      },
    };
  }
  if (error instanceof NotFoundError) {
    return { status: 404, reason: 'not_found', locals: { heading: 'Already gone', message: 'That app, session or factor is not connected to your account any more: it may have been removed already.', link: backToAccount } };
  }
  return undefined;
}

/** The user's own account page at /account: profile, email, password, connected apps and sessions; their second factors at /account/security. */
export function createAccountPageSurface({ issuer, apiResource, provider, views, accounts, emailChange, changePassword, connectedApps, sessions, sightings, clientName, factors, passkeys, logger, now }: AccountPageSurfaceDependencies): Middleware[] {
  const csrf = createCsrf({ path: ACCOUNT_PATH });
  const signIn = createAccountSignIn({ issuer, provider, accounts });
  const routes = createAccountPageRoutes({
    signIn,
    page: createAccountPage({ views, csrf, connectedApps, sessions, clientName, apiResource }),
    csrf,
    accounts,
    emailChange,
    changePassword,
    connectedApps,
    sessions,
    sightings,
    now,
  });
  return [errorPages({ views, logger, explain }), refuseUnstorableUrl(), ...createSecurityRoutes({ signIn, csrf, views, factors, passkeys, now }), ...routes];
}
