import type { Configuration } from 'oidc-provider';
import type { ResourceDirectory } from '../authorization/resource-directory.js';
import type { AccessTokenReferences } from './access-token-references.js';

type AllowedPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['introspection']>['allowedPolicy']>;

/**
 * Who may learn what a token stands for (RFC 7662 §2.1, §4): the client it was issued to and,
 * for an access token, the resource servers it is meant for, that is the clients the database links
 * to one of its audiences (RESOURCE_SERVERS seeds them; admins change them). Those must authenticate: a public client's id is no proof of
 * anything. Anyone else gets `active: false`, as for a token that does not exist, so that
 * introspection tells no stranger a token's user, scopes or client.
 */
export function introspectionPolicy(directory: ResourceDirectory, references: AccessTokenReferences): AllowedPolicy {
  const servesAudience = async (clientId: string, audience: string) => (await directory.find(audience))?.introspectingClients.includes(clientId) === true;

  return async (ctx, client, token) => {
    if (!references.presentedAsJwt(ctx, token)) return false;
    if (token.clientId === client.clientId) return true;
    // A refresh token is for its client alone: no resource server ever receives one.
    if (token.kind === 'RefreshToken' || client.clientAuthMethod === 'none') return false;
    const served = await Promise.all(references.presentedAudiences(ctx).map((audience) => servesAudience(client.clientId, audience)));
    return served.includes(true);
  };
}
