import { createPrismaSessionDeviceRepository, type SessionDeviceRepository } from '../../src/account/session-device-repository.js';
import { createPrismaUserRepository } from '../../src/account/user-repository.js';
import { createConnectionPool, createPrismaClient, type PrismaClient } from '../../src/db/prisma.js';
import { createOidcStore } from '../../src/provider/oidc-store.js';
import { createTestDatabase } from '../support/database.js';

const MINUTE = 60_000;
// A fixed clock: what counts is the distance between sightings, not when the test runs.
const T0 = new Date('2026-12-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

describe('Prisma session device repository', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;
  let devices: SessionDeviceRepository;
  let userId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
    devices = createPrismaSessionDeviceRepository(prisma);
    userId = (await createPrismaUserRepository(prisma).create({ email: 'ada@example.com', passwordHash: 'x' })).id;
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  const sighting = (sessionUid: string, ms: number, ip = '192.0.2.1') => ({ sessionUid, userId, ip, userAgent: 'Firefox', at: at(ms) });

  it('rewrites a session\'s last use at most once a minute, then with its new address', async () => {
    await devices.seen(sighting('uid-a', 0), MINUTE);
    await devices.seen(sighting('uid-a', 59_000, '192.0.2.2'), MINUTE);
    expect(await devices.forUser(userId)).toEqual([{ sessionUid: 'uid-a', ip: '192.0.2.1', userAgent: 'Firefox', createdAt: at(0), lastSeenAt: at(0) }]);

    await devices.seen(sighting('uid-a', MINUTE, '192.0.2.2'), MINUTE);
    expect(await devices.forUser(userId)).toEqual([{ sessionUid: 'uid-a', ip: '192.0.2.2', userAgent: 'Firefox', createdAt: at(0), lastSeenAt: at(MINUTE) }]);
  });

  it("forgets, at a new session's first sighting, the devices of the user's sessions that are gone", async () => {
    const pool = createConnectionPool(database.url, { poolMax: 1 });
    const store = createOidcStore(pool);
    await store.upsert('Session', 'jti-kept', { uid: 'uid-kept', accountId: userId }, undefined);
    await devices.seen(sighting('uid-kept', 0), MINUTE);
    await devices.seen(sighting('uid-gone', 0), MINUTE);

    await devices.seen(sighting('uid-new', 0), MINUTE);

    expect((await devices.forUser(userId)).map((device) => device.sessionUid).sort()).toEqual(['uid-kept', 'uid-new']);
    await pool.end();
  });
});
