import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { TooManyRequestsError } from '../errors.js';
import type { FactorService } from '../factors/factor-service.js';
import { MAX_PASSKEY_NAME_LENGTH, type Passkeys } from '../factors/passkeys/passkeys.js';
import type { Csrf } from '../interactions/csrf.js';
import { formField } from '../interactions/form.js';
import type { Views } from '../interactions/views.js';
import { SECURITY_PATH } from './account-client.js';
import type { AccountSignIn, AccountVisitor } from './account-sign-in.js';
import { addPasskeyRoutes, PASSKEY_NOTICES } from './passkey-routes.js';
import { requireRecentSignIn, signedInRecently } from './recent-sign-in.js';
import { accountForm, visitorOf } from './routes.js';

/** What the page says after an action (?done=...): a fixed list, so a link cannot put words on the page. */
const NOTICES = {
  totp: 'Your authenticator app is set up: signing in now asks for a code from it.',
  removed: 'The factor has been removed.',
  ...PASSKEY_NOTICES,
} as const;
type Notice = keyof typeof NOTICES;
const isNotice = (value: unknown): value is Notice => typeof value === 'string' && Object.hasOwn(NOTICES, value);

const WRONG_CODE = 'That code is not right. Enter the six digits the app shows now.';
const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const formatted = (date: Date) => `${when.format(date)} UTC`;

function done(ctx: Context, notice: Notice): void {
  ctx.status = 303;
  ctx.redirect(`${SECURITY_PATH}?done=${notice}`);
}

/** /account/security: the user's second factors, to set up and remove, and their recovery codes. */
export function createSecurityRoutes({ signIn, csrf, views, factors, passkeys, now }: { signIn: AccountSignIn; csrf: Csrf; views: Views; factors: FactorService; passkeys: Passkeys; now: () => Date }): Middleware[] {
  const signedIn = accountForm(signIn, csrf);
  // Every change here needs a recent sign-in; the page itself asks for one before showing the forms.
  const form = [...signedIn, requireRecentSignIn(now, SECURITY_PATH)];

  const render = async (ctx: Context, { user }: AccountVisitor, notice?: Notice, { passkeyError, status }: { passkeyError?: string; status?: number } = {}) => {
    const [listed, recoveryCodesLeft, keys] = await Promise.all([factors.list(user.id), factors.unusedRecoveryCodes(user.id), passkeys.list(user.id)]);
    await views.render(ctx, 'security', {
      factors: listed.map((factor) => ({ id: factor.id, name: factor.name, added: formatted(factor.createdAt), lastUsed: factor.lastUsedAt ? formatted(factor.lastUsedAt) : undefined })),
      recoveryCodesLeft,
      passkeys: keys.map((key) => ({
        id: key.id,
        name: key.name,
        kind: key.deviceType === 'multiDevice' ? 'synced passkey' : 'on one device',
        created: formatted(key.createdAt),
        lastUsed: key.lastUsedAt ? formatted(key.lastUsedAt) : undefined,
      })),
      maxPasskeyNameLength: MAX_PASSKEY_NAME_LENGTH,
      passkeyError,
      notice: notice && NOTICES[notice],
      csrf: csrf.token(ctx),
    }, status);
  };
  const renderCodes = (ctx: Context, codes: string[]) => views.render(ctx, 'recovery-codes', { codes, continue: { url: SECURITY_PATH, label: 'I have saved them' }, csrf: csrf.token(ctx) });

  const router = new Router({ prefix: SECURITY_PATH });
  router.get('/', async (ctx) => {
    const visitor = await signIn.visitor(ctx);
    if (!visitor) return signIn.start(ctx, { returnTo: SECURITY_PATH });
    if (!signedInRecently(visitor, now)) return signIn.start(ctx, { returnTo: SECURITY_PATH, reauthenticate: true });
    await render(ctx, visitor, isNotice(ctx.query.done) ? ctx.query.done : undefined);
  });
  // The recovery codes page's button posts here: back to the page, nothing to do (and nothing to sign in again for).
  router.post('/', ...signedIn, (ctx) => {
    ctx.status = 303;
    ctx.redirect(SECURITY_PATH);
  });

  router.post('/totp', ...form, async (ctx) => {
    const enrolment = await factors.startTotp(visitorOf(ctx).user);
    await views.render(ctx, 'security-totp', { enrolment, csrf: csrf.token(ctx) });
  });

  router.post('/totp/confirm', ...form, async (ctx) => {
    const { user } = visitorOf(ctx);
    const enrolment = await factors.enrolment(user, formField(ctx, 'factor'));
    // Confirmed already (a double submit) or never this user's: the page shows where things stand.
    if (!enrolment) return done(ctx, 'totp');
    let confirmation;
    try {
      confirmation = await factors.confirmTotp(user.id, enrolment.factorId, formField(ctx, 'code'));
    } catch (error) {
      if (!(error instanceof TooManyRequestsError)) throw error;
      ctx.set('Retry-After', String(error.retryAfterSeconds));
      return views.render(ctx, 'security-totp', { enrolment, csrf: csrf.token(ctx), error: error.message }, 429);
    }
    if (!confirmation.confirmed) return views.render(ctx, 'security-totp', { enrolment, csrf: csrf.token(ctx), error: WRONG_CODE }, 400);
    if (confirmation.recoveryCodes) return renderCodes(ctx, confirmation.recoveryCodes);
    done(ctx, 'totp');
  });

  router.post('/factors/remove', ...form, async (ctx) => {
    await factors.remove(visitorOf(ctx).user.id, formField(ctx, 'factor'));
    done(ctx, 'removed');
  });

  router.post('/recovery-codes', ...form, async (ctx) => {
    await renderCodes(ctx, await factors.regenerateRecoveryCodes(visitorOf(ctx).user.id));
  });

  addPasskeyRoutes(router, { form, passkeys, refuse: (ctx, message, status) => render(ctx, visitorOf(ctx), undefined, { passkeyError: message, status }), done });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
