import { errors, type Configuration, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { IssuanceEntitlements } from '../authorization/issuance.js';
import { subjectOfIssuance } from '../authorization/issuance.js';
import type { ResourceDirectory } from '../authorization/resource-directory.js';
import { ADMIN_SCOPE } from '../authorization/seed.js';
import type { Config } from '../config.js';

/**
 * The scopes Latch's own REST API accepts that no role gates: `openid` makes the same token good at
 * userinfo, which releases the claims of the others. Its permissions (`admin`) come from the database.
 */
export const API_SCOPES = 'openid profile email phone roles';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

export interface ResourceDependencies {
  /** Resource servers and their permissions, from the database. */
  directory: ResourceDirectory;
  entitlements: IssuanceEntitlements;
}

/** An admin lets a client ask for `admin` by listing it in the client's registered `scope`. */
export const clientMayAskAdmin = (client: { scope?: string | undefined } | undefined) => client?.scope?.split(' ').includes(ADMIN_SCOPE) === true;

/**
 * Resource indicators (RFC 8707) decide every access token's audience. A client that names no
 * resource (NextAuth names none) gets Latch's own API, so it still receives an RFC 9068 JWT that
 * Latch's REST API and userinfo accept; other resource servers are those in the database.
 *
 * oidc-provider asks for a resource server's scopes at every issuance (code exchange, refresh,
 * client credentials) and keeps only those in the token: answering, at the token endpoint, with
 * just the permissions the subject's roles grant now is what makes a removed role leave the very
 * next token, refreshes included, while the grant still records what the client asked for.
 */
export function resourceIndicators(config: Config, { directory, entitlements }: ResourceDependencies): ResourceIndicators {
  const { apiResource, ttl } = config.oidc;
  const serverFor = (audience: string, scopes: string[]): ResourceServer => ({
    scope: scopes.join(' '),
    audience,
    accessTokenTTL: ttl.accessToken,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  });

  async function grantable(ctx: KoaContextWithOIDC, resource: string, permissions: string[]): Promise<string[]> {
    const subject = subjectOfIssuance(ctx);
    if (subject === undefined) return permissions;
    if (subject === null || permissions.length === 0) return [];
    const granted = await entitlements.permissions(ctx, subject, resource);
    return permissions.filter((permission) => granted.has(permission));
  }

  return {
    enabled: true,
    defaultResource: (_ctx, _client, oneOf) => oneOf ?? apiResource,
    // A refresh or code exchange that names no resource keeps the one that was granted.
    useGrantedResource: () => true,
    getResourceServerInfo: async (ctx, resourceIndicator, client) => {
      const server = await directory.find(resourceIndicator);
      if (resourceIndicator !== apiResource) {
        if (server === undefined) throw new errors.InvalidTarget(`${resourceIndicator} is not a resource server known to Latch`);
        return serverFor(resourceIndicator, await grantable(ctx, resourceIndicator, server.permissions));
      }
      const permissions = (server?.permissions ?? []).filter((permission) => permission !== ADMIN_SCOPE || clientMayAskAdmin(client));
      return serverFor(apiResource, [...API_SCOPES.split(' '), ...(await grantable(ctx, apiResource, permissions))]);
    },
  };
}

/** RFC 9068 §2.2.3.1 `roles` in access tokens for a resource server: the subject's roles that hold one of its permissions. */
export function rolesClaim(entitlements: IssuanceEntitlements): NonNullable<Configuration['extraTokenClaims']> {
  return async (ctx, token) => {
    if (!token.resourceServer) return undefined;
    const id = token.kind === 'ClientCredentials' ? token.clientId : token.accountId;
    if (id === undefined) return undefined;
    const subject = { kind: token.kind === 'ClientCredentials' ? 'client' : 'user', id } as const;
    const resource = token.resourceServer.identifier();
    const roles = await entitlements.roles(ctx, subject, resource);
    return roles.length > 0 ? { roles } : undefined;
  };
}
