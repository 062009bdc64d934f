import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { AccountService } from '../account/account-service.js';
import type { ConnectedApps } from '../account/connected-apps.js';
import type { PasswordChange } from '../account/password-change.js';
import { EDITABLE_PROFILE_FIELDS, type ProfileChanges } from '../account/profile-changes.js';
import type { SignInSessions } from '../account/sign-in-sessions.js';
import { EmailTakenError } from '../account/errors.js';
import { TooManyRequestsError, ValidationError } from '../errors.js';
import type { SelfService } from '../self-service/self-service.js';
import type { Csrf } from '../interactions/csrf.js';
import { refuseUnstorableBody } from '../http/input-guard.js';
import { formBody, formField } from '../interactions/form.js';
import type { SessionSightings } from '../provider/session-sightings.js';
import { ACCOUNT_PATH } from './account-client.js';
import { NOTICES, type AccountPage, type FormState, type Notice } from './account-page.js';
import { isReturnPath, type AccountSignIn, type AccountVisitor } from './account-sign-in.js';
import { requireRecentSignIn } from './recent-sign-in.js';
import { SignedOutError } from './errors.js';

declare module 'koa' {
  interface DefaultState {
    /** Set on the account page's form posts once the browser's session is found. */
    accountVisitor?: AccountVisitor;
  }
}

export interface AccountPageRoutesDependencies {
  signIn: AccountSignIn;
  page: AccountPage;
  csrf: Csrf;
  accounts: Pick<AccountService, 'updateProfile'>;
  emailChange: Pick<SelfService, 'requestEmailChange'>;
  changePassword: PasswordChange;
  connectedApps: Pick<ConnectedApps, 'revokeClient'>;
  sessions: Pick<SignInSessions, 'end' | 'endOthers'>;
  sightings: Pick<SessionSightings, 'note'>;
  now: () => Date;
}

const isNotice = (value: unknown): value is Notice => typeof value === 'string' && Object.hasOwn(NOTICES, value);

/** Post/redirect/get: a reload after an action does not repeat it. */
function done(ctx: Context, notice: Notice): void {
  ctx.status = 303;
  ctx.redirect(`${ACCOUNT_PATH}?done=${notice}`);
}

export function visitorOf(ctx: Context): AccountVisitor {
  const { accountVisitor } = ctx.state;
  if (!accountVisitor) throw new Error(`${ctx.method} ${ctx.path} reads the visitor without requiring a session`);
  return accountVisitor;
}

/** What every form post of the account pages goes through: parsed, checked against its anti-forgery token, then its session. */
export function accountForm(signIn: AccountSignIn, csrf: Csrf): Middleware[] {
  const signedIn: Middleware = async (ctx, next) => {
    const visitor = await signIn.visitor(ctx);
    if (!visitor) throw new SignedOutError();
    ctx.state.accountVisitor = visitor;
    await next();
  };
  return [formBody(), refuseUnstorableBody(), csrf.verify(), signedIn];
}

/** The account page (/account) and its forms. */
export function createAccountPageRoutes({ signIn, page, csrf, accounts, emailChange, changePassword, connectedApps, sessions, sightings, now }: AccountPageRoutesDependencies): Middleware[] {
  const form = accountForm(signIn, csrf);

  const router = new Router({ prefix: ACCOUNT_PATH });
  router.get('/', async (ctx) => {
    const visitor = await signIn.visitor(ctx);
    if (!visitor) return signIn.start(ctx);
    await sightings.note(ctx, { uid: visitor.sessionUid, accountId: visitor.user.id });
    await page.render(ctx, visitor, { notice: isNotice(ctx.query.done) ? ctx.query.done : undefined });
  });
  router.get('/callback', (ctx) => signIn.finish(ctx));
  // Where a change refused for want of a recent sign-in (recent-sign-in.ts) sends the browser: a whole new sign-in, then back.
  router.get('/sign-in-again', (ctx) => {
    signIn.start(ctx, { returnTo: isReturnPath(ctx.query.then) ? ctx.query.then : ACCOUNT_PATH, reauthenticate: true });
  });

  router.post('/profile', ...form, async (ctx) => {
    const visitor = visitorOf(ctx);
    // Every field is posted; an empty one clears its claim, as null does in PATCH /api/v1/users/me.
    const values = Object.fromEntries(EDITABLE_PROFILE_FIELDS.map((field) => [field, formField(ctx, field)])) as Record<(typeof EDITABLE_PROFILE_FIELDS)[number], string>;
    try {
      await accounts.updateProfile(visitor.user.id, values satisfies ProfileChanges);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fieldErrors: FormState['fieldErrors'] = Object.fromEntries(error.issues.map(({ field, message }) => [field, message]));
      return page.render(ctx, visitor, { form: { values, fieldErrors, errors: { profile: 'The profile was not saved: correct the fields below.' } }, status: 400 });
    }
    done(ctx, 'profile');
  });

  // Moving the address is how a password reset would reach someone else: a recent sign-in first.
  router.post('/email', ...form, requireRecentSignIn(now, ACCOUNT_PATH), async (ctx) => {
    const visitor = visitorOf(ctx);
    try {
      await emailChange.requestEmailChange(visitor.user.id, formField(ctx, 'email'));
    } catch (error) {
      const refusal = emailChangeRefusal(error);
      if (!refusal) throw error;
      if (error instanceof TooManyRequestsError) ctx.set('Retry-After', String(error.retryAfterSeconds));
      return page.render(ctx, visitor, { form: { errors: { email: refusal.message } }, status: refusal.status });
    }
    done(ctx, 'email');
  });

  router.post('/password', ...form, async (ctx) => {
    const visitor = visitorOf(ctx);
    try {
      await changePassword({ user: visitor.user, ip: ctx.ip }, formField(ctx, 'currentPassword'), formField(ctx, 'newPassword'), { sessionUid: visitor.sessionUid });
    } catch (error) {
      if (error instanceof TooManyRequestsError) {
        ctx.set('Retry-After', String(error.retryAfterSeconds));
        return page.render(ctx, visitor, { form: { errors: { currentPassword: error.message } }, status: 429 });
      }
      if (!(error instanceof ValidationError)) throw error;
      const errors: NonNullable<FormState['errors']> = {};
      for (const { field, message } of error.issues) {
        if (field === 'currentPassword' || field === 'newPassword') errors[field] = errors[field] ? `${errors[field]} ${message}` : message;
      }
      return page.render(ctx, visitor, { form: { errors }, status: 400 });
    }
    done(ctx, 'password');
  });

  router.post('/apps/revoke', ...form, async (ctx) => {
    await connectedApps.revokeClient(visitorOf(ctx).user.id, formField(ctx, 'client'));
    done(ctx, 'app');
  });

  router.post('/sessions/end', ...form, async (ctx) => {
    await sessions.end(visitorOf(ctx).user.id, formField(ctx, 'session'));
    done(ctx, 'session');
  });

  router.post('/sessions/end-others', ...form, async (ctx) => {
    const { user, sessionUid } = visitorOf(ctx);
    await sessions.endOthers(user.id, sessionUid);
    done(ctx, 'sessions');
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}

/** The refusals of an email change that the form explains next to its field, with their status. */
function emailChangeRefusal(error: unknown): { message: string; status: number } | undefined {
  if (error instanceof ValidationError) return { message: error.issues.map((issue) => issue.message).join(' ') || error.message, status: 400 };
  if (error instanceof EmailTakenError) return { message: 'Another account has this address.', status: 409 };
  if (error instanceof TooManyRequestsError) return { message: error.message, status: 429 };
  return undefined;
}
