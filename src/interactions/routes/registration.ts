import type { RouterContext } from '@koa/router';
import type { Interaction } from 'oidc-provider';
import { EmailTakenError } from '../../account/errors.js';
import { MIN_PASSWORD_LENGTH } from '../../account/password-policy.js';
import type { User } from '../../account/user.js';
import { TooManyRequestsError, ValidationError } from '../../errors.js';
import { formField } from '../form.js';
import { clientNameFor, currentInteraction, showCurrentStep } from '../interaction-session.js';
import type { PageLocals } from '../views.js';
import type { StepDependencies } from './dependencies.js';
import type { SecondFactorStep } from './second-factor.js';
import type { VerificationStep } from './verification.js';
import { inMinutes, setRetryAfter } from './retry-after.js';

type FieldErrors = PageLocals['register']['errors'];
const FIELDS = new Set(['name', 'email', 'password']);

export interface RegistrationStep {
  /** GET /interaction/:uid/register */
  show(ctx: RouterContext): Promise<void>;
  /** POST /interaction/:uid/register: creates the account and signs its owner in, continuing the same authorization. */
  register(ctx: RouterContext): Promise<void>;
}

/** The service's issues, by form field; several on one field read as one sentence each. */
function fieldErrorsOf(error: ValidationError): FieldErrors {
  const errors: FieldErrors = {};
  for (const { field, message } of error.issues) {
    const key = FIELDS.has(field) ? (field as keyof FieldErrors) : 'form';
    errors[key] = errors[key] ? `${errors[key]} ${message}` : message;
  }
  return errors;
}

export function createRegistrationStep(
  { provider, accounts, views, csrf, registrationThrottle, requireEmailVerification, selfService, audit }: StepDependencies,
  verification: Pick<VerificationStep, 'checkInbox'>,
  secondFactor: Pick<SecondFactorStep, 'afterFirstFactor'>,
): RegistrationStep {
  const render = async (ctx: RouterContext, interaction: Interaction, values = { name: '', email: '' }, errors: FieldErrors = {}, status = 200) => {
    await views.render(
      ctx,
      'register',
      {
        uid: interaction.uid,
        clientName: await clientNameFor(provider(), interaction),
        values,
        errors,
        minPasswordLength: MIN_PASSWORD_LENGTH,
        csrf: csrf.token(ctx),
      },
      status,
    );
  };

  return {
    async show(ctx) {
      const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      if (interaction.prompt.name !== 'login') return showCurrentStep(ctx, interaction);
      await render(ctx, interaction);
    },

    async register(ctx) {
      const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      if (interaction.prompt.name !== 'login') return showCurrentStep(ctx, interaction);

      // The password is never sent back into the page.
      const values = { name: formField(ctx, 'name'), email: formField(ctx, 'email') };
      const wait = await registrationThrottle.attempt(ctx.ip);
      if (wait !== null) {
        await audit.record('interaction.registration_throttled');
        setRetryAfter(ctx, wait);
        return render(ctx, interaction, values, { form: `Too many accounts have been created from your network. Try again in ${inMinutes(wait)}.` }, 429);
      }

      let user: User;
      try {
        const name = values.name.trim();
        user = await accounts.register({ email: values.email, password: formField(ctx, 'password'), ...(name ? { name } : {}) });
      } catch (error) {
        if (error instanceof ValidationError) return render(ctx, interaction, values, fieldErrorsOf(error), 400);
        if (error instanceof EmailTakenError) return render(ctx, interaction, values, { email: `${error.message} Sign in instead.` }, 409);
        throw error;
      }

      try {
        await selfService.sendVerification(user, { interactionUid: interaction.uid });
      } catch (error) {
        // The account exists either way; the "check your inbox" page offers a new link.
        if (!(error instanceof TooManyRequestsError)) throw error;
      }
      const userId = user.id;
      if (requireEmailVerification) return verification.checkInbox(ctx, interaction, { userId, amr: ['pwd'] }, 200);
      // A new account has no second factor: one a client or MFA_REQUIRED needs is set up right away.
      await secondFactor.afterFirstFactor(ctx, interaction, userId, { amr: ['pwd'], via: 'registration' });
    },
  };
}
