import type { RouterContext } from '@koa/router';
import type { Context } from 'koa';
import type { Interaction } from 'oidc-provider';
import { FIRST_PARTY } from '../../provider/configuration.js';
import { consentRequestOf, describeScopes } from '../consent-request.js';
import { recordConsent } from '../grant.js';
import { clientOf, currentInteraction, finishInteraction, nameOf, showCurrentStep, UNNAMED_CLIENT } from '../interaction-session.js';
import type { StepDependencies } from './dependencies.js';

export interface ConsentStep {
  /** The consent page of an interaction at its consent prompt; a first-party client's is completed without one. */
  show(ctx: Context, interaction: Interaction): Promise<void>;
  /** POST /interaction/:uid/confirm */
  confirm(ctx: RouterContext): Promise<void>;
  /** POST /interaction/:uid/abort: the user declines, at sign-in or at consent. */
  abort(ctx: RouterContext): Promise<void>;
}

export function createConsentStep({ provider, views, csrf, apiResource, audit }: StepDependencies): ConsentStep {
  const grantAndFinish = async (ctx: Context, interaction: Interaction) => {
    const current = provider();
    const grantId = await recordConsent(current, interaction);
    await audit.record('interaction.consent_given', { userId: interaction.session?.accountId, clientId: interaction.params.client_id, grantId });
    await finishInteraction(ctx, current, { consent: { grantId } }, { merge: true });
  };

  return {
    async show(ctx, interaction) {
      const client = await clientOf(provider(), interaction);
      // First-party clients normally never get here (their grant is made for them); an explicit
      // prompt=consent still asks this step, which answers for the user.
      if (client?.[FIRST_PARTY] === true) return grantAndFinish(ctx, interaction);

      const request = consentRequestOf(interaction.prompt.details);
      await views.render(ctx, 'consent', {
        uid: interaction.uid,
        clientName: nameOf(client) ?? UNNAMED_CLIENT,
        scopes: describeScopes(request),
        claims: request.claims,
        resources: Object.keys(request.resourceScopes).map((indicator) => (indicator === apiResource ? `Your Latch account (${indicator})` : indicator)),
        csrf: csrf.token(ctx),
      });
    },

    async confirm(ctx) {
      const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      if (interaction.prompt.name !== 'consent') return showCurrentStep(ctx, interaction);
      await grantAndFinish(ctx, interaction);
    },

    async abort(ctx) {
      const current = provider();
      const interaction = await currentInteraction(ctx, current, ctx.params.uid ?? '');
      await audit.record('interaction.aborted', { userId: interaction.session?.accountId, clientId: interaction.params.client_id });
      await finishInteraction(ctx, current, { error: 'access_denied', error_description: 'The user cancelled the request.' }, { merge: false });
    },
  };
}
