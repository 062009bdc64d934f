import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Browser } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const SIGNED_OUT_URI = 'http://127.0.0.1:9/signed-out';

let running: RunningLatch;
let user: TestUser;

beforeAll(async () => {
  running = await startLatch({ REFRESH_TOKEN_REUSE_GRACE: '0' });
  user = await createUser(running, { name: 'Ada Lovelace' });
});

afterAll(async () => {
  await running.stop();
});

async function confidentialClient(metadata: Record<string, unknown> = {}) {
  const client = await registerClient(running.latch, {
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [SIGNED_OUT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    client_name: 'Test App',
    ...metadata,
  });
  return { client, configuration: await relyingParty(running, client) };
}

describe('authorization code flow with PKCE', () => {
  it('signs a user in through the real pages and returns ID, access and refresh tokens', async () => {
    const { client, configuration } = await confidentialClient();

    const { tokens, nonce } = await signIn(configuration, user, { params: { prompt: 'consent' } });

    // openid-client already validated the ID token (signature, iss, aud, exp, nonce); check what NextAuth reads from it.
    expect(tokens.claims()).toMatchObject({
      iss: running.baseUrl,
      sub: user.id,
      aud: client.client_id,
      nonce,
      email: user.email,
      email_verified: false,
      name: 'Ada Lovelace',
      updated_at: expect.any(Number),
    });
    expect(decodeProtectedHeader(tokens.id_token as string).alg).toBe('RS256');
    expect(tokens.refresh_token).toEqual(expect.any(String));
    // The scope of the access token: what Latch's API accepts (offline_access is the refresh token's business).
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);

    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${running.baseUrl}/jwks`)), {
      issuer: running.baseUrl,
      audience: `${running.baseUrl}/api/v1`,
      typ: 'at+jwt',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: user.id, client_id: client.client_id, scope: expect.stringContaining('openid') });
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('answers userinfo with the same claims for the JWT access token', async () => {
    const { configuration } = await confidentialClient();
    const { tokens } = await signIn(configuration, user);

    const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, user.id);

    expect(userinfo).toMatchObject({ sub: user.id, email: user.email, email_verified: false, name: 'Ada Lovelace' });
    const idTokenClaims: Record<string, unknown> = tokens.claims() ?? {};
    for (const claim of ['email', 'email_verified', 'name', 'updated_at']) expect(userinfo[claim]).toEqual(idTokenClaims[claim]);
  });

  it('releases only the claims of the granted scopes', async () => {
    const { configuration } = await confidentialClient();
    const { tokens } = await signIn(configuration, user, { scope: 'openid email' });

    expect(tokens.claims()).toMatchObject({ email: user.email });
    expect(tokens.claims()).not.toHaveProperty('name');
    const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, user.id);
    expect(userinfo).not.toHaveProperty('name');
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('signs ID tokens with ES256 or EdDSA when the client asks', async () => {
    for (const alg of ['ES256', 'EdDSA']) {
      const { configuration } = await confidentialClient({ id_token_signed_response_alg: alg });
      const { tokens } = await signIn(configuration, user, { scope: 'openid' });
      expect(decodeProtectedHeader(tokens.id_token as string).alg).toBe(alg);
    }
  });

  it('refuses a code used twice, and revokes what the first use issued', async () => {
    const { client, configuration } = await confidentialClient();
    const redirect = await authorizationResponse(configuration);
    const first = await exchange(client, redirect.code, redirect.verifier);
    expect(first.status).toBe(200);

    const second = await exchange(client, redirect.code, redirect.verifier);

    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    expect(await oidc.tokenIntrospection(configuration, first.body.access_token)).toEqual({ active: false });
    await expect(oidc.refreshTokenGrant(configuration, first.body.refresh_token)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a code exchanged with the wrong PKCE verifier or by another client', async () => {
    const { client, configuration } = await confidentialClient();
    const other = await confidentialClient();
    const redirect = await authorizationResponse(configuration);

    const wrongVerifier = await exchange(client, redirect.code, oidc.randomPKCECodeVerifier());
    expect(wrongVerifier.body.error).toBe('invalid_grant');
    const wrongClient = await exchange(other.client, redirect.code, redirect.verifier);
    expect(wrongClient.body.error).toBe('invalid_grant');
  });

  it('sends state and iss back, so a client can detect a forged response', async () => {
    const { configuration } = await confidentialClient();
    const redirect = await authorizationResponse(configuration);

    expect(redirect.url.searchParams.get('iss')).toBe(running.baseUrl);
    const forged = new URL(redirect.url);
    forged.searchParams.set('state', 'not-the-state-we-sent');
    await expect(oidc.authorizationCodeGrant(configuration, forged, { pkceCodeVerifier: redirect.verifier, expectedState: redirect.state })).rejects.toMatchObject({
      cause: { message: expect.stringContaining('"state"') },
    });
  });

  it('takes the authorization request by PAR (RFC 9126), passing only its request_uri through the browser', async () => {
    const { configuration } = await confidentialClient();

    const { tokens } = await signIn(configuration, user, { pushed: true });

    expect(tokens.claims()).toMatchObject({ sub: user.id });
  });

  it('binds the ID token to the nonce, so a client detects a response meant for another request', async () => {
    const { configuration } = await confidentialClient();
    const redirect = await authorizationResponse(configuration, { nonce: 'the-nonce-we-sent' });

    await expect(
      oidc.authorizationCodeGrant(configuration, redirect.url, { pkceCodeVerifier: redirect.verifier, expectedState: redirect.state, expectedNonce: 'another-nonce' }),
    ).rejects.toMatchObject({ cause: { message: expect.stringContaining('"nonce"') } });
  });

  it('lets a public client in only with PKCE, and gives it a rotating refresh token', async () => {
    const { configuration } = await confidentialClient({ token_endpoint_auth_method: 'none' });
    const { tokens } = await signIn(configuration, user, { params: { prompt: 'consent' } });

    const refreshed = await oidc.refreshTokenGrant(configuration, tokens.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  });
});

describe('dynamic client registration', () => {
  it('is off when no initial access token is configured', async () => {
    const { body } = await running.http().get('/.well-known/openid-configuration').expect(200);
    expect(body.registration_endpoint).toBeUndefined();
    await running.http().post('/reg').send({ redirect_uris: [REDIRECT_URI] }).expect(404);
  });
});

describe('refresh tokens', () => {
  it('rotate, and reuse of a rotated-out token revokes the whole grant', async () => {
    const { configuration } = await confidentialClient();
    const { tokens } = await signIn(configuration, user, { params: { prompt: 'consent' } });

    const rotated = await oidc.refreshTokenGrant(configuration, tokens.refresh_token as string);
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect(rotated.claims()).toMatchObject({ sub: user.id, email: user.email });
    expect(await oidc.tokenIntrospection(configuration, rotated.access_token)).toMatchObject({ active: true });

    await expect(oidc.refreshTokenGrant(configuration, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });

    await expect(oidc.refreshTokenGrant(configuration, rotated.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await oidc.tokenIntrospection(configuration, rotated.access_token)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(configuration, tokens.access_token)).toEqual({ active: false });
  });

  it('with a grace period, a just-rotated token still answers instead of revoking the grant', async () => {
    const graceful = await startLatch({ REFRESH_TOKEN_REUSE_GRACE: '10' });
    try {
      const someone = await createUser(graceful);
      const client = await registerClient(graceful.latch, { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'] });
      const configuration = await relyingParty(graceful, client);
      const { tokens } = await signIn(configuration, someone, { params: { prompt: 'consent' } });

      // Two tabs refresh with the same token a moment apart: the second presents a just-rotated one.
      const first = await oidc.refreshTokenGrant(configuration, tokens.refresh_token as string);
      const second = await oidc.refreshTokenGrant(configuration, tokens.refresh_token as string);
      expect(second.refresh_token).not.toBe(first.refresh_token);

      await oidc.refreshTokenGrant(configuration, first.refresh_token as string);
      await oidc.refreshTokenGrant(configuration, second.refresh_token as string);
    } finally {
      await graceful.stop();
    }
  });

  it('a refresh sees the grant as it is now, not as the previous refresh read it', async () => {
    const { configuration } = await confidentialClient();
    const { tokens } = await signIn(configuration, user, { params: { prompt: 'consent' } });
    const rotated = await oidc.refreshTokenGrant(configuration, tokens.refresh_token as string);
    // That request read the grant along with the refresh token; then the grant goes, its tokens left in place.
    const [token] = await query<{ grant_id: string }>(running.databaseUrl, "SELECT grant_id FROM oidc_payloads WHERE model = 'RefreshToken' AND id = $1", [rotated.refresh_token]);
    expect(token?.grant_id).toEqual(expect.any(String));
    await query(running.databaseUrl, "DELETE FROM oidc_payloads WHERE model = 'Grant' AND id = $1", [token?.grant_id]);

    await expect(oidc.refreshTokenGrant(configuration, rotated.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('revoking a refresh token revokes the grant and its access tokens', async () => {
    const { configuration } = await confidentialClient();
    const { tokens } = await signIn(configuration, user, { params: { prompt: 'consent' } });

    await oidc.tokenRevocation(configuration, tokens.refresh_token as string);

    expect(await oidc.tokenIntrospection(configuration, tokens.refresh_token as string)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(configuration, tokens.access_token)).toEqual({ active: false });
    await expect(oidc.fetchUserInfo(configuration, tokens.access_token, user.id)).rejects.toThrow();
  });
});

describe('introspection', () => {
  it('describes an active user access token and refresh token to their client', async () => {
    const { client, configuration } = await confidentialClient();
    const { tokens } = await signIn(configuration, user, { params: { prompt: 'consent' } });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${running.baseUrl}/jwks`)));

    expect(await oidc.tokenIntrospection(configuration, tokens.access_token)).toMatchObject({
      active: true,
      sub: user.id,
      client_id: client.client_id,
      aud: `${running.baseUrl}/api/v1`,
      jti: payload.jti,
      exp: payload.exp,
      iss: running.baseUrl,
      token_type: 'Bearer',
    });
    expect(await oidc.tokenIntrospection(configuration, tokens.refresh_token as string)).toMatchObject({ active: true, sub: user.id, client_id: client.client_id });
  });
});

describe('RP-initiated logout', () => {
  it('asks the user, ends the session and returns to the registered post-logout URI with state', async () => {
    const { configuration } = await confidentialClient();
    const { tokens, browser } = await signIn(configuration, user);
    const logoutUrl = oidc.buildEndSessionUrl(configuration, { id_token_hint: tokens.id_token as string, post_logout_redirect_uri: SIGNED_OUT_URI, state: 'bye' });

    const confirm = await browser.navigate(logoutUrl);
    expect(confirm.status).toBe(200);
    const done = await browser.submit(confirm, {}, { button: 'Sign out', stopAt: (url) => url.href.startsWith(SIGNED_OUT_URI) });

    expect(done.url.searchParams.get('state')).toBe('bye');
    // The session is gone: the access token bound to it no longer answers at userinfo, and signing in asks for a password again.
    await expect(oidc.fetchUserInfo(configuration, tokens.access_token, user.id)).rejects.toThrow();
    const login = await browser.navigate(oidc.buildAuthorizationUrl(configuration, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' }));
    expect(login.html).toContain('name="password"');
  });

  it('refuses a post-logout redirect URI the client did not register', async () => {
    const { configuration } = await confidentialClient();
    const { tokens, browser } = await signIn(configuration, user);
    const logoutUrl = oidc.buildEndSessionUrl(configuration, { id_token_hint: tokens.id_token as string, post_logout_redirect_uri: 'https://evil.example.com/' });

    const page = await browser.navigate(logoutUrl);

    expect(page.status).toBe(400);
    expect(page.html).toContain('post_logout_redirect_uri');
  });
});

/** Runs the flow up to the redirect back, for tests that exchange the code themselves. */
async function authorizationResponse(configuration: oidc.Configuration, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const browser = new Browser();
  const atRedirect = (url: URL) => url.href.startsWith(REDIRECT_URI);
  let page = await browser.navigate(
    oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access',
      prompt: 'consent',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    }),
    { stopAt: atRedirect },
  );
  page = await browser.submit(page, { email: user.email, password: user.password }, { button: 'Sign in', stopAt: atRedirect });
  if (!atRedirect(page.url)) page = await browser.submit(page, {}, { button: 'Continue', stopAt: atRedirect });
  return { url: page.url, code: page.url.searchParams.get('code') as string, verifier, state };
}

function exchange(client: { client_id: string; client_secret?: string }, code: string, verifier: string) {
  return running
    .http()
    .post('/token')
    .auth(client.client_id, client.client_secret as string)
    .type('form')
    .send({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
}
