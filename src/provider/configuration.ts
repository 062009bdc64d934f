import type { Adapter, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { JSONWebKeySet } from 'jose';
import type { AccountService } from '../account/account-service.js';
import type { Entitlements } from '../authorization/entitlements.js';
import { issuanceEntitlements } from '../authorization/issuance.js';
import type { ResourceDirectory } from '../authorization/resource-directory.js';
import { ADMIN_SCOPE } from '../authorization/seed.js';
import type { Config } from '../config.js';
import { PROTOCOL_ROUTES, type AccessTokenReferences } from './access-token-references.js';
import { SCOPE_CLAIMS, createFindAccount } from './claims.js';
import { FIRST_PARTY, clientMetadataRules } from './client-metadata.js';
import { loadFirstPartyGrant } from './first-party.js';
import { introspectionPolicy } from './introspection-policy.js';
import { resourceIndicators, rolesClaim } from './resources.js';

/** The pages oidc-provider renders itself (errors, logout), drawn from Latch's views. */
export interface ProviderPages {
  renderError: NonNullable<Configuration['renderError']>;
  logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface ProviderDependencies {
  config: Config;
  /** oidc-provider's adapter: a class constructed with the model name. */
  adapter: new (name: string) => Adapter;
  accounts: Pick<AccountService, 'findActive'>;
  /** Private JWKs: current signers first; the others carry key_ops ["verify"] and are only published. */
  jwks: JSONWebKeySet;
  references: AccessTokenReferences;
  pages: ProviderPages;
  /** Roles and resource servers: what tokens for a resource may carry. */
  authorization: { directory: ResourceDirectory; entitlements: Entitlements };
}

export const INTERACTION_PATH = '/interaction';

// Where the consent page and the client admin have always found it.
export { FIRST_PARTY };

/**
 * oidc-provider's configuration, built from Latch's. The defaults it keeps are the secure ones
 * (PKCE S256 required for public clients, no implicit flow, no password grant); everything set
 * here is a decision documented where it is made.
 */
export function providerConfiguration({ config, adapter, accounts, jwks, references, pages, authorization }: ProviderDependencies): Configuration {
  const { ttl, initialAccessToken } = config.oidc;
  const { directory } = authorization;
  const entitlements = issuanceEntitlements(authorization.entitlements);
  const dynamicRegistration = initialAccessToken !== undefined;
  const features: NonNullable<Configuration['features']> = {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: introspectionPolicy(directory, references) },
    revocation: {
      enabled: true,
      allowedPolicy: (ctx, client, token) => references.presentedAsJwt(ctx, token) && token.clientId === client.clientId,
    },
    registration: dynamicRegistration ? { enabled: true, initialAccessToken } : { enabled: false },
    registrationManagement: { enabled: dynamicRegistration, rotateRegistrationAccessToken: true },
    rpInitiatedLogout: { enabled: true, logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource },
    pushedAuthorizationRequests: { enabled: true },
    // oidc-provider's default, stated: the client metadata rules read from here which features are on.
    dPoP: { enabled: true },
    resourceIndicators: resourceIndicators(config, { directory, entitlements }),
  };

  return {
    adapter,
    findAccount: createFindAccount(accounts, authorization.entitlements),
    jwks: jwks as Configuration['jwks'],
    cookies: { keys: config.secrets.cookieKeys },
    routes: { userinfo: PROTOCOL_ROUTES.userinfo, introspection: PROTOCOL_ROUTES.introspection, revocation: PROTOCOL_ROUTES.revocation },

    // `admin` is known to the provider so that an admin can list it in a client's `scope` metadata,
    // the allow-list oidc-provider enforces; the roles decide whether a token gets it (resources.ts).
    scopes: ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((scope) => scope !== 'openid'), ADMIN_SCOPE],
    claims: { ...SCOPE_CLAIMS, openid: [...SCOPE_CLAIMS.openid] },
    // ID tokens carry the claims of the granted scopes too: NextAuth reads the profile from the ID token alone.
    conformIdTokenClaims: false,

    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'] },
    extraClientMetadata: clientMetadataRules({ features, production: config.env === 'production' }),

    // Clients marked first-party skip consent: their grant is made for them.
    loadExistingGrant: (ctx) => loadFirstPartyGrant(ctx, FIRST_PARTY),
    // OpenID Connect only grants offline_access with prompt=consent; a first-party client's own
    // grant stands for that consent, so it gets refresh tokens without forcing the consent page.
    issueRefreshToken: (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || client[FIRST_PARTY] === true),

    // Browsers may call the token, userinfo and revocation endpoints cross-origin only for public
    // clients (SPAs), and only from the origins of their own redirect URIs; discovery and JWKS are always open.
    clientBasedCORS: (_ctx, origin, client) =>
      client.clientAuthMethod === 'none' && (client.redirectUris ?? []).some((uri) => URL.canParse(uri) && new URL(uri).origin === origin),

    // Every refresh rotates the refresh token, confidential clients included; presenting a
    // rotated-out one revokes the grant (oidc-provider's reuse detection).
    rotateRefreshToken: true,

    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}` },
    renderError: pages.renderError,

    features,
    formats: { customizers: { jwt: references.record } },
    extraTokenClaims: rolesClaim(entitlements),

    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
      AuthorizationCode: 60,
      IdToken: ttl.idToken,
      // Rotation never extends a refresh token's life beyond the first one's: sign in again after it.
      RefreshToken: (ctx) => ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? ttl.refreshToken,
      Session: ttl.session,
      Grant: Math.max(ttl.refreshToken, ttl.session),
      Interaction: 3600,
    },
  };
}
