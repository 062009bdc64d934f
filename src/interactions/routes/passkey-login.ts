import type { RouterContext } from '@koa/router';
import { TooManyRequestsError } from '../../errors.js';
import { PasskeyRefusedError } from '../../factors/passkeys/errors.js';
import { formField } from '../form.js';
import { currentInteraction, showCurrentStep } from '../interaction-session.js';
import type { StepDependencies } from './dependencies.js';
import type { LoginStep } from './login.js';
import { inMinutes, setRetryAfter } from './retry-after.js';
import { pendingAccountOf, type SecondFactorStep } from './second-factor.js';
import type { VerificationStep } from './verification.js';

// One message whatever failed: the page must not tell which credentials or accounts exist.
const NOT_ACCEPTED = 'That passkey could not sign you in. Try again, or sign in with your password.';
const EXPIRED = 'That passkey sign-in took too long or was already used. Try again.';

export interface PasskeyLoginStep {
  /**
   * POST /interaction/:uid/passkey/options: the WebAuthn request options for this interaction (JSON):
   * any discoverable credential at the sign-in page, the user's own at their second step.
   */
  options(ctx: RouterContext): Promise<void>;
  /** POST /interaction/:uid/passkey: signs in with the assertion in the `response` field, without a password. */
  signIn(ctx: RouterContext): Promise<void>;
}

/** Passwordless sign-in with a discoverable credential, from the button or the email field's autofill (conditional UI); the options of a passkey as a second factor too. */
export function createPasskeyLoginStep(
  { provider, accounts, passkeys, requireEmailVerification, audit, metrics }: StepDependencies,
  login: Pick<LoginStep, 'render'>,
  verification: Pick<VerificationStep, 'checkInbox'>,
  secondFactor: Pick<SecondFactorStep, 'afterFirstFactor'>,
): PasskeyLoginStep {
  return {
    async options(ctx) {
      const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      ctx.set('Cache-Control', 'no-store');
      if (interaction.prompt.name !== 'login') {
        ctx.status = 409;
        ctx.body = { error: 'invalid_request', error_description: 'this sign-in is past its login step' };
        return;
      }
      const pending = pendingAccountOf(interaction);
      const user = pending ? await accounts.findActive(pending) : undefined;
      ctx.body = await passkeys.signInOptions({ purpose: 'sign_in', interactionUid: interaction.uid }, user ?? undefined);
    },

    async signIn(ctx) {
      const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      if (interaction.prompt.name !== 'login') return showCurrentStep(ctx, interaction);

      let result;
      try {
        result = await passkeys.signIn({ purpose: 'sign_in', interactionUid: interaction.uid }, formField(ctx, 'response'), { ip: ctx.ip });
      } catch (error) {
        if (error instanceof TooManyRequestsError) {
          await audit.record('interaction.sign_in_locked_out', { method: 'passkey' });
          metrics.signIns.inc({ outcome: 'locked' });
          setRetryAfter(ctx, error.retryAfterSeconds);
          return login.render(ctx, interaction, { error: `Too many attempts. Try again in ${inMinutes(error.retryAfterSeconds)}.`, status: 429 });
        }
        if (!(error instanceof PasskeyRefusedError)) throw error;
        await audit.record('interaction.passkey_failed', { userId: error.userId, reason: error.reason, clientId: interaction.params.client_id });
        metrics.signIns.inc({ outcome: 'failed' });
        return login.render(ctx, interaction, { error: error.reason === 'no_challenge' ? EXPIRED : NOT_ACCEPTED, status: 401 });
      }

      const { user, passkey, amr } = result;
      if (requireEmailVerification && !user.emailVerified) {
        await audit.record('interaction.sign_in_unverified', { userId: user.id, method: 'passkey' });
        return verification.checkInbox(ctx, interaction, { userId: user.id, amr });
      }
      await audit.record('interaction.passkey_signed_in', { userId: user.id, clientId: interaction.params.client_id, passkeyId: passkey.id, amr });
      // The level the request needs decides the rest, as after a password; a passkey with user verification reaches every one.
      await secondFactor.afterFirstFactor(ctx, interaction, user.id, { amr, via: 'passkey' });
    },
  };
}
