import { errors, type Configuration, type ResourceServer } from 'oidc-provider';
import type { Config } from '../config.js';

/** The scopes Latch's own REST API accepts; `openid` makes the same token good at userinfo. */
export const API_SCOPES = 'openid profile email phone';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/**
 * Resource indicators (RFC 8707) decide every access token's audience. A client that names no
 * resource (NextAuth names none) gets Latch's own API, so it still receives an RFC 9068 JWT that
 * Latch's REST API and userinfo accept; other resource servers come from the configuration.
 */
export function resourceIndicators(config: Config): ResourceIndicators {
  const { apiResource, resourceServers, ttl } = config.oidc;
  const serverFor = (audience: string, scope: string): ResourceServer => ({
    scope,
    audience,
    accessTokenTTL: ttl.accessToken,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  });

  return {
    enabled: true,
    defaultResource: (_ctx, _client, oneOf) => oneOf ?? apiResource,
    // A refresh or code exchange that names no resource keeps the one that was granted.
    useGrantedResource: () => true,
    getResourceServerInfo: (_ctx, resourceIndicator) => {
      if (resourceIndicator === apiResource) return serverFor(apiResource, API_SCOPES);
      const server = Object.hasOwn(resourceServers, resourceIndicator) ? resourceServers[resourceIndicator] : undefined;
      if (server === undefined) throw new errors.InvalidTarget(`${resourceIndicator} is not a resource server known to Latch`);
      return serverFor(resourceIndicator, server.scope);
    },
  };
}
