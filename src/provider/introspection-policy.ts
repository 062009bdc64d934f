import type { Configuration } from 'oidc-provider';
import type { Config } from '../config.js';
import type { AccessTokenReferences } from './access-token-references.js';

type AllowedPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['introspection']>['allowedPolicy']>;

/**
 * Who may learn what a token stands for (RFC 7662 §2.1, §4): the client it was issued to and,
 * for an access token, the resource servers it is meant for, that is the clients RESOURCE_SERVERS
 * links to one of its audiences. Those must authenticate: a public client's id is no proof of
 * anything. Anyone else gets `active: false`, as for a token that does not exist, so that
 * introspection tells no stranger a token's user, scopes or client.
 */
export function introspectionPolicy(resourceServers: Config['oidc']['resourceServers'], references: AccessTokenReferences): AllowedPolicy {
  const servesAudience = (clientId: string, audience: string) =>
    Object.hasOwn(resourceServers, audience) && resourceServers[audience]?.clients.includes(clientId) === true;

  return (ctx, client, token) => {
    if (!references.presentedAsJwt(ctx, token)) return false;
    if (token.clientId === client.clientId) return true;
    // A refresh token is for its client alone: no resource server ever receives one.
    if (token.kind === 'RefreshToken' || client.clientAuthMethod === 'none') return false;
    return references.presentedAudiences(ctx).some((audience) => servesAudience(client.clientId, audience));
  };
}
