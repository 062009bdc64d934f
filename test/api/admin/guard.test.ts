import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { registerClient } from '../../support/clients.js';
import { adminClient, adminClientToken, adminSignInClient, adminUserToken, clientCredentialsToken } from '../../support/admin.js';
import { startLatch, type RunningLatch } from '../../support/latch.js';
import { createUser, relyingParty, signIn } from '../../support/sign-in.js';

const INITIAL_ACCESS_TOKEN = 'admin-guard-initial-access-token-0123456789';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch({ LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
});

afterAll(async () => {
  await running?.stop();
});

const listRoles = (token?: string) => {
  const request = running.http().get('/api/v1/admin/roles');
  return token === undefined ? request : request.set('Authorization', `Bearer ${token}`);
};

const scopesOf = (token: string) => String(decodeJwt(token).scope ?? '').split(' ');

function expectInsufficientScope(response: Awaited<ReturnType<typeof listRoles>>) {
  expect(response.status).toBe(403);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="latch", error="insufficient_scope", error_description="[^"]+", scope="admin"$/);
}

describe('the admin guard', () => {
  it('asks for a token when there is none', async () => {
    const response = await listRoles();

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="latch"');
    expect(response.body).toMatchObject({ type: 'urn:latch:problem:unauthorized' });
  });

  it('refuses a token that is not Latch\'s', async () => {
    const response = await listRoles('not.a.token');

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it("refuses a user's token without the admin scope, with the RFC 6750 challenge", async () => {
    const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true });
    const { tokens } = await signIn(await relyingParty(running, client), await createUser(running), { scope: 'openid profile' });

    expectInsufficientScope(await listRoles(tokens.access_token));
  });

  it('gives no admin scope to a client no admin allowed to ask for it, and the API refuses its token', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const token = await clientCredentialsToken(running, { clientId: client.client_id, clientSecret: client.client_secret as string }, 'admin');

    expect(scopesOf(token)).not.toContain('admin');
    expectInsufficientScope(await listRoles(token));
  });

  it('gives no admin scope to a client allowed to ask for it that does not hold the admin role', async () => {
    const client = await adminClient(running);
    await running.latch.authorization.assignments.unassign({ client: client.clientId }, 'admin', 'admin');

    const token = await clientCredentialsToken(running, client, 'admin');

    expect(scopesOf(token)).not.toContain('admin');
    expectInsufficientScope(await listRoles(token));
  });

  it("refuses a client whose registered scope leaves admin out: oidc-provider's invalid_scope", async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'openid' });

    await expect(clientCredentialsToken(running, { clientId: client.client_id, clientSecret: client.client_secret as string }, 'admin')).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('lets an admin client in, with its roles in the token', async () => {
    const token = await adminClientToken(running);

    expect(decodeJwt(token)).toMatchObject({ aud: running.config.oidc.apiResource, scope: 'admin', roles: ['admin'] });
    const response = await listRoles(token);
    expect(response.status).toBe(200);
    expect(response.body.roles).toContainEqual(expect.objectContaining({ name: 'admin', permissions: [expect.objectContaining({ resource: running.config.oidc.apiResource, value: 'admin' })] }));
  });

  it('refuses an admin client whose registration is gone, though its token was not revoked', async () => {
    const client = await adminClient(running);
    const token = await clientCredentialsToken(running, client, 'admin');
    expect((await listRoles(token)).status).toBe(200);
    // The Client row alone: what a deletion leaves for an instant before it revokes the tokens.
    await running.latch.oidcStore.destroy('Client', client.clientId);

    // Every process's client cache drops the row when the deletion's notice arrives.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 401; attempt += 1) {
      status = (await listRoles(token)).status;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(401);
  });

  it('lets an admin user in, signed in through a client allowed to ask for admin', async () => {
    const token = await adminUserToken(running, await createUser(running));

    expect(scopesOf(token)).toEqual(expect.arrayContaining(['openid', 'admin']));
    expect(decodeJwt(token).roles).toEqual(['admin']);
    expect((await listRoles(token)).status).toBe(200);
  });

  it('refuses an admin user the moment their account is disabled', async () => {
    const user = await createUser(running);
    const token = await adminUserToken(running, user);
    await running.latch.accounts.disable(user.id);

    const response = await listRoles(token);

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('refuses an admin user the moment the admin role is taken away', async () => {
    const user = await createUser(running);
    const token = await adminUserToken(running, user);
    await running.latch.authorization.assignments.unassign({ user: user.id }, 'admin', 'admin');

    expectInsufficientScope(await listRoles(token));
  });

  it('gives no admin scope to a user without the admin role, even through a client allowed to ask for it', async () => {
    const { tokens } = await signIn(await relyingParty(running, await adminSignInClient(running)), await createUser(running), { scope: 'openid admin' });

    expect(scopesOf(tokens.access_token)).not.toContain('admin');
    expect(decodeJwt(tokens.access_token).roles).toBeUndefined();
  });

  it('leaves admin out of the very next token refreshed after the role is taken away', async () => {
    const user = await createUser(running);
    await running.latch.authorization.assignments.assign({ user: user.id }, 'admin', 'admin');
    const configuration = await relyingParty(running, await adminSignInClient(running));
    const { tokens } = await signIn(configuration, user, { scope: 'openid offline_access admin' });
    expect(scopesOf(tokens.access_token)).toContain('admin');

    await running.latch.authorization.assignments.unassign({ user: user.id }, 'admin', 'admin');
    const refreshed = await oidc.refreshTokenGrant(configuration, tokens.refresh_token as string);

    expect(scopesOf(refreshed.access_token)).not.toContain('admin');
    expect(decodeJwt(refreshed.access_token).roles).toBeUndefined();
    expectInsufficientScope(await listRoles(refreshed.access_token));

    await running.latch.authorization.assignments.assign({ user: user.id }, 'admin', 'admin');
    const again = await oidc.refreshTokenGrant(configuration, refreshed.refresh_token as string);
    expect(scopesOf(again.access_token)).toContain('admin');
  });

  it('refuses admin in the scope of a client registering itself (DCR)', async () => {
    const response = await running
      .http()
      .post('/reg')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({ redirect_uris: ['https://app.example.com/callback'], scope: 'openid admin' });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringMatching(/admin/) });
  });
});
