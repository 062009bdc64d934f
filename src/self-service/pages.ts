import Router, { type RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { EmailTakenError } from '../account/errors.js';
import { MIN_PASSWORD_LENGTH } from '../account/password-policy.js';
import { TooManyRequestsError, ValidationError } from '../errors.js';
import { refuseUnstorableBody, refuseUnstorableUrl } from '../http/input-guard.js';
import type { Csrf } from '../interactions/csrf.js';
import { formBody, formField } from '../interactions/form.js';
import { signInPageUrl } from '../interactions/routes/notices.js';
import { setRetryAfter } from '../interactions/routes/retry-after.js';
import type { PageLocals, Views } from '../interactions/views.js';
import { INTERACTION_PATH } from '../provider/configuration.js';
import { InvalidLinkError } from './errors.js';
import { SELF_SERVICE_PATH } from './paths.js';
import type { SelfService } from './self-service.js';

export interface SelfServicePagesDependencies {
  selfService: SelfService;
  views: Views;
  csrf: Csrf;
  /** The provider serving now: whether a sign-in a flow started from is still alive. */
  provider: () => Provider;
}

type ResetErrors = PageLocals['reset-password']['errors'];

const INVALID_LINK = {
  heading: 'This link no longer works',
  paragraphs: ['It has expired, was already used, or a newer link replaced it. Ask for a new one where you asked for this one.'],
};
/** oidc-provider's interaction ids: what a URL may name as the sign-in to return to. */
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The pages mailed links open, under /self-service: forgot password, reset password, verify email,
 * confirm a new email. A link only shows a page; what it does happens on the page's form post, so a
 * mail scanner that follows links uses nothing up.
 */
export function createSelfServicePages({ selfService, views, csrf, provider }: SelfServicePagesDependencies): Middleware[] {
  const router = new Router({ prefix: SELF_SERVICE_PATH });
  const form = [formBody(), refuseUnstorableBody(), csrf.verify()];
  const tokenOf = (ctx: RouterContext) => (typeof ctx.query.token === 'string' ? ctx.query.token : formField(ctx, 'token'));
  const interactionOf = (value: unknown) => (typeof value === 'string' && INTERACTION_UID.test(value) ? value : undefined);
  /** Whether the sign-in a flow came from can still go on: then the browser goes back to it. */
  const alive = async (uid: string | null) => uid !== null && (await provider().Interaction.find(uid)) !== undefined;
  const invalidLink = (ctx: RouterContext) => views.render(ctx, 'message', INVALID_LINK, 400);

  /** A page that only asks for a click, so that the link itself changes nothing. */
  const confirmPage = (page: string, heading: string, label: string) => async (ctx: RouterContext) => {
    await views.render(ctx, 'message', {
      heading,
      paragraphs: ['Press the button to go on.'],
      action: { url: `${SELF_SERVICE_PATH}/${page}?token=${encodeURIComponent(tokenOf(ctx))}`, label, csrf: csrf.token(ctx) },
    });
  };

  router.get('/forgot-password', async (ctx) => {
    await views.render(ctx, 'forgot-password', { csrf: csrf.token(ctx), email: '', interactionUid: interactionOf(ctx.query.interaction) });
  });

  router.post('/forgot-password', ...form, async (ctx) => {
    const email = formField(ctx, 'email');
    const interactionUid = interactionOf(formField(ctx, 'interaction'));
    if (email.trim() === '') return views.render(ctx, 'forgot-password', { csrf: csrf.token(ctx), email, interactionUid, error: 'Enter your email address.' }, 400);
    try {
      await selfService.requestPasswordReset(email, { interactionUid });
    } catch (error) {
      if (!(error instanceof TooManyRequestsError)) throw error;
      setRetryAfter(ctx, error.retryAfterSeconds);
      return views.render(ctx, 'forgot-password', { csrf: csrf.token(ctx), email, interactionUid, error: error.message }, 429);
    }
    await views.render(ctx, 'message', {
      heading: 'Check your inbox',
      paragraphs: ['If an account has this address, we have mailed it a link to choose a new password. Open it in this browser, soon: it works only for a short while.'],
      ...(interactionUid ? { link: { href: `${INTERACTION_PATH}/${interactionUid}`, label: 'Back to sign in' } } : {}),
    });
  });

  router.get('/reset-password', async (ctx) => {
    const token = tokenOf(ctx);
    const reset = await selfService.passwordResetFor(token);
    if (!reset) return invalidLink(ctx);
    await views.render(ctx, 'reset-password', { csrf: csrf.token(ctx), token, email: '', minPasswordLength: MIN_PASSWORD_LENGTH, errors: {} });
  });

  router.post('/reset-password', ...form, async (ctx) => {
    const token = tokenOf(ctx);
    const email = formField(ctx, 'email');
    let outcome;
    try {
      outcome = await selfService.resetPassword(token, { email, newPassword: formField(ctx, 'newPassword') });
    } catch (error) {
      if (error instanceof InvalidLinkError) return invalidLink(ctx);
      if (!(error instanceof ValidationError)) throw error;
      const errors: ResetErrors = {};
      for (const issue of error.issues) {
        const field = issue.field === 'email' || issue.field === 'newPassword' ? issue.field : 'form';
        errors[field] = errors[field] ? `${errors[field]} ${issue.message}` : issue.message;
      }
      return views.render(ctx, 'reset-password', { csrf: csrf.token(ctx), token, email, minPasswordLength: MIN_PASSWORD_LENGTH, errors }, 400);
    }
    if (await alive(outcome.interactionUid)) {
      ctx.status = 303;
      return ctx.redirect(signInPageUrl(outcome.interactionUid as string, 'password_reset'));
    }
    await views.render(ctx, 'message', {
      heading: 'Your password has been changed',
      paragraphs: ['Every device that was signed in to your account has been signed out. Sign in with your new password from the application you use.'],
    });
  });

  router.get('/verify-email', confirmPage('verify-email', 'Verify your email address', 'Verify my email address'));
  router.post('/verify-email', ...form, async (ctx) => {
    let outcome;
    try {
      outcome = await selfService.verifyEmail(tokenOf(ctx));
    } catch (error) {
      if (error instanceof InvalidLinkError) return invalidLink(ctx);
      throw error;
    }
    if (await alive(outcome.interactionUid)) {
      ctx.status = 303;
      return ctx.redirect(`${INTERACTION_PATH}/${encodeURIComponent(outcome.interactionUid as string)}/verified`);
    }
    await views.render(ctx, 'message', { heading: 'Your email address is verified', paragraphs: ['You can sign in now, from the application you use.'] });
  });

  router.get('/confirm-email', confirmPage('confirm-email', 'Confirm your new email address', 'Confirm my new email address'));
  router.post('/confirm-email', ...form, async (ctx) => {
    try {
      await selfService.confirmEmailChange(tokenOf(ctx));
    } catch (error) {
      if (error instanceof InvalidLinkError) return invalidLink(ctx);
      if (!(error instanceof EmailTakenError)) throw error;
      return views.render(ctx, 'message', { heading: 'This address is taken', paragraphs: ['Another account has this email address now, so yours keeps its old one.'] }, 409);
    }
    await views.render(ctx, 'message', { heading: 'Your email address has changed', paragraphs: ['Sign in with your new address from now on.'] });
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [refuseUnstorableUrl(), router.routes() as Middleware, router.allowedMethods() as Middleware];
}
