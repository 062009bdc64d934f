import Router, { type RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import { refuseUnstorableBody } from '../../http/input-guard.js';
import { INTERACTION_PATH } from '../../provider/configuration.js';
import { formBody } from '../form.js';
import { currentInteraction } from '../interaction-session.js';
import { createConsentStep } from './consent.js';
import type { StepDependencies } from './dependencies.js';
import { createLoginStep } from './login.js';
import { noticeOf } from './notices.js';
import { createPasskeyLoginStep } from './passkey-login.js';
import { createRegistrationStep } from './registration.js';
import { createSecondFactorStep } from './second-factor.js';
import { createVerificationStep } from './verification.js';

/**
 * The interaction pages under /interaction/:uid. oidc-provider sends the browser to the first
 * URL; which page it shows depends on the prompt the interaction is at. Every post is a form
 * parsed here (nowhere else in Latch) and checked against its anti-forgery token first.
 */
export function createInteractionRouter(dependencies: StepDependencies): Middleware[] {
  const { provider, csrf } = dependencies;
  const secondFactor = createSecondFactorStep(dependencies);
  const verification = createVerificationStep(dependencies, secondFactor);
  const login = createLoginStep(dependencies, verification, secondFactor);
  const passkeyLogin = createPasskeyLoginStep(dependencies, login, verification, secondFactor);
  const consent = createConsentStep(dependencies);
  const registration = createRegistrationStep(dependencies, verification, secondFactor);
  const form = [formBody(), refuseUnstorableBody(), csrf.verify()];

  const router = new Router({ prefix: INTERACTION_PATH });
  router.get('/:uid', async (ctx: RouterContext) => {
    const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
    switch (interaction.prompt.name) {
      case 'login':
        if (await secondFactor.show(ctx, interaction)) return;
        return login.render(ctx, interaction, { notice: noticeOf(ctx.query.notice) });
      case 'consent':
        return consent.show(ctx, interaction);
      default:
        throw new Error(`no page for the ${interaction.prompt.name} prompt`);
    }
  });
  router.post('/:uid/login', ...form, login.signIn);
  router.post('/:uid/passkey/options', ...form, passkeyLogin.options);
  router.post('/:uid/passkey', ...form, passkeyLogin.signIn);
  router.post('/:uid/second-factor', ...form, secondFactor.verify);
  router.post('/:uid/enrol', ...form, secondFactor.confirmEnrolment);
  router.post('/:uid/enrolled', ...form, secondFactor.continueEnrolled);
  router.post('/:uid/enrol-cancel', ...form, secondFactor.cancelEnrolment);
  router.get('/:uid/register', registration.show);
  router.post('/:uid/register', ...form, registration.register);
  router.post('/:uid/confirm', ...form, consent.confirm);
  router.post('/:uid/abort', ...form, consent.abort);
  router.post('/:uid/verify-email', ...form, verification.resend);
  router.get('/:uid/verified', verification.continueVerified);

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
