import type pg from 'pg';
import type { AdapterPayload } from 'oidc-provider';
import { createConnectionPool } from '../../src/db/prisma.js';
import { createOidcStore, type OidcStore } from '../../src/provider/oidc-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

/**
 * A refresh token found inside a request brings its grant and session along, so that the refresh
 * grant's next two lookups make no round trip. What is read ahead must stay inside that one request:
 * each test changes the database behind the store's back and checks who still sees the old row.
 */
describe('the store reads a refresh token’s grant and session ahead, for one request only', () => {
  const NOW = new Date('2001-02-03T04:05:06.000Z');
  const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
  let database: TestDatabase;
  let pool: pg.Pool;
  let store: OidcStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createConnectionPool(database.url, { poolMax: 2 });
    store = createOidcStore(pool);
  });

  beforeEach(async () => {
    await query(database.url, 'TRUNCATE oidc_payloads');
    await store.upsert('Grant', 'grant-1', { jti: 'grant-1', kind: 'Grant', accountId: 'account-1', clientId: 'client-1' }, later(60));
    await store.upsert('Session', 'session-1', { jti: 'session-1', kind: 'Session', uid: 'uid-1', accountId: 'account-1' }, later(60));
    const token: AdapterPayload = { jti: 'token-1', kind: 'RefreshToken', grantId: 'grant-1', sessionUid: 'uid-1', accountId: 'account-1' };
    await store.upsert('RefreshToken', 'token-1', token, later(3600));
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  /** Deletes a row as another process would: straight in the database, unseen by this store. */
  const deleteElsewhere = (model: string, id: string) => query(database.url, 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [model, id]);

  it('serves the grant and the session found with the token for the rest of the request', async () => {
    const seen = await store.withinRequest(async () => {
      await store.find('RefreshToken', 'token-1', NOW);
      await deleteElsewhere('Grant', 'grant-1');
      await deleteElsewhere('Session', 'session-1');
      return { grant: await store.find('Grant', 'grant-1', NOW), session: await store.findByUid('Session', 'uid-1', NOW) };
    });
    expect(seen.grant).toMatchObject({ jti: 'grant-1', clientId: 'client-1' });
    expect(seen.session).toMatchObject({ jti: 'session-1', uid: 'uid-1' });
  });

  it('keeps nothing for the next request, nor outside any request', async () => {
    await store.withinRequest(() => store.find('RefreshToken', 'token-1', NOW));
    await deleteElsewhere('Grant', 'grant-1');
    expect(await store.withinRequest(() => store.find('Grant', 'grant-1', NOW))).toBeUndefined();

    await store.find('RefreshToken', 'token-1', NOW);
    await deleteElsewhere('Session', 'session-1');
    expect(await store.findByUid('Session', 'uid-1', NOW)).toBeUndefined();
  });

  it('drops what it read ahead at the request’s first write', async () => {
    const grant = await store.withinRequest(async () => {
      await store.find('RefreshToken', 'token-1', NOW);
      await deleteElsewhere('Grant', 'grant-1');
      await store.consume('RefreshToken', 'token-1', NOW);
      return store.find('Grant', 'grant-1', NOW);
    });
    expect(grant).toBeUndefined();
  });

  it('judges expiry at each find’s own now', async () => {
    const seen = await store.withinRequest(async () => {
      await store.find('RefreshToken', 'token-1', NOW);
      return { grant: await store.find('Grant', 'grant-1', later(61)), session: await store.findByUid('Session', 'uid-1', later(61)) };
    });
    expect(seen).toEqual({ grant: undefined, session: undefined });
  });

  it('knows a missing grant is missing for the request, and reads other rows as ever', async () => {
    await deleteElsewhere('Grant', 'grant-1');
    const seen = await store.withinRequest(async () => {
      await store.find('RefreshToken', 'token-1', NOW);
      await query(database.url, "INSERT INTO oidc_payloads (model, id, payload) VALUES ('Grant', 'grant-1', '{}')");
      return { grant: await store.find('Grant', 'grant-1', NOW), session: await store.find('Session', 'session-1', NOW) };
    });
    expect(seen.grant).toBeUndefined();
    expect(seen.session).toMatchObject({ uid: 'uid-1' });
  });
});
