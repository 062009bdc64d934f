import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { adminClient, clientCredentialsToken } from '../support/admin.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser } from '../support/sign-in.js';

let running: RunningLatch;
let admin: string;
let adminActor: string;

beforeAll(async () => {
  running = await startLatch();
  const machine = await adminClient(running);
  admin = await clientCredentialsToken(running, machine, 'admin');
  adminActor = `client:${machine.clientId}`;
});

afterAll(async () => {
  await running?.stop();
});

const API = '/api/v1/admin';
const get = (path: string) => running.http().get(`${API}${path}`).set('Authorization', `Bearer ${admin}`);
const post = (path: string, body?: object) => {
  const request = running.http().post(`${API}${path}`).set('Authorization', `Bearer ${admin}`);
  return body === undefined ? request : request.send(body);
};
const patch = (path: string, body: object) => running.http().patch(`${API}${path}`).set('Authorization', `Bearer ${admin}`).send(body);
const remove = (path: string) => running.http().delete(`${API}${path}`).set('Authorization', `Bearer ${admin}`);

function expectProblem(response: Response, status: number, pointers?: string[]) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (pointers) expect((response.body.errors as { pointer: string }[]).map((error) => error.pointer)).toEqual(pointers);
}

const clientCredentials = (clientId: string, secret: string) => running.http().post('/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials' });

describe('/api/v1/admin/clients', () => {
  it('creates, lists, shows, changes, rotates the secret of and deletes a client, each validated by the provider', async () => {
    const created = await post('/clients', { client_name: 'Orders', grant_types: ['client_credentials'] }).expect(201);
    const { client_id: clientId, client_secret: secret } = created.body as { client_id: string; client_secret: string };
    expect(created.body).toMatchObject({ client_name: 'Orders', type: 'confidential', first_party: false, grant_types: ['client_credentials'] });
    expect(created.headers.location).toBe(`${API}/clients/${clientId}`);
    await clientCredentials(clientId, secret).expect(200);

    expect((await get('/clients').expect(200)).body.clients).toEqual(expect.arrayContaining([expect.objectContaining({ client_id: clientId })]));
    const shown = await get(`/clients/${clientId}`).expect(200);
    expect(shown.body).not.toHaveProperty('client_secret');

    const changed = await patch(`/clients/${clientId}`, { client_name: 'Orders API', grant_types: ['authorization_code', 'client_credentials'], redirect_uris: ['https://orders.example.com/cb'] }).expect(200);
    expect(changed.body).toMatchObject({ client_name: 'Orders API', grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], redirect_uris: ['https://orders.example.com/cb'] });
    // The provider's own validation, as for a registration: a redirect URI with a fragment is refused, and nothing changes.
    expectProblem(await patch(`/clients/${clientId}`, { redirect_uris: ['https://orders.example.com/cb#fragment'] }), 400);
    expectProblem(await patch(`/clients/${clientId}`, { grant_types: ['implicit'] }), 400, ['#/grant_types/0']);
    expectProblem(await patch(`/clients/${clientId}`, { jwks_uri: 'https://x' }), 400, ['#/jwks_uri']);
    expect((await get(`/clients/${clientId}`).expect(200)).body.redirect_uris).toEqual(['https://orders.example.com/cb']);

    const rotated = await post(`/clients/${clientId}/secret`).expect(200);
    expect(rotated.body.client_secret).not.toBe(secret);
    expect((await clientCredentials(clientId, secret)).status).toBe(401);
    await clientCredentials(clientId, rotated.body.client_secret as string).expect(200);

    await remove(`/clients/${clientId}`).expect(204);
    for (const response of [await get(`/clients/${clientId}`), await patch(`/clients/${clientId}`, { client_name: 'x' }), await remove(`/clients/${clientId}`), await post(`/clients/${clientId}/secret`)]) {
      expectProblem(response, 404);
    }
  });

  it('makes an admin machine client whose own token may call the admin API', async () => {
    const created = await post('/clients', { admin: true, grant_types: ['client_credentials'] }).expect(201);
    expect(created.body).toMatchObject({ admin: true });
    const token = await clientCredentialsToken(running, { clientId: created.body.client_id, clientSecret: created.body.client_secret }, 'admin');
    await running.http().get(`${API}/keys`).set('Authorization', `Bearer ${token}`).expect(200);
    const plain = await post('/clients', { grant_types: ['client_credentials'] }).expect(201);
    expect(plain.body).toMatchObject({ admin: false });
  });

  it('refuses a public client_credentials client and a public client secret rotation', async () => {
    expectProblem(await post('/clients', { public: true, grant_types: ['client_credentials'] }), 400);
    const spa = await post('/clients', { public: true, redirect_uris: ['https://spa.example.com/cb'] }).expect(201);
    expect(spa.body).not.toHaveProperty('client_secret');
    expectProblem(await post(`/clients/${spa.body.client_id}/secret`), 400);
  });
});

describe('/api/v1/admin/keys', () => {
  it('lists keys with their state and rotates them', async () => {
    const before = (await get('/keys').expect(200)).body.keys as { kid: string; state: string }[];
    expect(before.map((key) => key.state)).toEqual(['current', 'current', 'current']);

    const rotation = await post('/keys/rotate?publish_for=600').expect(200);
    expect(rotation.body.created).toHaveLength(3);
    expect(rotation.body.retired.map((key: { kid: string }) => key.kid).sort()).toEqual(before.map((key) => key.kid).sort());
    expect(Date.parse(rotation.body.activates_at as string) - Date.now()).toBeGreaterThan(590_000);

    const after = (await get('/keys').expect(200)).body.keys as { kid: string; state: string; retires_at: string | null }[];
    const stateOf = (kid: string) => after.find((key) => key.kid === kid)?.state;
    for (const key of rotation.body.created as { kid: string }[]) expect(stateOf(key.kid)).toBe('next');
    for (const key of before) expect(stateOf(key.kid)).toBe('current');
    expectProblem(await post('/keys/rotate?publish_for=soon'), 400, ['#/publish_for']);
  });
});

describe('/api/v1/admin/audit-events', () => {
  it('filters by user (id or email), event and time, newest first, in keyset pages; every admin action names the admin', async () => {
    const user = await createUser(running);
    for (const verb of ['disable', 'enable', 'disable']) await post(`/users/${user.id}/${verb}`).expect(200);

    const all = await get(`/audit-events?user=${user.id}`).expect(200);
    expect((all.body.events as { event: string }[]).map((event) => event.event)).toEqual(['account.disabled', 'account.enabled', 'account.disabled', 'email.verification_sent', 'account.registered']);
    expect(all.body.events[0]).toMatchObject({ actor: adminActor, subject_id: user.id, ip: '127.0.0.1', details: { via: 'admin', before_status: 'active', after_status: 'disabled' } });

    const byEmail = await get(`/audit-events?user=${encodeURIComponent(user.email.toUpperCase())}&event=account.disabled`).expect(200);
    expect(byEmail.body.events).toHaveLength(2);

    const first = await get(`/audit-events?user=${user.id}&limit=2`).expect(200);
    const second = await get(`/audit-events?user=${user.id}&limit=2&cursor=${first.body.next_cursor}`).expect(200);
    const third = await get(`/audit-events?user=${user.id}&limit=2&cursor=${second.body.next_cursor}`).expect(200);
    expect([...first.body.events, ...second.body.events, ...third.body.events]).toEqual(all.body.events);
    expect(third.body.next_cursor).toBeNull();

    expect((await get(`/audit-events?user=${user.id}&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`).expect(200)).body.events).toEqual([]);
    expectProblem(await get('/audit-events?since=yesterday'), 400, ['#/since']);
    expectProblem(await get('/audit-events?cursor=forged'), 400, ['#/cursor']);
    expectProblem(await get(`/audit-events?user=nobody-${randomUUID()}@example.com`), 404);
  });

  it('records client and key changes with the admin as actor, and never a secret', async () => {
    const created = await post('/clients', { grant_types: ['client_credentials'] }).expect(201);
    await post(`/clients/${created.body.client_id}/secret`).expect(200);
    const events = (await get('/audit-events?limit=50').expect(200)).body.events as { event: string; actor: string; details: Record<string, unknown> }[];
    const mine = events.filter((event) => event.details.clientId === created.body.client_id);
    expect(mine.map((event) => `${event.event} ${event.actor}`)).toEqual([`client.secret_rotated ${adminActor}`, `client.created ${adminActor}`]);
    expect(JSON.stringify(events)).not.toContain(created.body.client_secret as string);
  });
});
