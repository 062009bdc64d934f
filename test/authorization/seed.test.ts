import { seedAuthorization } from '../../src/authorization/seed.js';
import { createPrismaClient } from '../../src/db/prisma.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';

const ORDERS = 'https://orders.example.com';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch({ RESOURCE_SERVERS: JSON.stringify({ [ORDERS]: { scope: 'orders:read', clients: ['orders-service'] } }) });
});

afterAll(async () => {
  await running?.stop();
});

/** RESOURCE_SERVERS is a seed: each start adds what it names, and the database stays the source of truth. */
describe('the seed of roles and resource servers', () => {
  it("holds Latch's own API with the admin permission, the admin role holding it, and each configured server", async () => {
    const { roles, resourceServers } = running.latch.authorization;

    expect((await roles.show('admin')).permissions).toEqual([expect.objectContaining({ resource: running.config.oidc.apiResource, value: 'admin' })]);
    expect(await resourceServers.show(ORDERS)).toMatchObject({ introspectingClients: ['orders-service'], permissions: [expect.objectContaining({ value: 'orders:read' })] });
  });

  it('keeps what admins added or changed at the next start, and restores what the configuration names', async () => {
    const { roles, resourceServers } = running.latch.authorization;
    await resourceServers.addPermission(ORDERS, { value: 'orders:write' }, 'admin');
    await resourceServers.update(ORDERS, { name: 'Orders', introspectingClients: ['billing-service'] }, 'admin');
    await resourceServers.removePermission(ORDERS, 'orders:read', 'admin');
    // The services refuse to take the admin permission from the admin role; a hand-edited database may still lack it.
    await query(running.databaseUrl, "DELETE FROM role_permissions WHERE role_id = (SELECT id FROM roles WHERE name = 'admin')");

    // What the next start (of this or another replica) does.
    const prisma = createPrismaClient(running.databaseUrl, 2);
    try {
      await seedAuthorization(prisma, running.config);
      await seedAuthorization(prisma, running.config);
    } finally {
      await prisma.$disconnect();
    }

    const server = await resourceServers.show(ORDERS);
    expect(server).toMatchObject({ name: 'Orders', introspectingClients: expect.arrayContaining(['billing-service', 'orders-service']) });
    expect(server.introspectingClients).toHaveLength(2);
    expect(server.permissions.map(({ value }) => value)).toEqual(['orders:read', 'orders:write']);
    expect((await roles.show('admin')).permissions.map(({ value }) => value)).toEqual(['admin']);
  });

  it('refuses to take the admin permission from the admin role or from Latch\'s own API: no one could administer Latch until the next start', async () => {
    const { roles, resourceServers } = running.latch.authorization;
    const api = running.config.oidc.apiResource;
    await expect(roles.revoke('admin', [{ resource: api, value: 'admin' }], 'admin')).rejects.toThrow(/cannot be deleted, renamed or lose the admin permission/);
    await expect(resourceServers.removePermission(api, 'admin', 'admin')).rejects.toThrow(/nor lose its admin permission/);
    expect((await roles.show('admin')).permissions.map(({ value }) => value)).toEqual(['admin']);
    expect((await resourceServers.show(api)).permissions.map(({ value }) => value)).toContain('admin');
  });
});
