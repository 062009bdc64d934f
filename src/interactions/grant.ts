import { errors, type Interaction } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { consentRequestOf } from './consent-request.js';

/**
 * Records the user's consent: the grant oidc-provider already holds for this client and user
 * (else a new one), extended by what the consent prompt found missing. Returns the grant id.
 */
export async function recordConsent(provider: Provider, interaction: Interaction): Promise<string> {
  const accountId = interaction.session?.accountId;
  const clientId = interaction.params.client_id;
  if (!accountId || typeof clientId !== 'string') throw new errors.SessionNotFound('consent without a signed-in user');

  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing?.accountId === accountId && existing.clientId === clientId ? existing : new provider.Grant({ accountId, clientId });
  const request = consentRequestOf(interaction.prompt.details);
  if (request.scopes.length > 0) grant.addOIDCScope(request.scopes.join(' '));
  if (request.claims.length > 0) grant.addOIDCClaims(request.claims);
  for (const [indicator, scopes] of Object.entries(request.resourceScopes)) {
    if (scopes.length > 0) grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}
