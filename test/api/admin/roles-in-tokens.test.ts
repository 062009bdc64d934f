import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { adminClient, adminClientToken, clientCredentialsToken } from '../../support/admin.js';
import { registerClient } from '../../support/clients.js';
import { startLatch, type RunningLatch } from '../../support/latch.js';
import { createUser, relyingParty, signIn } from '../../support/sign-in.js';
import { query } from '../../support/sql.js';

const ORDERS = 'https://orders.example.com';

let running: RunningLatch;
let admin: string;

beforeAll(async () => {
  running = await startLatch();
  admin = await adminClientToken(running);
});

afterAll(async () => {
  await running?.stop();
});

const as = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string) => running.http()[method](`/api/v1/admin${path}`).set('Authorization', `Bearer ${admin}`);

/** What an admin does through the API: an orders API with two permissions, and a role holding one. */
async function ordersReader(role: string) {
  const server = await as('post', '/resource-servers').send({ identifier: `${ORDERS}/${role}`, name: 'Orders', permissions: ['orders:read', 'orders:write'] });
  expect(server.status).toBe(201);
  const created = await as('post', '/roles').send({ name: role, description: 'Reads orders' });
  expect(created.status).toBe(201);
  const read = server.body.permissions.find((permission: { value: string }) => permission.value === 'orders:read');
  expect((await as('put', `/roles/${created.body.id}/permissions/${read.id}`)).status).toBe(200);
  return { resource: server.body.identifier as string, roleId: created.body.id as string, readId: read.id as string };
}

describe('roles in tokens', () => {
  it("puts in a user's next token for an API the permission their new role grants, and the role", async () => {
    const { resource } = await ordersReader('orders-reader');
    const user = await createUser(running);
    const app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
    const before = await signIn(app, user, { scope: 'openid offline_access orders:read orders:write', params: { resource } });
    expect(decodeJwt(before.tokens.access_token).scope).toBeUndefined();

    expect((await as('put', `/users/${user.id}/roles/orders-reader`)).status).toBe(204);
    const after = await oidc.refreshTokenGrant(app, before.tokens.refresh_token as string, { resource });

    // Asked for read and write; the role grants read only.
    expect(decodeJwt(after.access_token)).toMatchObject({ aud: resource, scope: 'orders:read', roles: ['orders-reader'] });
    expect((await as('get', `/users/${user.id}/roles`)).body).toEqual({ roles: [expect.objectContaining({ name: 'orders-reader' })] });
  });

  it("gives a client its own roles' permissions with client credentials, and only those it asked for", async () => {
    const { resource } = await ordersReader('machine-reader');
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const credentials = { clientId: client.client_id, clientSecret: client.client_secret as string };
    expect((await as('put', `/clients/${client.client_id}/roles/machine-reader`)).status).toBe(204);

    const configuration = await oidc.discovery(new URL(running.baseUrl), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const token = (await oidc.clientCredentialsGrant(configuration, { resource, scope: 'orders:read orders:write' })).access_token;
    expect(decodeJwt(token)).toMatchObject({ aud: resource, scope: 'orders:read', roles: ['machine-reader'], client_id: client.client_id });

    expect((await as('delete', `/clients/${client.client_id}/roles/machine-reader`)).status).toBe(204);
    const without = decodeJwt((await oidc.clientCredentialsGrant(configuration, { resource, scope: 'orders:read' })).access_token);
    expect(without.scope).toBeUndefined();
    expect(without.roles).toBeUndefined();
    // Latch's own API's scopes are not permissions: openid needs no role.
    expect(decodeJwt(await clientCredentialsToken(running, credentials, 'openid')).scope).toBe('openid');
  });

  it('drops a revoked permission, a deleted role and a deleted resource server from the next refresh', async () => {
    const { resource, roleId, readId } = await ordersReader('short-lived');
    const user = await createUser(running);
    await as('put', `/users/${user.id}/roles/short-lived`);
    const app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
    const { tokens } = await signIn(app, user, { scope: 'openid offline_access orders:read', params: { resource } });
    expect(decodeJwt(tokens.access_token).scope).toBe('orders:read');

    expect((await as('delete', `/roles/${roleId}/permissions/${readId}`)).status).toBe(204);
    const revoked = await oidc.refreshTokenGrant(app, tokens.refresh_token as string, { resource });
    expect(decodeJwt(revoked.access_token).scope).toBeUndefined();
    // The role holds nothing of this API now: it is not one of the token's roles for it.
    expect(decodeJwt(revoked.access_token).roles).toBeUndefined();

    await as('put', `/roles/${roleId}/permissions/${readId}`);
    const regranted = await oidc.refreshTokenGrant(app, revoked.refresh_token as string, { resource });
    expect(decodeJwt(regranted.access_token).scope).toBe('orders:read');
    expect((await as('delete', `/roles/${roleId}`)).status).toBe(204);
    const roleGone = await oidc.refreshTokenGrant(app, regranted.refresh_token as string, { resource });
    expect(decodeJwt(roleGone.access_token).scope).toBeUndefined();

    expect((await as('delete', `/resource-servers/${encodeURIComponent(resource)}`)).status).toBe(204);
    await expect(oidc.clientCredentialsGrant(await relyingParty(running, await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] })), { resource })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('puts every role name in the ID token and userinfo under the roles scope, and none without it', async () => {
    await ordersReader('named-in-id-tokens');
    const user = await createUser(running);
    await as('put', `/users/${user.id}/roles/named-in-id-tokens`);
    await as('put', `/users/${user.id}/roles/admin`);
    const app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));

    const { tokens } = await signIn(app, user, { scope: 'openid roles' });
    expect(tokens.claims()?.roles).toEqual(['admin', 'named-in-id-tokens']);
    expect(await oidc.fetchUserInfo(app, tokens.access_token, user.id)).toMatchObject({ roles: ['admin', 'named-in-id-tokens'] });
    // The client never asked for admin: its access token for Latch's API does not carry it.
    expect(decodeJwt(tokens.access_token).scope).toBe('openid roles');

    const plain = await signIn(app, user, { scope: 'openid' });
    expect(plain.tokens.claims()?.roles).toBeUndefined();
    expect(await oidc.fetchUserInfo(app, plain.tokens.access_token, user.id)).not.toHaveProperty('roles');
  });

  it('announces the roles scope and claim in discovery', async () => {
    const { body } = await running.http().get('/.well-known/openid-configuration').expect(200);

    expect(body.scopes_supported).toEqual(expect.arrayContaining(['roles', 'admin']));
    expect(body.claims_supported).toContain('roles');
  });

  it('records every change with its actor, and what it was before and after', async () => {
    const credentials = await adminClient(running);
    const token = await clientCredentialsToken(running, credentials, 'admin');
    const renamed = await running.http().post('/api/v1/admin/roles').set('Authorization', `Bearer ${token}`).send({ name: 'audited', description: 'first' });
    await running.http().patch(`/api/v1/admin/roles/${renamed.body.id}`).set('Authorization', `Bearer ${token}`).send({ name: 'audited-renamed' });

    const [event] = await query<{ actor: string; details: Record<string, unknown> }>(running.databaseUrl, "SELECT actor, details FROM audit_events WHERE event = 'role.updated' ORDER BY id DESC LIMIT 1");
    expect(event).toEqual({ actor: `client:${credentials.clientId}`, details: expect.objectContaining({ role: 'audited-renamed', before: ['name audited', 'description first'], after: ['name audited-renamed', 'description first'] }) });
  });

  it('answers problems: 404 for an unknown role, 409 for a duplicate or the built-in admin role, 400 for a bad name', async () => {
    expect((await as('get', '/roles/no-such-role')).body).toMatchObject({ status: 404, detail: 'There is no role no-such-role.' });
    expect((await as('post', '/roles').send({ name: 'admin' })).body).toMatchObject({ status: 409 });
    expect((await as('delete', '/roles/admin')).body).toMatchObject({ status: 409, detail: expect.stringMatching(/built in/) });
    expect((await as('patch', '/roles/admin').send({ name: 'root' })).body).toMatchObject({ status: 409 });
    expect((await as('post', '/roles').send({ name: 'two words' })).body).toMatchObject({ status: 400, errors: [expect.objectContaining({ pointer: '#/name' })] });
    expect((await as('put', '/users/not-a-user/roles/admin')).body).toMatchObject({ status: 404, detail: 'There is no user not-a-user.' });
  });
});
