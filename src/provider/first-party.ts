import type { Grant, KoaContextWithOIDC } from 'oidc-provider';

/**
 * oidc-provider's loadExistingGrant, extended: for a client an admin marked first-party, the
 * grant always covers what it asks for, so it never shows a consent page. Other clients keep the
 * library's behaviour: the grant recorded by the consent interaction or held by the session.
 */
export async function loadFirstPartyGrant(ctx: KoaContextWithOIDC, flag: string): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const client = oidc.client;
  if (!client) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(client.clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  const accountId = oidc.session?.accountId;
  if (client[flag] !== true || !accountId) return existing;

  const grant = existing?.accountId === accountId ? existing : new oidc.provider.Grant({ clientId: client.clientId, accountId });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  if (oidc.requestParamClaims.size > 0) grant.addOIDCClaims([...oidc.requestParamClaims]);
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers ?? {})) {
    const scopes = [...oidc.requestParamScopes].filter((scope) => resourceServer.scopes.has(scope));
    if (scopes.length > 0) grant.addResourceScope(indicator, scopes.join(' '));
  }
  await grant.save();
  return grant;
}
