import * as oidc from 'openid-client';
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';

const ORDERS_API = 'https://orders.example.com';
const NEW_PASSWORD = 'a different and still memorable passphrase';

// Latch's clock, moved by the expiry test; oidc-provider stamps tokens with the real one.
let skewMs = 0;
let running: RunningLatch;
let app: oidc.Configuration;

beforeAll(async () => {
  running = await startLatch({ RESOURCE_SERVERS: JSON.stringify({ [ORDERS_API]: 'orders:read' }) }, { now: () => new Date(Date.now() + skewMs) });
  // First-party: no consent page, and refresh tokens even without offline_access (bound to the session).
  const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true });
  app = await relyingParty(running, client);
});

afterAll(async () => {
  await running?.stop();
});

/** A user signed in through the real login flow; the access token is for Latch's API (no resource named). */
async function signedIn(scope = 'openid email profile', user?: TestUser) {
  const account = user ?? (await createUser(running));
  const { tokens, browser } = await signIn(app, account, { scope });
  return { user: account, tokens, browser, accessToken: tokens.access_token };
}

async function clientCredentialsToken(params: Record<string, string> = {}): Promise<string> {
  const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
  const configuration = await oidc.discovery(new URL(running.baseUrl), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(configuration, params)).access_token;
}

const me = (token?: string) => {
  const request = running.http().get('/api/v1/users/me');
  return token === undefined ? request : request.set('Authorization', `Bearer ${token}`);
};

function expectProblem(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body).toMatchObject({ status, type: expect.stringMatching(/^urn:latch:problem:/), detail: expect.any(String) });
}

function expectInvalidToken(response: Response, description: RegExp) {
  expectProblem(response, 401);
  const challenge = response.headers['www-authenticate'] as string;
  expect(challenge).toMatch(/^Bearer realm="latch", error="invalid_token", error_description="[^"]+"$/);
  expect(challenge).toMatch(description);
}

const pointersOf = (body: { errors?: { pointer: string }[] }) => (body.errors ?? []).map((error) => error.pointer).sort();

async function userExists(id: string): Promise<boolean> {
  return (await query(running.databaseUrl, 'SELECT 1 FROM users WHERE id = $1', [id])).length === 1;
}

describe('GET /api/v1/users/me', () => {
  it('answers the user of a real access token, uncached', async () => {
    const { user, accessToken } = await signedIn();

    const response = await me(accessToken).expect(200);

    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({ id: user.id, email: user.email, status: 'active', name: 'Test User' });
    expect(JSON.stringify(response.body)).not.toMatch(/password|argon2/i);
  });

  it('answers the caller at the Location registration gave, and 404 for any other account, existing or not', async () => {
    const { user, accessToken } = await signedIn();
    const other = await createUser(running);

    const own = await running.http().get(`/api/v1/users/${user.id}`).set('Authorization', `Bearer ${accessToken}`).expect(200);
    expect(own.body.id).toBe(user.id);

    const someoneElse = await running.http().get(`/api/v1/users/${other.id}`).set('Authorization', `Bearer ${accessToken}`);
    const nobody = await running.http().get(`/api/v1/users/${randomUUID()}`).set('Authorization', `Bearer ${accessToken}`);
    expectProblem(someoneElse, 404);
    expectProblem(nobody, 404);
    expect(someoneElse.body.detail).toBe(nobody.body.detail);
  });
});

describe('bearer authentication', () => {
  it('asks for a token, with a bare challenge, when there is none or another scheme is used', async () => {
    for (const response of [await me(), await me().set('Authorization', 'Basic dXNlcjpwYXNz')]) {
      expectProblem(response, 401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="latch"');
    }
  });

  it('refuses a malformed token', async () => {
    expectInvalidToken(await me('not a token'), /malformed/);
    expectInvalidToken(await me('eyJhbGciOiJub25lIn0.e30.'), /malformed|signature/);
  });

  it('refuses a token whose payload was tampered with', async () => {
    const { accessToken, user } = await signedIn();
    const other = await createUser(running);
    const [header, body, signature] = accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.sub).toBe(user.id);
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: other.id })).toString('base64url')}.${signature}`;

    expectInvalidToken(await me(forged), /signature/);
  });

  it('refuses an expired token', async () => {
    const { accessToken } = await signedIn();
    await me(accessToken).expect(200);

    skewMs = (running.config.oidc.ttl.accessToken + 10) * 1000;
    try {
      expectInvalidToken(await me(accessToken), /expired/);
    } finally {
      skewMs = 0;
    }
  });

  it('refuses a token issued for another resource server', async () => {
    const token = await clientCredentialsToken({ resource: ORDERS_API, scope: 'orders:read' });

    expectInvalidToken(await me(token), /audience/);
  });

  it('refuses a token at once after it was revoked at the revocation endpoint', async () => {
    const { accessToken } = await signedIn();
    await me(accessToken).expect(200);

    await oidc.tokenRevocation(app, accessToken);

    expectInvalidToken(await me(accessToken), /not active/);
  });

  it('refuses the token of an account that was disabled since', async () => {
    const { accessToken, user } = await signedIn();
    await running.latch.accounts.disable(user.id);

    expectInvalidToken(await me(accessToken), /account is not active/);
  });

  it('answers 403 to a client credentials token: it acts for no user', async () => {
    const response = await me(await clientCredentialsToken());

    expectProblem(response, 403);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });
});

describe('PATCH /api/v1/users/me', () => {
  const patch = (token: string, body: unknown) => running.http().patch('/api/v1/users/me').set('Authorization', `Bearer ${token}`).send(body as object);

  it('sets and clears claims by their OpenID Connect names', async () => {
    const { accessToken } = await signedIn();

    const response = await patch(accessToken, { given_name: 'Ada', family_name: 'Lovelace', website: 'https://ada.example.com', name: null }).expect(200);

    expect(response.body).toMatchObject({ given_name: 'Ada', family_name: 'Lovelace', website: 'https://ada.example.com', name: null });
    expect((await me(accessToken).expect(200)).body).toMatchObject({ given_name: 'Ada', name: null });
  });

  it('what is sent is what is read: the same flat claims as userinfo, with no profile object', async () => {
    const { accessToken } = await signedIn('openid email profile phone');
    const sent = { name: 'Ada Lovelace', given_name: 'Ada', nickname: 'ada', locale: 'en-GB', phone_number: '+44 20 7946 0000' };

    const { body: read } = await patch(accessToken, sent).expect(200);
    const userinfo = (await running.http().get('/me').set('Authorization', `Bearer ${accessToken}`).expect(200)).body as Record<string, unknown>;

    expect(read).not.toHaveProperty('profile');
    expect(read).toMatchObject(sent);
    const claims = Object.keys(userinfo).filter((claim) => !['sub', 'updated_at'].includes(claim));
    expect(claims.length).toBeGreaterThan(5);
    for (const claim of claims) expect([claim, read[claim] ?? null]).toEqual([claim, userinfo[claim] ?? null]);
  });

  it('refuses wrong types and unknown fields, pointing at the claim names sent', async () => {
    const { accessToken } = await signedIn();

    const response = await patch(accessToken, { given_name: 42, phone_number_verified: true, email_verified: true });

    expectProblem(response, 400);
    expect(pointersOf(response.body)).toEqual(['#/email_verified', '#/given_name', '#/phone_number_verified']);
  });

  it("refuses values the account's rules reject, pointing at the claim names sent", async () => {
    const { accessToken } = await signedIn();

    const response = await patch(accessToken, { website: 'ftp://ada.example.com', birthdate: 'yesterday', middle_name: 'x'.repeat(300) });

    expectProblem(response, 400);
    expect(pointersOf(response.body)).toEqual(['#/birthdate', '#/middle_name', '#/website']);
  });

  it('answers 403 insufficient_scope to a token without the profile scope, which still reads', async () => {
    const { accessToken } = await signedIn('openid email');

    const response = await patch(accessToken, { given_name: 'Ada' });

    expectProblem(response, 403);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="latch", error="insufficient_scope", error_description="the profile scope is required", scope="profile"');
    await me(accessToken).expect(200);
  });
});

describe('PUT /api/v1/users/me/password', () => {
  const changePassword = (token: string, body: unknown) => running.http().put('/api/v1/users/me/password').set('Authorization', `Bearer ${token}`).send(body as object);

  it('refuses a wrong current password and a weak new one, naming the fields sent', async () => {
    const { accessToken, user } = await signedIn();

    const wrong = await changePassword(accessToken, { current_password: 'not my password', new_password: NEW_PASSWORD });
    expectProblem(wrong, 400);
    expect(pointersOf(wrong.body)).toEqual(['#/current_password']);

    const weak = await changePassword(accessToken, { current_password: user.password, new_password: 'password' });
    expectProblem(weak, 400);
    expect(pointersOf(weak.body)).toEqual(expect.arrayContaining(['#/new_password']));
    expect(pointersOf(weak.body)).not.toContain('#/current_password');
  });

  it("changes it, keeps the caller's session and refresh token, and ends every other session's", async () => {
    // No offline_access: these refresh tokens live only as long as their session.
    const caller = await signedIn('openid email profile');
    const elsewhere = await signedIn('openid email profile', caller.user);
    expect(caller.tokens.refresh_token).toEqual(expect.any(String));
    expect(elsewhere.tokens.refresh_token).toEqual(expect.any(String));

    await changePassword(caller.accessToken, { current_password: caller.user.password, new_password: NEW_PASSWORD }).expect(204);

    const refreshed = await oidc.refreshTokenGrant(app, caller.tokens.refresh_token as string);
    await me(refreshed.access_token).expect(200);
    await me(caller.accessToken).expect(200);
    await expect(oidc.refreshTokenGrant(app, elsewhere.tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expectInvalidToken(await me(elsewhere.accessToken), /not active/);

    await expect(signIn(app, caller.user)).rejects.toThrow(/did not reach the redirect URI/);
    await signedIn('openid', { ...caller.user, password: NEW_PASSWORD });
  });
});

describe('DELETE /api/v1/users/me', () => {
  const deleteAccount = (token: string, body: unknown) => running.http().delete('/api/v1/users/me').set('Authorization', `Bearer ${token}`).send(body as object);

  it('refuses a wrong current password and keeps the account', async () => {
    const { accessToken, user } = await signedIn();

    const response = await deleteAccount(accessToken, { current_password: 'not my password' });

    expectProblem(response, 400);
    expect(pointersOf(response.body)).toEqual(['#/current_password']);
    expect(await userExists(user.id)).toBe(true);
    await me(accessToken).expect(200);
  });

  it('deletes the account and everything issued for it', async () => {
    const { accessToken, user, tokens } = await signedIn();

    await deleteAccount(accessToken, { current_password: user.password }).expect(204);

    expect(await userExists(user.id)).toBe(false);
    expect(await query(running.databaseUrl, 'SELECT 1 FROM oidc_payloads WHERE account_id = $1', [user.id])).toEqual([]);
    expectInvalidToken(await me(accessToken), /not active/);
    await expect(oidc.refreshTokenGrant(app, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
