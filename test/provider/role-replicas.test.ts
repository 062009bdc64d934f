import { decodeJwt } from 'jose';
import { storeAdminClient, tokenAt } from '../support/admin.js';
import { startReplicas, type Replicas } from '../support/replicas.js';

const ORDERS = 'https://orders.example.com';

/**
 * Two Latch processes on one database: an admin's change on one reaches the very next token the
 * other issues, with no restart and no wait (roles and resource servers are cached, and dropped on
 * every process by the tables' LISTEN/NOTIFY triggers when a change commits).
 */
describe('roles and resource servers across replicas', () => {
  let replicas: Replicas;

  beforeAll(async () => {
    replicas = await startReplicas(2);
  });

  afterAll(async () => {
    await replicas?.stop();
  });

  it('issues from one process what an admin changed on the other, at once', async () => {
    const [first = '', second = ''] = replicas.urls;
    const admin = await storeAdminClient(replicas.databaseUrl);
    const adminToken = await tokenAt(first, admin, { scope: 'admin' });
    const call = (base: string, method: string, path: string, body?: unknown) =>
      fetch(`${base}/api/v1/admin${path}`, { method, headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

    // The machine client that will hold the role; the second process learns of it by itself.
    const machine = await storeAdminClient(replicas.databaseUrl);
    await expect(tokenAt(second, machine, { resource: ORDERS, scope: 'orders:read' })).rejects.toThrow(/invalid_target/);

    expect((await call(first, 'POST', '/resource-servers', { identifier: ORDERS, permissions: ['orders:read'] })).status).toBe(201);
    expect((await call(first, 'POST', '/roles', { name: 'orders-reader' })).status).toBe(201);
    const permission = ((await (await call(first, 'GET', `/resource-servers/${encodeURIComponent(ORDERS)}/permissions`)).json()) as { permissions: { id: string }[] }).permissions[0]?.id;
    expect((await call(first, 'PUT', `/roles/orders-reader/permissions/${permission}`)).status).toBe(200);
    expect((await call(first, 'PUT', `/clients/${machine.clientId}/roles/orders-reader`)).status).toBe(204);

    expect(decodeJwt(await tokenAt(second, machine, { resource: ORDERS, scope: 'orders:read' }))).toMatchObject({ aud: ORDERS, scope: 'orders:read', roles: ['orders-reader'] });

    // And back: taken away on the second, gone from the first's next token.
    expect((await call(second, 'DELETE', `/clients/${machine.clientId}/roles/orders-reader`)).status).toBe(204);
    const without = decodeJwt(await tokenAt(first, machine, { resource: ORDERS, scope: 'orders:read' }));
    expect(without.scope).toBeUndefined();
    expect(without.roles).toBeUndefined();
  });
});
