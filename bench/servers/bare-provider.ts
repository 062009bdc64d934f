/**
 * The floor for the protocol endpoints: a bare oidc-provider of the version Latch runs, on its
 * in-memory adapter, with Latch's keys, signing algorithm and token format (RFC 9068 JWT access
 * tokens for the API resource), refresh token rotation, introspection and revocation on, no
 * request log. It is what oidc-provider costs by itself on this machine, now.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type JWKS } from 'oidc-provider';
import { serveParent } from '../child.js';

const environment = process.env as Record<string, string>;
const issuer = environment.BENCH_ISSUER ?? '';
const apiResource = `${issuer}/api/v1`;
/** Introspection of a stored (opaque) token: what the memory adapter does fastest. */
export const OPAQUE_RESOURCE = 'urn:bench:opaque';
const jwks = JSON.parse(environment.BENCH_JWKS ?? '{}') as JWKS;
const clients = JSON.parse(environment.BENCH_CLIENTS ?? '[]') as Configuration['clients'];

const provider = new Provider(issuer, {
  jwks,
  clients,
  cookies: { keys: ['bench-cookie-key-0123456789-0123456789'] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, email: `${sub}@example.com`, name: 'Bench User' }) }),
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  routes: { userinfo: '/me', introspection: '/token/introspection', revocation: '/token/revocation' },
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? apiResource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) =>
        indicator === OPAQUE_RESOURCE
          ? { scope: 'openid profile email', audience: OPAQUE_RESOURCE, accessTokenFormat: 'opaque' }
          : { scope: 'openid profile email', audience: apiResource, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
    },
  },
  ttl: { AccessToken: 600, ClientCredentials: 600, RefreshToken: 1_209_600, Grant: 1_209_600 },
});

serveParent(
  async () => {
    const server = createServer(provider.callback()).listen(Number(environment.PORT ?? 0), '127.0.0.1');
    await once(server, 'listening');
    return {
      port: (server.address() as AddressInfo).port,
      async stop() {
        server.closeAllConnections();
        server.close();
      },
    };
  },
  {
    /** Live refresh token chains and userinfo tokens, made as a code exchange would make them. */
    async seed({ clientId, count }: { clientId: string; count: number }) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      const refreshTokens: string[] = [];
      const accessTokens: string[] = [];
      const now = Math.floor(Date.now() / 1000);
      for (let index = 0; index < count; index += 1) {
        const accountId = `bench-user-${index}`;
        const grant = new provider.Grant({ accountId, clientId });
        grant.addOIDCScope('openid email profile offline_access');
        grant.addResourceScope(apiResource, 'openid profile email');
        const grantId = await grant.save();
        const common = { accountId, client, grantId, gty: 'authorization_code', authTime: now };
        refreshTokens.push(await new provider.RefreshToken({ ...common, scope: 'openid email profile offline_access', resource: apiResource, iiat: now }).save());
        accessTokens.push(await new provider.AccessToken({ ...common, scope: 'openid email profile' }).save());
      }
      return { refreshTokens, accessTokens };
    },
  },
);
