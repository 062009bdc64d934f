import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ClientMetadata } from 'oidc-provider';
import { Browser, type Page } from './browser.js';
import type { RunningLatch } from './latch.js';

export const PASSWORD = 'correct horse battery staple';

export interface TestUser {
  id: string;
  email: string;
  password: string;
}

/** Registers a user through the REST API, as a person would. */
export async function createUser(running: RunningLatch, overrides: Partial<Omit<TestUser, 'id'>> & { name?: string } = {}): Promise<TestUser> {
  const email = overrides.email ?? `user-${randomUUID()}@example.com`;
  const password = overrides.password ?? PASSWORD;
  const response = await running.http().post('/api/v1/users').send({ email, password, name: overrides.name ?? 'Test User' });
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: response.body.id, email, password };
}

/** An openid-client configuration for a registered client, from Latch's discovery document. */
export async function relyingParty(running: RunningLatch, client: ClientMetadata & { client_id: string }): Promise<oidc.Configuration> {
  const authentication = client.token_endpoint_auth_method === 'none' ? oidc.None() : oidc.ClientSecretBasic(client.client_secret);
  const metadata: Partial<oidc.ClientMetadata> = {
    redirect_uris: [...(client.redirect_uris ?? [])],
    post_logout_redirect_uris: [...(client.post_logout_redirect_uris ?? [])],
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    id_token_signed_response_alg: client.id_token_signed_response_alg,
  };
  return oidc.discovery(new URL(running.baseUrl), client.client_id, metadata, authentication, { execute: [oidc.allowInsecureRequests] });
}

export interface SignInResult {
  tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  browser: Browser;
  nonce: string;
}

/**
 * The authorization code flow with PKCE, state and nonce, through Latch's real login and consent
 * pages over HTTP, and the code exchanged by openid-client, which validates the ID token.
 */
export async function signIn(
  configuration: oidc.Configuration,
  user: Pick<TestUser, 'email' | 'password'>,
  {
    scope = 'openid email profile offline_access',
    browser = new Browser(),
    params = {},
    pushed = false,
  }: { scope?: string; browser?: Browser; params?: Record<string, string>; /** Send the request by PAR (RFC 9126) first. */ pushed?: boolean } = {},
): Promise<SignInResult> {
  const redirectUri = (configuration.clientMetadata().redirect_uris as string[])[0] as string;
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const parameters = {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  };
  const authorizationUrl = pushed
    ? await oidc.buildAuthorizationUrlWithPAR(configuration, parameters)
    : oidc.buildAuthorizationUrl(configuration, parameters);
  const atRedirect = (url: URL) => url.href.startsWith(redirectUri);

  let page: Page = await browser.navigate(authorizationUrl, { stopAt: atRedirect });
  if (/<input[^>]+name="password"/.test(page.html)) {
    page = await browser.submit(page, { email: user.email, password: user.password }, { button: 'Sign in', stopAt: atRedirect });
  }
  if (!atRedirect(page.url) && /Continue<\/button>/.test(page.html)) {
    page = await browser.submit(page, {}, { button: 'Continue', stopAt: atRedirect });
  }
  if (!atRedirect(page.url)) throw new Error(`sign-in did not reach the redirect URI; stopped at ${page.url.href} (${page.status}):\n${page.html}`);

  const tokens = await oidc.authorizationCodeGrant(configuration, page.url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  return { tokens, browser, nonce };
}
