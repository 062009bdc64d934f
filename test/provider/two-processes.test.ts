import * as oidc from 'openid-client';
import { INITIAL_ACCESS_TOKEN, startReplicas, type Replicas } from '../support/replicas.js';
import { signIn, type TestUser } from '../support/sign-in.js';
import supertest from 'supertest';

/**
 * Two Latch processes on one database behave as one: every request of a full flow alternates
 * between them through a round-robin proxy, so no step can lean on state held in a process.
 */
describe('two Latch processes on one database', () => {
  let replicas: Replicas;
  let issuer: string;

  beforeAll(async () => {
    replicas = await startReplicas(2);
    issuer = replicas.issuer;
  });

  afterAll(async () => {
    await replicas?.stop();
  });

  it('serves registration, sign-in, tokens, refresh, introspection, revocation and logout alternately', async () => {
    const http = () => supertest(issuer);
    const redirectUri = 'http://127.0.0.1:9/callback';

    const registration = await http()
      .post('/reg')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({ redirect_uris: [redirectUri], post_logout_redirect_uris: ['http://127.0.0.1:9/signed-out'], grant_types: ['authorization_code', 'refresh_token'], client_name: 'Twice' });
    expect(registration.status).toBe(201);
    const { client_id: clientId, client_secret: clientSecret } = registration.body;

    const user: TestUser = { id: '', email: 'replicas@example.com', password: 'correct horse battery staple' };
    const created = await http().post('/api/v1/users').send({ email: user.email, password: user.password, name: 'Rep Lica' });
    expect(created.status).toBe(201);

    const configuration = await oidc.discovery(new URL(issuer), clientId, { redirect_uris: [redirectUri] }, oidc.ClientSecretBasic(clientSecret), {
      execute: [oidc.allowInsecureRequests],
    });
    const { tokens, browser } = await signIn(configuration, user, { params: { prompt: 'consent' } });
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: issuer, aud: clientId, email: user.email, name: 'Rep Lica' });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, claims?.sub as string);
    expect(userinfo).toMatchObject({ email: user.email, name: 'Rep Lica' });

    const refreshed = await oidc.refreshTokenGrant(configuration, tokens.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const again = await oidc.refreshTokenGrant(configuration, refreshed.refresh_token as string);

    expect(await oidc.tokenIntrospection(configuration, again.access_token)).toMatchObject({ active: true, sub: claims?.sub });
    await oidc.tokenRevocation(configuration, again.access_token);
    expect(await oidc.tokenIntrospection(configuration, again.access_token)).toEqual({ active: false });

    // Reusing a rotated-out refresh token, on whichever process, revokes the whole grant.
    await expect(oidc.refreshTokenGrant(configuration, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(configuration, again.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });

    const logoutUrl = oidc.buildEndSessionUrl(configuration, { id_token_hint: tokens.id_token as string, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out', state: 'bye' });
    const confirm = await browser.navigate(logoutUrl);
    const signedOut = await browser.submit(confirm, {}, { button: 'Sign out', stopAt: (url) => url.pathname === '/signed-out' });
    expect(signedOut.url.searchParams.get('state')).toBe('bye');

    const [first = 0, second = 0] = replicas.proxy.counts;
    expect(first + second).toBeGreaterThan(15);
    expect(Math.abs(first - second)).toBeLessThanOrEqual(1);
  });
});
