import type { RouterContext } from '@koa/router';
import type { Context } from 'koa';
import type { Interaction } from 'oidc-provider';
import { formField } from '../form.js';
import { clientNameFor, currentInteraction, showCurrentStep } from '../interaction-session.js';
import type { StepDependencies } from './dependencies.js';
import { inMinutes, setRetryAfter } from './retry-after.js';
import type { SecondFactorStep } from './second-factor.js';
import type { VerificationStep } from './verification.js';

// One message for an unknown email and a wrong password alike: the page must not tell which emails exist.
const WRONG_CREDENTIALS = 'Email or password is incorrect.';
const MISSING_CREDENTIALS = 'Enter your email and password.';
const lockedOut = (seconds: number) => `Too many attempts. Try again in ${inMinutes(seconds)}.`;

export interface LoginStep {
  /** The sign-in page of an interaction at its login prompt. */
  render(ctx: Context, interaction: Interaction, page?: { email?: string; error?: string; notice?: string; status?: number }): Promise<void>;
  /** POST /interaction/:uid/login */
  signIn(ctx: RouterContext): Promise<void>;
}

export function createLoginStep(
  { provider, accounts, views, csrf, signInThrottle, factors, requireEmailVerification, audit, metrics }: StepDependencies,
  verification: Pick<VerificationStep, 'checkInbox'>,
  secondFactor: Pick<SecondFactorStep, 'afterFirstFactor'>,
): LoginStep {
  const render: LoginStep['render'] = async (ctx, interaction, { email, error, notice, status = 200 } = {}) => {
    const hint = interaction.params.login_hint;
    await views.render(
      ctx,
      'login',
      {
        uid: interaction.uid,
        clientName: await clientNameFor(provider(), interaction),
        email: email ?? (typeof hint === 'string' ? hint : ''),
        csrf: csrf.token(ctx),
        error,
        notice,
      },
      status,
    );
  };

  return {
    render,

    async signIn(ctx) {
      const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      if (interaction.prompt.name !== 'login') return showCurrentStep(ctx, interaction);

      const email = formField(ctx, 'email');
      const password = formField(ctx, 'password');
      if (email.trim() === '' || password === '') return render(ctx, interaction, { email, error: MISSING_CREDENTIALS, status: 400 });

      // The attempt is counted, the credentials read and the factors held counted in one statement.
      const { gate, signedIn } = await accounts.authenticateAlong(email, password, { gate: signInThrottle.attemptAlong(email, ctx.ip), withUser: factors.heldColumn });
      if (!gate.allowed) {
        await audit.record('interaction.sign_in_locked_out');
        metrics.signIns.inc({ outcome: 'locked' });
        setRetryAfter(ctx, gate.retryAfterSeconds);
        return render(ctx, interaction, { email, error: lockedOut(gate.retryAfterSeconds), status: 429 });
      }

      if (!signedIn) {
        metrics.signIns.inc({ outcome: 'failed' });
        return render(ctx, interaction, { email, error: WRONG_CREDENTIALS, status: 401 });
      }
      // The password was right: whatever follows, this was no guess. The attempt is given back in
      // the statement that records the outcome.
      const { user, withUser: held } = signedIn;
      if (requireEmailVerification && !user.emailVerified) {
        await audit.recordAlong(gate.success, 'interaction.sign_in_unverified', { userId: user.id });
        return verification.checkInbox(ctx, interaction, { userId: user.id, amr: ['pwd'] });
      }
      await secondFactor.afterFirstFactor(ctx, interaction, user.id, { amr: ['pwd'], passwordGate: gate, held });
    },
  };
}
