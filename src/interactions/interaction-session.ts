import type { Context } from 'koa';
import { errors, type Client, type Interaction, type InteractionResults } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { INTERACTION_PATH } from '../provider/configuration.js';

/**
 * The interaction this browser is in (oidc-provider finds it by its cookie), which must also be
 * the one the URL names: a stale tab or a pasted link gets the "start again" page, not someone
 * else's step. Throws SessionNotFound when it is missing or expired.
 */
export async function currentInteraction(ctx: Context, provider: Provider, uid: string): Promise<Interaction> {
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  if (interaction.uid !== uid) throw new errors.SessionNotFound('the interaction is not the one named in the URL');
  return interaction;
}

/** Records the outcome and sends the browser back to oidc-provider, which alone decides where it goes next. */
export async function finishInteraction(ctx: Context, provider: Provider, result: InteractionResults, { merge }: { merge: boolean }): Promise<void> {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

/** A post that arrives at a step the interaction has moved past (back button, double submit) shows the current step. */
export function showCurrentStep(ctx: Context, interaction: Interaction): void {
  ctx.status = 303;
  ctx.redirect(`${INTERACTION_PATH}/${encodeURIComponent(interaction.uid)}`);
}

/** The client that started the interaction (undefined if it has been deleted since). */
export async function clientOf(provider: Provider, interaction: Interaction): Promise<Client | undefined> {
  const clientId = interaction.params.client_id;
  return typeof clientId === 'string' ? provider.Client.find(clientId) : undefined;
}

/** How pages name a client: the name it registered, else its id. */
export function nameOf(client: Client | undefined): string | undefined {
  return client?.clientName ?? client?.clientId;
}

/** What a page calls a client it cannot name. */
export const UNNAMED_CLIENT = 'the application';

/** The name of the client an interaction's page is for. */
export async function clientNameFor(provider: Provider, interaction: Interaction): Promise<string> {
  return nameOf(await clientOf(provider, interaction)) ?? UNNAMED_CLIENT;
}
