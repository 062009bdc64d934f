import type pg from 'pg';
import { AUTHORIZATION_CHANNEL } from '../../src/authorization/channel.js';
import { createEntitlements, type Entitlements } from '../../src/authorization/entitlements.js';
import { listenForInvalidation, type Invalidation } from '../../src/db/invalidation.js';
import { createConnectionPool } from '../../src/db/prisma.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

const RESOURCE = 'https://orders.example.com';

/**
 * Roles are read on every token issuance and served from memory once read: any change to them,
 * by any writer on any process, must reach every process's cache when it commits (the tables'
 * triggers send the notice, so a cascade or a bulk insert is covered like the admin API).
 */
describe('the role cache', () => {
  const logger = createLogger('silent');
  let database: TestDatabase;
  let pools: pg.Pool[];
  let invalidations: Invalidation[];
  let here: Entitlements;
  let elsewhere: Entitlements;

  /** Resolves once `check` holds, polling; fails the test after two seconds. */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('condition never held');
  }

  const sql = (text: string, values: unknown[] = []) => query(database.url, text, values);
  const rolesOf = async (entitlements: Entitlements, clientId: string) => (await entitlements.rolesOf({ kind: 'client', id: clientId }, RESOURCE)).map(({ name, permissions }) => `${name}:${permissions.join(',')}`);
  const role = async (name: string) => (await sql(`INSERT INTO roles (id, name) VALUES (gen_random_uuid(), $1) RETURNING id`, [name]))[0]?.id as string;
  const assign = (clientId: string, roleId: string) => sql(`INSERT INTO client_roles (client_id, role_id) VALUES ($1, $2::uuid)`, [clientId, roleId]);
  /** Let the notices of the writes so far arrive, so that what is read next is kept. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

  beforeAll(async () => {
    database = await createTestDatabase();
    pools = [createConnectionPool(database.url, { poolMax: 3 }), createConnectionPool(database.url, { poolMax: 3 })];
    for (const pool of pools) pool.on('error', () => undefined);
    invalidations = pools.map((pool) => listenForInvalidation(pool, AUTHORIZATION_CHANNEL, logger));
    [here, elsewhere] = pools.map((pool, index) => createEntitlements(pool, invalidations[index] as Invalidation)) as [Entitlements, Entitlements];
    await eventually(async () => invalidations.every((invalidation) => invalidation.listening));
    await sql(`INSERT INTO resource_servers (id, identifier, introspecting_clients) VALUES (gen_random_uuid(), $1, '{}')`, [RESOURCE]);
    await sql(`INSERT INTO permissions (id, resource_server_id, value) SELECT gen_random_uuid(), id, 'orders:read' FROM resource_servers WHERE identifier = $1`, [RESOURCE]);
  });

  afterAll(async () => {
    for (const invalidation of invalidations ?? []) await invalidation.stop();
    for (const pool of pools ?? []) await pool.end();
    await database?.drop();
  });

  it('serves a subject\'s roles from memory once read', async () => {
    await assign('cached-client', await role('cached-reader'));
    await settle();
    expect(await rolesOf(here, 'cached-client')).toEqual(['cached-reader:']);
    // Assigned behind Latch's back (triggers off for this one transaction, so no notice): the kept roles still answer.
    await sql(`BEGIN; SET LOCAL session_replication_role = replica; INSERT INTO client_roles (client_id, role_id) SELECT 'cached-client', id FROM roles WHERE name = 'cached-reader' ON CONFLICT DO NOTHING; INSERT INTO roles (id, name) VALUES (gen_random_uuid(), 'unannounced'); INSERT INTO client_roles (client_id, role_id) SELECT 'cached-client', id FROM roles WHERE name = 'unannounced'; COMMIT`);
    expect(await rolesOf(here, 'cached-client')).toEqual(['cached-reader:']);
    // Any announced change drops everything kept, so the next read sees the database again.
    await role('unrelated');
    await eventually(async () => (await rolesOf(here, 'cached-client')).length === 2);
  });

  it('drops roles on every process when an assignment, a role\'s permissions or a role itself changes', async () => {
    const reader = await role('orders-reader');
    await settle();
    expect(await rolesOf(here, 'machine')).toEqual([]);
    expect(await rolesOf(elsewhere, 'machine')).toEqual([]);

    await assign('machine', reader);
    await eventually(async () => (await rolesOf(here, 'machine')).join() === 'orders-reader:');
    await eventually(async () => (await rolesOf(elsewhere, 'machine')).join() === 'orders-reader:');

    await sql(`INSERT INTO role_permissions (role_id, permission_id) SELECT $1::uuid, id FROM permissions WHERE value = 'orders:read'`, [reader]);
    await eventually(async () => (await rolesOf(here, 'machine')).join() === 'orders-reader:orders:read');

    // Deleting the role takes its assignments with it (a cascade, which no application code writes).
    await sql(`DELETE FROM roles WHERE id = $1::uuid`, [reader]);
    await eventually(async () => (await rolesOf(here, 'machine')).length === 0);
    await eventually(async () => (await rolesOf(elsewhere, 'machine')).length === 0);
  });

  it('reads the database while it cannot listen, and keeps again once it can', async () => {
    await assign('outage-client', await role('before-outage'));
    await settle();
    expect(await rolesOf(here, 'outage-client')).toEqual(['before-outage:']);
    await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()`);
    await eventually(async () => !invalidations[0]?.listening);
    await sql(`DELETE FROM client_roles WHERE client_id = 'outage-client'`);
    expect(await rolesOf(here, 'outage-client')).toEqual([]);
    await eventually(async () => invalidations[0]?.listening === true);
    expect(await rolesOf(here, 'outage-client')).toEqual([]);
  });
});
