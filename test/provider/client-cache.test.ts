import type pg from 'pg';
import { listenForInvalidation, type Invalidation } from '../../src/db/invalidation.js';
import { createConnectionPool } from '../../src/db/prisma.js';
import { createLogger } from '../../src/logger.js';
import { CLIENT_CHANNEL, createOidcStore, type OidcStore } from '../../src/provider/oidc-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

/**
 * Clients are served from memory, so a change made by another Latch process (or the CLI) must
 * reach this one's cache: PostgreSQL NOTIFY, sent by the statement that changed the row.
 */
describe('the client cache', () => {
  const logger = createLogger('silent');
  const now = () => new Date();
  let database: TestDatabase;
  let pools: pg.Pool[];
  let invalidations: Invalidation[];
  let here: OidcStore;
  let elsewhere: OidcStore;

  /** Resolves once `check` holds, polling; fails the test after two seconds. */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('condition never held');
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    pools = [createConnectionPool(database.url, { poolMax: 3 }), createConnectionPool(database.url, { poolMax: 3 })];
    // As Prisma's adapter does in the app: a connection the server ends is replaced, not fatal.
    for (const pool of pools) pool.on('error', () => undefined);
    invalidations = pools.map((pool) => listenForInvalidation(pool, CLIENT_CHANNEL, logger));
    [here, elsewhere] = pools.map((pool, index) => createOidcStore(pool, { clientInvalidation: invalidations[index] })) as [OidcStore, OidcStore];
    await eventually(async () => invalidations.every((invalidation) => invalidation.listening));
  });

  afterAll(async () => {
    for (const invalidation of invalidations ?? []) await invalidation.stop();
    for (const pool of pools ?? []) await pool.end();
    await database?.drop();
  });

  it('serves a client from memory once read', async () => {
    await here.upsert('Client', 'cached', { client_id: 'cached', client_name: 'First' }, undefined);
    // The write's own notice comes back to this process too; once it has, the next read is kept.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await here.find('Client', 'cached', now())).toMatchObject({ client_name: 'First' });
    // Changed behind Latch's back (no NOTIFY): the cached copy still answers, which is what saves the round trip.
    await query(database.url, `UPDATE oidc_payloads SET payload = '{"client_id":"cached","client_name":"Behind"}' WHERE id = 'cached'`);
    expect(await here.find('Client', 'cached', now())).toMatchObject({ client_name: 'First' });
  });

  it('drops a client another process changed or deleted, when that change commits', async () => {
    await here.upsert('Client', 'shared', { client_id: 'shared', client_secret: 'old' }, undefined);
    expect(await here.find('Client', 'shared', now())).toMatchObject({ client_secret: 'old' });
    expect(await elsewhere.find('Client', 'shared', now())).toMatchObject({ client_secret: 'old' });

    await elsewhere.upsert('Client', 'shared', { client_id: 'shared', client_secret: 'new' }, undefined);
    expect(await elsewhere.find('Client', 'shared', now())).toMatchObject({ client_secret: 'new' });
    await eventually(async () => (await here.find('Client', 'shared', now()))?.client_secret === 'new');

    await elsewhere.destroy('Client', 'shared');
    await eventually(async () => (await here.find('Client', 'shared', now())) === undefined);
  });

  it('does not keep a client past its expiry', async () => {
    const soon = new Date(Date.now() + 60_000);
    await here.upsert('Client', 'expiring', { client_id: 'expiring' }, soon);
    expect(await here.find('Client', 'expiring', now())).toBeDefined();
    expect(await here.find('Client', 'expiring', new Date(soon.getTime() + 1))).toBeUndefined();
  });

  it('bypasses the cache while it cannot listen, and starts afresh when it can again', async () => {
    await here.upsert('Client', 'outage', { client_id: 'outage', client_name: 'Before' }, undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await here.find('Client', 'outage', now())).toMatchObject({ client_name: 'Before' });
    // The listening connection is killed, as a failover or restart would; then a change is made that no notice announces.
    await query(database.url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()`);
    await eventually(async () => !invalidations[0]?.listening);
    await query(database.url, `UPDATE oidc_payloads SET payload = '{"client_id":"outage","client_name":"Meanwhile"}' WHERE id = 'outage'`);
    expect(await here.find('Client', 'outage', now())).toMatchObject({ client_name: 'Meanwhile' });
    await eventually(async () => invalidations[0]?.listening === true);
    expect(await here.find('Client', 'outage', now())).toMatchObject({ client_name: 'Meanwhile' });
  });
});
