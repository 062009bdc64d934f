import { randomUUID } from 'node:crypto';
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';
import type pg from 'pg';
import { createConnectionPool } from '../../src/db/prisma.js';
import { createAdapter } from '../../src/provider/adapter.js';
import { createOidcStore, type OidcStore } from '../../src/provider/oidc-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

/**
 * The adapter contract oidc-provider relies on, run through the adapter against a real PostgreSQL.
 * Time is an injected clock set far from the database's own: any query that judged expiry by
 * PostgreSQL's now() instead of the clock it is given fails here.
 */
describe('oidc-provider adapter over PostgreSQL', () => {
  const START = new Date('2001-02-03T04:05:06.000Z');
  const GRACE = 10;
  let clock: Date;
  const now = () => clock;
  const advance = (seconds: number) => {
    clock = new Date(clock.getTime() + seconds * 1000);
  };
  const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

  let database: TestDatabase;
  // Two pools stand for two Latch processes on one database.
  let pool: pg.Pool;
  let otherPool: pg.Pool;
  let store: OidcStore;
  let Adapter: AdapterConstructor;
  let OtherProcessAdapter: AdapterConstructor;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createConnectionPool(database.url, { poolMax: 2 });
    otherPool = createConnectionPool(database.url, { poolMax: 2 });
    store = createOidcStore(pool, { purgeBatchSize: 2 });
    Adapter = createAdapter(store, { refreshTokenReuseGrace: GRACE, now });
    OtherProcessAdapter = createAdapter(createOidcStore(otherPool), { refreshTokenReuseGrace: GRACE, now });
  });

  beforeEach(async () => {
    clock = START;
    await query(database.url, 'TRUNCATE oidc_payloads');
  });

  afterAll(async () => {
    await pool?.end();
    await otherPool?.end();
    await database?.drop();
  });

  const adapter = (model: string): Adapter => new Adapter(model);
  const id = () => randomUUID();
  const rowCount = async () => Number((await query<{ n: string }>(database.url, 'select count(*) as n from oidc_payloads'))[0]?.n);

  /** Saves a payload the way oidc-provider does and returns its id. */
  async function save(model: string, payload: AdapterPayload, expiresIn: number | 'never' = 3600): Promise<string> {
    const jti = id();
    await adapter(model).upsert(jti, { jti, kind: model, ...payload }, expiresIn === 'never' ? undefined : expiresIn);
    return jti;
  }

  it('finds what it saved, payload intact, and only under its own model', async () => {
    const payload: AdapterPayload = {
      jti: 'round-trip',
      kind: 'AccessToken',
      iat: 981173106,
      exp: 981176706,
      accountId: 'account-1',
      clientId: 'client-1',
      grantId: 'grant-1',
      scope: 'openid email',
      claims: { id_token: { email: null, name: { essential: true } } },
      extra: { nested: [1, 'two', { three: [true, false, null] }], unicode: 'Grüße, 東京 👋', empty: '' },
      expiresWithSession: false,
    };
    await adapter('AccessToken').upsert('round-trip', payload, 60);

    expect(await adapter('AccessToken').find('round-trip')).toEqual(payload);
    expect(await adapter('RefreshToken').find('round-trip')).toBeUndefined();
    expect(await adapter('AccessToken').find('missing')).toBeUndefined();
  });

  it('replaces the payload, its extracted columns and its expiry on upsert', async () => {
    const tokens = adapter('AccessToken');
    await tokens.upsert('replaced', { jti: 'replaced', grantId: 'old-grant', scope: 'openid' }, 60);
    await tokens.upsert('replaced', { jti: 'replaced', grantId: 'new-grant', scope: 'email' }, 3600);

    expect(await tokens.find('replaced')).toEqual({ jti: 'replaced', grantId: 'new-grant', scope: 'email' });
    await tokens.revokeByGrantId('old-grant');
    advance(120);
    expect(await tokens.find('replaced')).toEqual({ jti: 'replaced', grantId: 'new-grant', scope: 'email' });
    expect(await rowCount()).toBe(1);
  });

  it('stops finding a row once the injected clock reaches its expiry, and never when saved without one', async () => {
    const sessions = adapter('Session');
    const codes = adapter('DeviceCode');
    const expiring = await save('AuthorizationCode', {}, 60);
    await sessions.upsert('session', { jti: 'session', uid: 'session-uid' }, 60);
    await codes.upsert('device', { jti: 'device', userCode: 'ABCD-EFGH' }, 60);
    const forever = await save('Client', {}, 'never');

    advance(59);
    expect(await adapter('AuthorizationCode').find(expiring)).toBeDefined();
    expect(await sessions.findByUid('session-uid')).toBeDefined();
    expect(await codes.findByUserCode('ABCD-EFGH')).toBeDefined();

    advance(1);
    expect(await adapter('AuthorizationCode').find(expiring)).toBeUndefined();
    expect(await sessions.find('session')).toBeUndefined();
    expect(await sessions.findByUid('session-uid')).toBeUndefined();
    expect(await codes.findByUserCode('ABCD-EFGH')).toBeUndefined();

    advance(100 * 365 * 86_400);
    expect(await adapter('Client').find(forever)).toEqual({ jti: forever, kind: 'Client' });
  });

  it('consumes at the current time, visibly and at once to another process, keeping the first consumption', async () => {
    const code = await save('AuthorizationCode', { grantId: 'grant-1', scope: 'openid' });
    expect(await adapter('AuthorizationCode').find(code)).not.toHaveProperty('consumed');

    await new OtherProcessAdapter('AuthorizationCode').consume(code);
    const consumedAt = epochSeconds(clock);
    expect(await adapter('AuthorizationCode').find(code)).toEqual({ jti: code, kind: 'AuthorizationCode', grantId: 'grant-1', scope: 'openid', consumed: consumedAt });

    advance(30);
    await adapter('AuthorizationCode').consume(code);
    expect((await new OtherProcessAdapter('AuthorizationCode').find(code))?.consumed).toBe(consumedAt);
    await expect(adapter('AuthorizationCode').consume('missing')).resolves.toBeUndefined();
  });

  it('destroys only the row named', async () => {
    const destroyed = await save('AccessToken', { grantId: 'grant-1' });
    const kept = await save('AccessToken', { grantId: 'grant-1' });
    const sameIdOtherModel = 'shared-id';
    await adapter('AccessToken').upsert(sameIdOtherModel, { jti: sameIdOtherModel }, 60);
    await adapter('RefreshToken').upsert(sameIdOtherModel, { jti: sameIdOtherModel }, 60);

    await adapter('AccessToken').destroy(destroyed);
    await adapter('AccessToken').destroy(sameIdOtherModel);
    await adapter('AccessToken').destroy('missing');

    expect(await adapter('AccessToken').find(destroyed)).toBeUndefined();
    expect(await adapter('AccessToken').find(kept)).toBeDefined();
    expect(await adapter('AccessToken').find(sameIdOtherModel)).toBeUndefined();
    expect(await adapter('RefreshToken').find(sameIdOtherModel)).toBeDefined();
  });

  it("revokes by grant only that model's rows of that grant", async () => {
    const revoked = [await save('AccessToken', { grantId: 'grant-1' }), await save('AccessToken', { grantId: 'grant-1' })];
    const otherGrant = await save('AccessToken', { grantId: 'grant-2' });
    const otherModel = await save('RefreshToken', { grantId: 'grant-1' });

    await adapter('AccessToken').revokeByGrantId('grant-1');

    for (const jti of revoked) expect(await adapter('AccessToken').find(jti)).toBeUndefined();
    expect(await adapter('AccessToken').find(otherGrant)).toBeDefined();
    expect(await adapter('RefreshToken').find(otherModel)).toBeDefined();
  });

  it('revokes a whole grant: the Grant row and every row of every model that belongs to it, and nothing else', async () => {
    const grant = await save('Grant', { accountId: 'alice', clientId: 'app' });
    const belonging = [await save('AccessToken', { grantId: grant }), await save('RefreshToken', { grantId: grant }), await save('AuthorizationCode', { grantId: grant })];
    const otherGrant = await save('Grant', { accountId: 'alice', clientId: 'app' });
    const otherToken = await save('RefreshToken', { grantId: otherGrant });

    expect(await store.revokeGrant(grant)).toBe(4);

    expect(await adapter('Grant').find(grant)).toBeUndefined();
    for (const [index, model] of ['AccessToken', 'RefreshToken', 'AuthorizationCode'].entries()) expect(await adapter(model).find(belonging[index] as string)).toBeUndefined();
    expect(await adapter('Grant').find(otherGrant)).toBeDefined();
    expect(await adapter('RefreshToken').find(otherToken)).toBeDefined();
  });

  it("lists an account's rows of a model not expired at the given time, and no other account's or model's", async () => {
    const kept = await save('Session', { accountId: 'alice', uid: 'u1' }, 'never');
    const expiring = await save('Session', { accountId: 'alice', uid: 'u2' }, 10);
    await save('Session', { accountId: 'bob', uid: 'u3' });
    await save('Grant', { accountId: 'alice' });

    expect((await store.listByAccountId('Session', 'alice', now())).map((payload) => payload.jti).sort()).toEqual([kept, expiring].sort());
    advance(10);
    expect((await store.listByAccountId('Session', 'alice', now())).map((payload) => payload.jti)).toEqual([kept]);
  });

  it('finds a session by its uid, and only a session', async () => {
    const session = await save('Session', { uid: 'uid-1', accountId: 'account-1', authorizations: { 'client-1': { sid: 'sid-1', grantId: 'grant-1' } } });
    await save('Interaction', { uid: 'uid-2' });

    expect(await adapter('Session').findByUid('uid-1')).toEqual({
      jti: session,
      kind: 'Session',
      uid: 'uid-1',
      accountId: 'account-1',
      authorizations: { 'client-1': { sid: 'sid-1', grantId: 'grant-1' } },
    });
    expect(await adapter('Session').findByUid('uid-2')).toBeUndefined();
    expect(await adapter('Session').findByUid('missing')).toBeUndefined();
  });

  it('finds a device code by its user code, and only a device code', async () => {
    const deviceCode = await save('DeviceCode', { userCode: 'WDJB-MJHT', clientId: 'tv' });
    await save('Interaction', { userCode: 'BCDF-GHJK' });

    expect(await adapter('DeviceCode').findByUserCode('WDJB-MJHT')).toEqual({ jti: deviceCode, kind: 'DeviceCode', userCode: 'WDJB-MJHT', clientId: 'tv' });
    expect(await adapter('DeviceCode').findByUserCode('BCDF-GHJK')).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode('missing')).toBeUndefined();
  });

  describe('account-wide revocation', () => {
    /** One grant's worth of rows for an account: the Grant itself and its codes and tokens. */
    async function grantRows(accountId: string, grantId: string) {
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'client-1' }, 3600);
      return [
        ['Grant', grantId],
        ['AuthorizationCode', await save('AuthorizationCode', { accountId, grantId })],
        ['AccessToken', await save('AccessToken', { accountId, grantId })],
        ['RefreshToken', await save('RefreshToken', { accountId, grantId })],
      ] as const;
    }

    async function present(rows: readonly (readonly [string, string])[]) {
      return Promise.all(rows.map(async ([model, jti]) => (await adapter(model).find(jti)) !== undefined));
    }

    it('deletes every row of the account, of every model, and reports how many', async () => {
      const session = ['Session', await save('Session', { accountId: 'alice', uid: 'alice-session' })] as const;
      const alice = [session, ...(await grantRows('alice', 'alice-grant-1')), ...(await grantRows('alice', 'alice-grant-2'))];
      const bob = [['Session', await save('Session', { accountId: 'bob', uid: 'bob-session' })] as const, ...(await grantRows('bob', 'bob-grant'))];
      const client = [['Client', await save('Client', { client_id: 'client-1' }, 'never')] as const];

      expect(await store.revokeByAccountId('alice')).toBe(alice.length);

      expect(await present(alice)).toEqual(alice.map(() => false));
      expect(await present([...bob, ...client])).toEqual([...bob, ...client].map(() => true));
    });

    it('keeps the grant given and its rows, and deletes the rest, sessions included', async () => {
      const session = ['Session', await save('Session', { accountId: 'alice', uid: 'alice-session' })] as const;
      const kept = await grantRows('alice', 'alice-current');
      const revoked = [session, ...(await grantRows('alice', 'alice-other'))];
      const bob = await grantRows('bob', 'alice-current-lookalike');

      expect(await store.revokeByAccountId('alice', { exceptGrantId: 'alice-current' })).toBe(revoked.length);

      expect(await present(kept)).toEqual(kept.map(() => true));
      expect(await present(revoked)).toEqual(revoked.map(() => false));
      expect(await present(bob)).toEqual(bob.map(() => true));
    });

    it('also keeps the session given by uid, and only that session: its other grants go', async () => {
      const currentSession = ['Session', await save('Session', { accountId: 'alice', uid: 'alice-current-session' })] as const;
      const otherSession = ['Session', await save('Session', { accountId: 'alice', uid: 'alice-other-session' })] as const;
      const bobSession = ['Session', await save('Session', { accountId: 'bob', uid: 'alice-current-session' })] as const;
      const kept = [currentSession, ...(await grantRows('alice', 'alice-current'))];
      const revoked = [otherSession, ...(await grantRows('alice', 'alice-other'))];

      expect(await store.revokeByAccountId('alice', { exceptGrantId: 'alice-current', exceptSessionUid: 'alice-current-session' })).toBe(revoked.length);

      expect(await present(kept)).toEqual(kept.map(() => true));
      expect(await present(revoked)).toEqual(revoked.map(() => false));
      expect(await present([bobSession])).toEqual([true]);
    });
  });

  it('revokes by client every row issued to it, of every model, and never the Client row itself', async () => {
    const client = ['Client', await save('Client', { client_id: 'client-1' }, 'never')] as const;
    const issued = [
      ['Grant', await save('Grant', { accountId: 'alice', clientId: 'client-1' })],
      ['AccessToken', await save('AccessToken', { accountId: 'alice', clientId: 'client-1', grantId: 'g' })],
      ['ClientCredentials', await save('ClientCredentials', { clientId: 'client-1' })],
      ['RegistrationAccessToken', await save('RegistrationAccessToken', { clientId: 'client-1' })],
    ] as const;
    const others = [['Grant', await save('Grant', { accountId: 'alice', clientId: 'client-10' })]] as const;
    const present = (rows: readonly (readonly [string, string])[]) => Promise.all(rows.map(async ([model, jti]) => (await adapter(model).find(jti)) !== undefined));

    expect(await store.revokeByClientId('client-1')).toBe(issued.length);

    expect(await present(issued)).toEqual(issued.map(() => false));
    expect(await present([client, ...others])).toEqual([true, true]);
  });

  it("lists a model's rows not expired at the given time, and no other model's", async () => {
    const kept = await save('Client', { client_id: 'b' }, 'never');
    const expiring = await save('Client', { client_id: 'a' }, 10);
    await save('Grant', { accountId: 'alice' });

    expect((await store.list('Client', now())).map((payload) => payload.jti).sort()).toEqual([kept, expiring].sort());
    advance(10);
    expect((await store.list('Client', now())).map((payload) => payload.jti)).toEqual([kept]);
  });

  it('purges the rows expired at the given time, in batches, and nothing else', async () => {
    const expired = await Promise.all([1, 2, 3, 4, 5].map(() => save('AccessToken', {}, 60)));
    const live = await save('AccessToken', {}, 61);
    const forever = await save('Client', {}, 'never');
    advance(60);

    // The store under test purges two rows per statement.
    expect(await store.purgeExpired(clock)).toBe(expired.length);

    expect(await rowCount()).toBe(2);
    expect(await adapter('AccessToken').find(live)).toBeDefined();
    expect(await adapter('Client').find(forever)).toBeDefined();
    expect(await store.purgeExpired(clock)).toBe(0);
  });

  describe('refresh token reuse grace', () => {
    it(`answers a refresh token consumed less than the grace ago as unconsumed`, async () => {
      const token = await save('RefreshToken', { grantId: 'grant-1' });
      await adapter('RefreshToken').consume(token);

      advance(GRACE - 1);
      expect(await new OtherProcessAdapter('RefreshToken').find(token)).toEqual({ jti: token, kind: 'RefreshToken', grantId: 'grant-1' });
    });

    it('answers it consumed once the grace has run from the first consumption', async () => {
      const token = await save('RefreshToken', { grantId: 'grant-1' });
      const firstConsumption = epochSeconds(clock);
      await adapter('RefreshToken').consume(token);
      advance(GRACE - 1);
      // Reused inside the grace, the token is rotated (consumed) again; that must not extend the window.
      await adapter('RefreshToken').consume(token);

      advance(1);
      expect(await adapter('RefreshToken').find(token)).toEqual({ jti: token, kind: 'RefreshToken', grantId: 'grant-1', consumed: firstConsumption });
    });

    it('answers it consumed at once when the grace is 0, even to a process whose clock runs behind', async () => {
      const NoGrace = createAdapter(store, { refreshTokenReuseGrace: 0, now });
      const token = await save('RefreshToken', { grantId: 'grant-1' });
      const consumedAt = epochSeconds(clock);
      await new NoGrace('RefreshToken').consume(token);

      expect((await new NoGrace('RefreshToken').find(token))?.consumed).toBe(consumedAt);
      advance(-2);
      expect((await new NoGrace('RefreshToken').find(token))?.consumed).toBe(consumedAt);
    });

    it('leaves every other consumable, an authorization code say, consumed at once', async () => {
      const code = await save('AuthorizationCode', {});
      await adapter('AuthorizationCode').consume(code);

      expect((await adapter('AuthorizationCode').find(code))?.consumed).toBe(epochSeconds(clock));
    });
  });
});
